import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { Socket } from 'node:net';
import type { CheckInAnswer } from '../../../core/application/imaging-commands.ts';
import type { CommandMeta } from '../../../core/application/command-runner.ts';
import { revisionOf } from '../../../core/images/image-revisions.ts';
import { checkProgressFigures } from '../../../core/tasks/client-reports.ts';
import { parseMac } from '../../../core/hosts/mac-address.ts';
import { BOOT_CLIENT_ACTOR } from '../../../core/shared/event.ts';
import { ImageStoreError } from '../../image-store/image-store.ts';
import { neighbourTable } from '../../boot/neighbour-table.ts';
import type { Brume } from '../../runtime/brume.ts';
import type { RouteModule } from '../context.ts';
import { fromDomainError, HttpError } from '../errors.ts';
import {
  AfterTaskAnswer, CaptureFileReceived, CheckInAnswer as CheckInAnswerSchema, DeployManifest, Empty, ProgressAnswer,
} from '../response-schemas/client.ts';
import { replies } from '../response-schemas/index.ts';
import type { Schema } from '../response-schemas/schema-kit.ts';

/** How often a waiting client polls and a working one reports, in seconds. */
const POLL_SECONDS = 5;
const PROGRESS_SECONDS = 3;

interface ClientCall {
  taskId: string;
  mac: string;
  /** Set when the token was the last one of a task that has since ended. */
  ended: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    clientCall: ClientCall | null;
  }
}

const clientDoc = (summary: string) => ({ tags: ['client'], summary, security: [{ bearer: [] }] });

/** Every client call can be refused: no or a wrong token (401), a MAC not the task's host's (403). */
const refusals = { 401: 'no token, or not this task\'s', 403: 'the MAC is not one of the task\'s host\'s' };

/** A deploy file: the bytes themselves (206 for a Range). */
const fileBytes: Schema = { description: 'the file (sha256 in X-Brume-Sha256)', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } };

function metaFor(call: ClientCall, reason?: string): CommandMeta {
  // Everything a client does for a task is correlated with the task, so an auditor can follow it.
  return { actor: BOOT_CLIENT_ACTOR, commandId: randomUUID(), correlationId: call.taskId, causationId: call.taskId, ...(reason ? { reason } : {}) };
}

/**
 * Who may call: the bearer of the task's current boot token, from one of
 * the task's host's MACs (and, when the neighbour table knows the source
 * address, from that MAC). Everything else is refused and logged without
 * the token.
 */
function clientAuth(brume: Brume, macOfAddress: (ip: string) => string | null) {
  return async (request: FastifyRequest<{ Params: { taskId: string } }>) => {
    const { taskId } = request.params;
    const refuse = (status: 401 | 403, why: string): never => {
      request.log.warn({ taskId, ip: request.ip, mac: request.headers['x-brume-mac'] }, `client call refused: ${why}`);
      throw new HttpError(status, status === 401 ? 'unauthorized' : 'forbidden', why);
    };
    const auth = request.headers.authorization ?? '';
    const token = /^Bearer ([A-Za-z0-9_-]{8,200})$/.exec(auth)?.[1];
    if (!token) refuse(401, 'send the task token from the kernel command line as "Authorization: Bearer <token>"');
    const verified = brume.bootTokens.verify(taskId, token!);
    let ended: string | null = null;
    if (!verified.ok) {
      const endedTask = verified.reason === 'task-ended' ? brume.bootTokens.wasTokenOfEndedTask(taskId, token!) : null;
      if (!endedTask) refuse(401, verified.reason === 'task-ended' ? `task ${taskId} is not active` : 'the token is not this task\'s');
      ended = endedTask!.status;
    }
    const parsed = parseMac(String(request.headers['x-brume-mac'] ?? ''));
    if (!parsed.ok) return refuse(403, 'send the booted NIC\'s MAC address in X-Brume-Mac');
    const mac = parsed.value;
    const hostId = brume.bootIndex.hostOfTask(taskId);
    if (!hostId || !brume.bootIndex.hostHasMac(hostId, mac)) refuse(403, `MAC ${mac} is not a MAC of task ${taskId}'s host`);
    const seen = macOfAddress(request.ip);
    if (seen && seen !== mac) refuse(403, `the request came from ${request.ip}, which is ${seen}, not ${mac}`);
    request.clientCall = { taskId, mac: mac, ended };
  };
}

const callOf = (request: FastifyRequest): ClientCall => request.clientCall!;

/** Turns a refused command into the HTTP error the client reads. */
function unwrap<T>(outcome: { ok: true; value: T } | { ok: false; error: Parameters<typeof fromDomainError>[0] }): T {
  if (!outcome.ok) throw fromDomainError(outcome.error);
  return outcome.value;
}

