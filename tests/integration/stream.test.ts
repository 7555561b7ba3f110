import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../adapters/http/app.ts';
import { ref } from '../../adapters/http/response-schemas/schema-kit.ts';
import { STREAM_EVENTS } from '../../adapters/http/response-schemas/stream.ts';
import { MAX_CATCH_UP, MAX_STREAMS } from '../../adapters/http/routes/stream.ts';
import { ResponseChecker } from '../../adapters/http/strict-responses.ts';
import { openApiHarness, TEST_HTTP_CONFIG, type ApiHarness } from '../../adapters/http/testing.ts';
import { commandMeta, openBrume } from '../../adapters/runtime/brume.ts';
import { BACKENDS, freshDatabase } from '../support/databases.ts';
import { must } from '../support/scenario.ts';

interface Frame {
  id?: string;
  event: string;
  data: any;
}

const checker = new ResponseChecker();
const FRAME_SCHEMAS = Object.fromEntries(Object.entries(STREAM_EVENTS).map(([event, schema]) => [event, ref(schema)]));

/** What is wrong with a frame's data, by the schema the API documents for its event (every frame is checked). */
function frameProblems(frame: Frame): string {
  const schema = FRAME_SCHEMAS[frame.event];
  if (!schema) return `event ${frame.event} has no documented schema`;
  const problems = checker.problems(schema, frame.data);
  return problems && `event ${frame.event} does not match its schema: ${problems}`;
}

/** A real HTTP client reading Server-Sent Events, frame by frame, as an EventSource would. */
class SseClient {
  readonly frames: Frame[] = [];
  private buffer = '';
  private notify: (() => void) | undefined;
  /** Frames whose data the documented schemas do not describe. */
  readonly problems: string[] = [];
  ended = false;

  private constructor(readonly response: IncomingMessage, readonly body: string) {}

  static open(url: string, headers: Record<string, string>): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { headers: { accept: 'text/event-stream', ...headers } }, (response) => {
        response.setEncoding('utf8');
        if (response.statusCode !== 200) {
          let body = '';
          response.on('data', (chunk: string) => { body += chunk; });
          response.on('end', () => resolve(new SseClient(response, body)));
          return;
        }
        const client = new SseClient(response, '');
        response.on('data', (chunk: string) => client.take(chunk));
        response.on('end', () => { client.ended = true; client.notify?.(); });
        response.on('error', () => { client.ended = true; client.notify?.(); });
        resolve(client);
      });
      req.on('error', reject);
      req.end();
    });
  }

  private take(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const frame: Partial<Frame> & { lines: string[] } = { lines: [] };
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const [field, ...rest] = line.split(':');
        const value = rest.join(':').replace(/^ /, '');
        if (field === 'id') frame.id = value;
        else if (field === 'event') frame.event = value;
        else if (field === 'data') frame.lines.push(value);
      }
      if (!frame.event) continue;
      const parsed = { id: frame.id, event: frame.event, data: JSON.parse(frame.lines.join('\n')) } as Frame;
      this.frames.push(parsed);
      const problems = frameProblems(parsed);
      if (problems) this.problems.push(problems);
    }
    this.notify?.();
  }

  /** Waits for the first frame (after `from`) that matches; returns its index. */
  async waitFor(match: (frame: Frame) => boolean, from = 0, timeoutMs = 8000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.problems.length > 0) throw new Error(this.problems.join('\n'));
      const index = this.frames.findIndex((f, i) => i >= from && match(f));
      if (index >= 0) return index;
      if (this.ended) throw new Error(`stream ended; frames: ${JSON.stringify(this.frames).slice(0, 2000)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame in ${timeoutMs} ms; frames: ${JSON.stringify(this.frames).slice(0, 2000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.notify = () => { clearTimeout(timer); resolve(); };
      });
    }
  }

  events(type?: string): Frame[] {
    return this.frames.filter((f) => f.event === 'brume' && (!type || f.data.type === type));
  }

  close(): void {
    this.response.destroy();
  }
}

describe.each(BACKENDS)('the live stream (GET /api/stream) on $backend', ({ backend, skip }) => {
  let api: ApiHarness;
  let databaseUrl: string | undefined;
  let base: string;
  let auth: Record<string, string>;
  const meta = () => commandMeta('tester');
  const open = (query = '', headers: Record<string, string> = {}) => SseClient.open(`${base}/api/stream${query}`, { ...auth, ...headers });
  let hostCount = 0;
  const registerHost = async () => {
    hostCount++;
    return must(await api.brume.commands.hosts.register(meta(), { name: `stream-${hostCount}`, macs: [`52:54:00:5e:00:${hostCount.toString(16).padStart(2, '0')}`] }));
  };

  beforeAll(async () => {
    if (skip) return;
    const database = backend === 'postgres' ? await freshDatabase('postgres') : undefined;
    databaseUrl = database?.url;
    api = await openApiHarness(database ?? {});
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
    auth = { authorization: `Bearer ${api.tokens.auditor}` };
  });
  afterAll(() => api?.close());

  it.skipIf(skip)('given no credential, when a client connects, then it gets a JSON 401 and no stream', async () => {
    const anonymous = await SseClient.open(`${base}/api/stream`, {});
    expect(anonymous.response.statusCode).toBe(401);
    expect(JSON.parse(anonymous.body)).toMatchObject({ error: 'unauthorized' });
  });

  it.skipIf(skip)('given streams signed in by session and by token, when the session signs out and the token is revoked, then each stream ends with signed-out within seconds', async () => {
    const login = await api.as('anonymous').post('/api/auth/login', { username: 'auditor', password: 'auditor-password-1' });
    expect(login.status, login.text).toBe(200);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const bySession = await SseClient.open(`${base}/api/stream`, { cookie });
    await bySession.waitFor((f) => f.event === 'ready');
    const issued = (await api.as('auditor').post('/api/tokens', { name: 'stream-test' })).body;
    const byToken = await SseClient.open(`${base}/api/stream`, { authorization: `Bearer ${issued.token}` });
    await byToken.waitFor((f) => f.event === 'ready');
    const untouched = await open();
    await untouched.waitFor((f) => f.event === 'ready');

    const logout = await api.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie } });
    expect(logout.statusCode).toBeLessThan(300);
    await bySession.waitFor((f) => f.event === 'signed-out', 0, 8000);
    const revoked = await api.as('auditor').delete(`/api/tokens/${issued.id}`);
    expect(revoked.status, revoked.text).toBeLessThan(300);
    await byToken.waitFor((f) => f.event === 'signed-out', 0, 8000);
    for (const client of [bySession, byToken]) {
      await expect.poll(() => client.ended, { timeout: 2000 }).toBe(true);
    }
    // A stream whose credential is still good goes on.
    expect(untouched.ended).toBe(false);
    expect(untouched.frames.some((f) => f.event === 'signed-out')).toBe(false);
    untouched.close();
  }, 30_000);

  it.skipIf(skip)('given a connected client, when commands append events, then each arrives once, in order, with its position as id, after the read models have it', async () => {
    const client = await open();
    expect(client.response.headers['content-type']).toMatch(/^text\/event-stream/);
    const ready = client.frames[await client.waitFor((f) => f.event === 'ready')]!;
    expect(ready.id).toBe(String(ready.data.position));

    const first = await registerHost();
    const second = await registerHost();
    const image = must(await api.brume.commands.images.create(meta(), { name: 'stream-image' }));
    await client.waitFor((f) => f.event === 'brume' && f.data.type === 'ImageCreated');
    const events = client.events();
    expect(events.map((f) => f.data.type)).toEqual(['HostRegistered', 'HostRegistered', 'ImageCreated']);
    expect(events.map((f) => f.data.streamId)).toEqual([`host-${first.hostId}`, `host-${second.hostId}`, `image-${image.id}`]);
    for (const frame of events) {
      expect(frame.id).toBe(String(frame.data.position));
      expect(frame.data).toMatchObject({ actor: 'tester', occurredAt: expect.any(String), data: expect.any(Object) });
      expect(frame.data.position).toBeGreaterThan(ready.data.position);
    }
    const positions = events.map((f) => f.data.position);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    // Sent only once the read models had it: the list answers with the new host straight away.
    const listed = await api.as('auditor').get(`/api/hosts/${second.hostId}`);
    expect(listed.status).toBe(200);
    client.close();
  });

  it.skipIf(skip)('given a client that lost its connection, when it reconnects with Last-Event-ID, then it gets exactly what it missed, in order', async () => {
    const client = await open();
    await client.waitFor((f) => f.event === 'ready');
    await registerHost();
    const seen = client.frames[await client.waitFor((f) => f.event === 'brume')]!;
    client.close();

    const missed = [await registerHost(), await registerHost()];
    const resumed = await open('', { 'last-event-id': seen.id! });
    const ready = resumed.frames[await resumed.waitFor((f) => f.event === 'ready')]!;
    expect(ready.data.position).toBe(Number(seen.id));
    await resumed.waitFor((f) => f.event === 'brume' && f.data.streamId === `host-${missed[1]!.hostId}`);
    expect(resumed.events().map((f) => f.data.streamId)).toEqual(missed.map((h) => `host-${h.hostId}`));
    // And it stays live after catching up.
    const later = await registerHost();
    await resumed.waitFor((f) => f.event === 'brume' && f.data.streamId === `host-${later.hostId}`);
    expect(resumed.events()).toHaveLength(3);
    resumed.close();

    // ?after does the same for a client that remembers a position itself; Last-Event-ID wins over it.
    const fromQuery = await open(`?after=${seen.id}`, { 'x-brume-stream': 'once' });
    await fromQuery.waitFor(() => false, 0, 3000).catch(() => {});
    expect(fromQuery.ended).toBe(true);
    expect(fromQuery.events().map((f) => f.data.streamId)).toEqual([...missed, later].map((h) => `host-${h.hostId}`));
    const both = await open('?after=0', { 'x-brume-stream': 'once', 'last-event-id': seen.id! });
    await both.waitFor(() => false, 0, 3000).catch(() => {});
    expect(both.events()).toHaveLength(3);
  });

  it.skipIf(skip || backend !== 'postgres')('given another process appending (a CLI command), when its NOTIFY arrives, then the stream sends its events', async () => {
    const client = await open();
    await client.waitFor((f) => f.event === 'ready');
    const cli = await openBrume({ databaseUrl, follow: false });
    try {
      const host = must(await cli.commands.hosts.register(meta(), { name: 'from-the-cli', macs: ['52:54:00:5e:02:01'] }));
      await client.waitFor((f) => f.event === 'brume' && f.data.streamId === `host-${host.hostId}`, 0, 3000);
    } finally {
      await cli.close();
      client.close();
    }
  });

  it.skipIf(skip)('given a client that missed more than the stream replays, when it resumes, then it is told to reload (reset) and goes on live from there', async () => {
    const client = await open('', { 'x-brume-stream': 'once' });
    await client.waitFor(() => false, 0, 3000).catch(() => {});
    const from = client.frames.find((f) => f.event === 'ready')!.id!;
    const count = MAX_CATCH_UP + 100;
    const csv = Array.from({ length: count }, (_, i) => `"52:54:01:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:00","bulk-${i}","","","",""`).join('\n');
    const report = must(await api.brume.commands.hosts.importCsv(meta(), csv));
    expect(report.imported).toHaveLength(count);
    await api.brume.readModels.catchUp();
    const behind = await open('', { 'last-event-id': from });
    const reset = await behind.waitFor((f) => f.event === 'reset', 0, 20_000);
    expect(behind.events()).toHaveLength(MAX_CATCH_UP);
    expect(behind.frames[reset]!.data).toMatchObject({ position: expect.any(Number), reason: expect.stringMatching(/reload/) });
    expect(behind.frames[reset]!.id).toBe(String(behind.frames[reset]!.data.position));
    const later = await registerHost();
    await behind.waitFor((f) => f.event === 'brume' && f.data.streamId === `host-${later.hostId}`, reset);
    expect(behind.frames.slice(reset + 1).filter((f) => f.event === 'brume')).toHaveLength(1);
    behind.close();
  }, 60_000);

  it.skipIf(skip)('given a malformed Last-Event-ID or after, when a client connects, then it gets a 400 naming it', async () => {
    const header = await open('', { 'last-event-id': 'yesterday' });
    expect(header.response.statusCode).toBe(400);
    expect(JSON.parse(header.body)).toMatchObject({ error: 'validation', field: 'last-event-id' });
    const query = await open('?after=-3');
    expect(query.response.statusCode).toBe(400);
    expect(JSON.parse(query.body)).toMatchObject({ error: 'validation' });
  });

  it.skipIf(skip)('given a task in progress whose client reports, when a dashboard listens, then it gets its live progress every second', async () => {
    const c = api.brume.commands;
    const image = must(await c.images.create(meta(), { name: 'progress-image' }));
    const host = must(await c.hosts.register(meta(), { name: 'progress-host', macs: ['52:54:00:5e:01:01'], imageId: image.id }));
    const task = must(await c.tasks.createOnHost(meta(), { type: 'capture', hostId: host.hostId }));
    const go = must(await c.imaging.checkIn(commandMeta('boot-client'), task.taskId, new Date()));
    expect(go).toMatchObject({ action: 'go' });
    const client = await open();
    await client.waitFor((f) => f.event === 'ready');
    await api.brume.progressBoard.report(task.taskId, { bytesDone: 250, bytesTotal: 1000, rateBytesPerSecond: 50, partition: 'sda2' });
    const at = await client.waitFor((f) => f.event === 'progress' && f.data.items.some((i: { taskId: string }) => i.taskId === task.taskId));
    expect(client.frames[at]!.data.items.find((i: { taskId: string }) => i.taskId === task.taskId)).toMatchObject({
      bytesDone: 250, bytesTotal: 1000, rateBytesPerSecond: 50, partition: 'sda2', percent: 25, etaSeconds: 15, at: expect.any(String),
    });
    await api.brume.progressBoard.report(task.taskId, { bytesDone: 500, bytesTotal: 1000, rateBytesPerSecond: 50, partition: 'sda2' });
    await client.waitFor((f) => f.event === 'progress' && f.data.items.some((i: { percent: number }) => i.percent === 50), at + 1);

    // Once the task ends, its progress is no longer sent, even if the board still holds it.
    must(await c.tasks.cancel(meta(), task.taskId, 'enough'));
    await client.waitFor((f) => f.event === 'brume' && f.data.type === 'TaskCancelled');
    const after = client.frames.length;
    await client.waitFor((f) => f.event === 'progress' && f.data.items.length === 0, after);
    client.close();
  });

  it.skipIf(skip)('given as many streams as the server keeps, when one more connects, then it gets a 503 saying so, and a place frees when a client goes', async () => {
    const clients = await Promise.all(Array.from({ length: MAX_STREAMS }, () => open()));
    expect(clients.every((c) => c.response.statusCode === 200)).toBe(true);
    const refused = await open();
    expect(refused.response.statusCode).toBe(503);
    expect(refused.response.headers['retry-after']).toBe('30');
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'unavailable', message: expect.stringMatching(/live streams/) });
    clients[0]!.close();
    let again: SseClient | undefined;
    for (let attempt = 0; attempt < 50; attempt++) {
      again = await open();
      if (again.response.statusCode === 200) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(again!.response.statusCode).toBe(200);
    for (const client of [...clients, again!]) client.close();
  });

  it.skipIf(skip)('given open streams, when the server closes, then it ends them instead of waiting for the clients', async () => {
    // A second server on the same brume, so this suite's keeps running.
    const other = buildApp(api.brume, TEST_HTTP_CONFIG);
    await other.listen({ host: '127.0.0.1', port: 0 });
    const client = await SseClient.open(`http://127.0.0.1:${(other.server.address() as AddressInfo).port}/api/stream`, auth);
    await client.waitFor((f) => f.event === 'ready');
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(2000);
    await client.waitFor(() => false, 0, 1000).catch(() => {});
    expect(client.ended).toBe(true);
    expect(api.app.server.listening).toBe(true);
  });
});