function storeError(error: unknown): never {
  if (error instanceof ImageStoreError) {
    const status = { validation: 400, 'not-found': 404, mismatch: 422, aborted: 400 }[error.code];
    throw new HttpError(status, error.code, error.message);
  }
  throw error;
}

/** `bytes=N-` or `bytes=N-M` within `size`; anything else is ignored (whole file) or refused (416). */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!m) return null;
  const start = Number(m[1]);
  const end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/**
 * The booted client's API (docs/client-protocol.md): check in and wait for
 * a slot, fetch the image to deploy (with Range), send a capture, report
 * progress, inventory, completion or failure. Authorised by the task's boot
 * token, not by a user.
 */
export const clientTaskRoutes: RouteModule = (api, { brume }) => {
  const macOfAddress = neighbourTable();
  /** Deploy files being sent by this process right now (the rest go through file senders). */
  let sendingHere = 0;
  api.register(async (client: FastifyInstance) => {
    client.decorateRequest('clientCall', null);
    // Capture files stream straight to the image store: no body parsing, no size limit but the disk's.
    // JSON bodies keep fastify's parser.
    client.addContentTypeParser('*', (_request, _payload, done) => done(null));
    client.addHook('onRequest', clientAuth(brume, macOfAddress));
    const base = '/api/client/v1/tasks/:taskId';
    // Ids are checked by the token lookup: a stranger learns nothing, not even which ids are well-formed.
    const params = { type: 'object', properties: { taskId: { type: 'string', maxLength: 80 } }, required: ['taskId'] };
    const publicRoute = (summary: string, answers: Record<number, Schema>, errors: Record<number, string> = {}, extra: object = {}) => ({
      config: { access: 'public' as const },
      schema: { ...clientDoc(summary), params, response: replies(answers, { ...refusals, ...errors }), ...extra },
    });
    const fileName = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' };
    const fileParams = { params: { type: 'object', properties: { taskId: { type: 'string' }, name: fileName }, required: ['taskId', 'name'] } };

    const stopAnswer = (call: ClientCall) => ({ action: 'stop' as const, reason: `task is ${call.ended}` });

    async function describe(taskId: string) {
      const task = await brume.commands.imaging.describe(taskId);
      if (!task) throw new HttpError(404, 'not-found', `task ${taskId} does not exist`);
      return task;
    }

    async function goAnswer(taskId: string, answer: Extract<CheckInAnswer, { action: 'go' }>) {
      const task = await describe(taskId);
      const image = task.image?.image.status === 'active' ? task.image.image : null;
      const direction = task.type?.direction ?? null;
      const manifest = direction === 'down' && answer.imageRevision !== null ? await deployManifest(taskId) : null;
      return {
        action: 'go' as const,
        resumed: answer.resumed,
        task: {
          taskId, type: task.type?.slug ?? String(task.context.typeId), direction, debug: task.type?.debug ?? false,
          imageId: task.context.imageId ?? null, imageName: image?.name ?? null, imageType: image?.type ?? null,
          compression: image?.compression ?? null, imageRevision: answer.imageRevision,
          afterTask: task.context.options?.afterTask ?? 'reboot',
        },
        image: manifest,
        progressSeconds: PROGRESS_SECONDS,
      };
    }

    /** The manifest of the revision the deploy was pinned to when it started. */
    async function deployManifest(taskId: string) {
      const task = await describe(taskId);
      if (task.type?.direction !== 'down' || task.status !== 'in-progress' || task.context.imageRevision === null || !task.image) {
        throw new HttpError(409, 'conflict', `task ${taskId} is not a deploy in progress`);
      }
      const revision = revisionOf(task.image, task.context.imageRevision);
      if (!revision?.capturedByTaskId) throw new HttpError(404, 'not-found', `revision ${task.context.imageRevision} of the image is not in the store`);
      const manifest = await brume.imageStore.manifest(task.context.imageId!, revision.capturedByTaskId).catch(storeError);
      return { ...manifest, revision: revision.revision, imageId: task.context.imageId!, capturedByTaskId: revision.capturedByTaskId };
    }

    client.post<{ Params: { taskId: string } }>(`${base}/check-in`, publicRoute('Check in; poll until told to go', { 200: CheckInAnswerSchema }), async (request) => {
      const call = callOf(request);
      if (call.ended) return stopAnswer(call);
      const answer = unwrap(await brume.commands.imaging.checkIn(metaFor(call, 'client checked in'), call.taskId, new Date()));
      if (answer.action === 'wait') return { action: 'wait', ahead: answer.ahead, message: answer.message, pollSeconds: POLL_SECONDS };
      if (answer.action === 'stop') return answer;
      return goAnswer(call.taskId, answer);
    });

    const manifestRoute = publicRoute('The manifest of the image revision being deployed', { 200: DeployManifest }, { 409: 'the task is not a deploy in progress' });
    client.get<{ Params: { taskId: string } }>(`${base}/image/manifest`, manifestRoute, async (request) => deployManifest(callOf(request).taskId));

    client.get<{ Params: { taskId: string; name: string } }>(`${base}/image/files/:name`, publicRoute('A file of the image being deployed (Range supported)', { 200: fileBytes, 206: fileBytes }, {
      404: 'the image has no such file', 409: 'the task is not a deploy in progress', 416: 'the range is beyond the file',
    }, fileParams), async (request, reply) => {
      const call = callOf(request);
      if (call.ended) throw new HttpError(409, 'conflict', `task is ${call.ended}`);
      const manifest = await deployManifest(call.taskId);
      const listed = manifest.files.find((f) => f.name === request.params.name);
      if (!listed) throw new HttpError(404, 'not-found', `the image has no file ${request.params.name}`);
      const range = parseRange(request.headers.range, listed.sizeBytes);
      if (range === 'unsatisfiable') {
        return reply.code(416).header('content-range', `bytes */${listed.sizeBytes}`).send({ error: 'range', message: `the file has ${listed.sizeBytes} bytes` });
      }
      const reader = await brume.imageStore.open(manifest.imageId, manifest.capturedByTaskId, listed.name, range ?? undefined).catch(storeError);
      reply.header('content-type', 'application/octet-stream').header('accept-ranges', 'bytes')
        .header('x-brume-sha256', listed.sha256).header('cache-control', 'no-store');
      if (range) {
        reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${listed.sizeBytes}`).header('content-length', range.end - range.start + 1);
      } else {
        reply.header('content-length', listed.sizeBytes);
      }
      const socket = request.raw.socket as Socket & { _handle?: unknown };
      if (brume.fileSenders.enabled && sendingHere >= brume.imaging.localFileTransfers && socket instanceof Socket && socket._handle && reader.length > 0) {
        // One file at a time goes out from here (fastest for a lone client); with more, a sender process
        // takes the connection over and sends the file on another core.
        await reader.close();
        reply.header('connection', 'close').header('date', new Date().toUTCString());
        const head = `HTTP/1.1 ${reply.statusCode} ${STATUS_CODES[reply.statusCode]}\r\n${
          Object.entries(reply.getHeaders()).map(([name, value]) => `${name}: ${String(value)}\r\n`).join('')}\r\n`;
        reply.hijack();
        await brume.fileSenders.send(socket, { path: reader.path, start: reader.start, end: reader.end, head }).catch((error: Error) => {
          request.log.warn({ taskId: call.taskId, file: listed.name }, `sending the file stopped: ${error.message}`);
        });
        return reply;
      }
      // The file is written straight to the response, each buffer reused once the socket has its bytes
      // (ImageFileReader): fastify's reply.send(stream) would allocate a new buffer per chunk.
      let begun = false;
      sendingHere++;
      try {
        await reader.writeTo(reply.raw, () => {
          begun = true;
          reply.hijack();
          for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value);
          reply.raw.writeHead(reply.statusCode);
        });
      } catch (error) {
        // Before the first byte, fastify answers with the error, as it did for a stream that failed at once.
        if (!begun) storeError(error);
        // After it, the same as fastify does for a streamed reply cut off: log, and cut the connection.
        if (error instanceof ImageStoreError && error.code === 'aborted') request.log.info({ res: reply }, 'stream closed prematurely');
        else request.log.warn({ err: error }, 'response terminated with an error with headers already sent');
        reply.raw.destroy();
      } finally {
        sendingHere--;
        await reader.close();
      }
      return reply;
    });

    client.put<{ Params: { taskId: string; name: string } }>(`${base}/capture/files/:name`, publicRoute('Send one file of a capture', { 200: CaptureFileReceived }, {
      400: 'the upload was cut off', 409: 'the task is not a capture in progress',
    }, fileParams), async (request) => {
      const call = callOf(request);
      if (call.ended) throw new HttpError(409, 'conflict', `task is ${call.ended}`);
      const task = await describe(call.taskId);
      if (task.type?.direction !== 'up' || task.status !== 'in-progress') throw new HttpError(409, 'conflict', `task ${call.taskId} is not a capture in progress`);
      const length = request.headers['content-length'] ? Number(request.headers['content-length']) : undefined;
      // Node keeps a half-closed connection open waiting for the rest of the body; a client that sent its
      // FIN before the last byte (its machine died, its curl was killed) has cut the upload off.
      const socket = request.raw.socket;
      const cutOff = () => { if (!request.raw.complete) request.raw.destroy(new Error('the client closed the connection before the end of the file')); };
      socket.once('end', cutOff);
      return brume.imageStore.receive(task.context.imageId!, call.taskId, request.params.name, request.raw, length)
        .catch((error: unknown) => {
          if (error instanceof ImageStoreError && error.code === 'aborted') {
            request.log.warn({ taskId: call.taskId }, error.message);
            brume.progressBoard.note(call.taskId, error.message);
          }
          return storeError(error);
        }).finally(() => socket.off('end', cutOff));
    });

    const progressRoute = publicRoute('Report progress; the answer says whether to go on', { 200: ProgressAnswer });
    client.post<{ Params: { taskId: string }; Body: Record<string, unknown> }>(`${base}/progress`, progressRoute, async (request) => {
      const call = callOf(request);
      if (call.ended) return stopAnswer(call);
      const body = jsonBody(request);
      // Checked here, not only when the board writes an event: the reports in between are what the API shows.
      unwrap(checkProgressFigures(body));
      const outcome = await brume.progressBoard.report(call.taskId, {
        bytesDone: body.bytesDone as number, bytesTotal: body.bytesTotal as number,
        rateBytesPerSecond: body.rateBytesPerSecond as number, partition: typeof body.partition === 'string' ? body.partition.slice(0, 40) : null,
      });
      if (outcome.written && !outcome.outcome.ok) {
        if (outcome.outcome.error.code !== 'conflict') throw fromDomainError(outcome.outcome.error);
        const task = await describe(call.taskId);
        if (task.status !== 'in-progress') return { action: 'stop', reason: `task is ${task.status}` };
      }
      return { action: 'continue' };
    });

    client.post<{ Params: { taskId: string } }>(`${base}/inventory`, publicRoute('Report the machine\'s hardware', { 200: Empty }), async (request) => {
      const call = callOf(request);
      const hostId = brume.bootIndex.hostOfTask(call.taskId)!;
      unwrap(await brume.commands.hosts.reportInventory(metaFor(call, 'inventory from the boot environment'), hostId, jsonBody(request)));
      return {};
    });

    const completeRoute = publicRoute('The task is done (a capture sends its manifest)', { 200: AfterTaskAnswer }, {
      409: 'the task has ended', 422: 'the manifest does not match the files received',
    });
    client.post<{ Params: { taskId: string } }>(`${base}/complete`, completeRoute, async (request) => {
      const call = callOf(request);
      if (call.ended) throw new HttpError(409, 'conflict', `task is ${call.ended}`);
      const task = await describe(call.taskId);
      const afterTask = task.context.options?.afterTask ?? 'reboot';
      const meta = metaFor(call, 'client finished');
      if (task.type?.direction === 'up') {
        const body = jsonBody(request);
        const imageId = task.context.imageId!;
        if (task.status !== 'in-progress') throw new HttpError(409, 'conflict', `task ${call.taskId} is ${task.status}`);
        const committed = await brume.imageStore.commit(imageId, call.taskId, body.manifest).catch(storeError);
        const outcome = await brume.commands.imaging.commitCapture(meta, call.taskId, committed);
        unwrap(outcome);
      } else if (task.type?.direction === 'down') {
        unwrap(await brume.commands.tasks.complete(meta, call.taskId, { imageId: task.context.imageId!, revision: task.context.imageRevision! }));
      } else {
        unwrap(await brume.commands.tasks.complete(meta, call.taskId));
      }
      brume.progressBoard.forget(call.taskId);
      return { afterTask };
    });

    const failRoute = publicRoute('The task failed: why, the command and its output', { 200: AfterTaskAnswer });
    client.post<{ Params: { taskId: string } }>(`${base}/fail`, failRoute, async (request) => {
      const call = callOf(request);
      const task = await describe(call.taskId);
      const afterTask = task.context.options?.afterTask ?? 'reboot';
      if (call.ended) return { afterTask };
      const body = jsonBody(request);
      unwrap(await brume.commands.tasks.fail(metaFor(call, 'client reported a failure'), call.taskId, {
        reason: body.reason, command: typeof body.command === 'string' ? body.command.slice(0, 2000) : null,
        output: typeof body.output === 'string' ? body.output : null,
      }));
      if (task.type?.direction === 'up' && task.context.imageId) await brume.imageStore.discard(task.context.imageId, call.taskId);
      brume.progressBoard.forget(call.taskId);
      return { afterTask };
    });
  });
};

/** JSON calls are parsed by fastify's JSON parser (1 MB limit); anything else here must be a JSON object too. */
function jsonBody(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'validation', 'the body must be a JSON object (Content-Type: application/json)');
  return body as Record<string, unknown>;
}
