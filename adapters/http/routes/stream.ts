import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { Checkpoint } from '../../../core/ports/event-store.ts';
import type { RecordedEvent } from '../../../core/shared/event.ts';
import { checkpointOf } from '../../event-store/subscription.ts';
import { credentialStillValid } from '../auth.ts';
import type { Brume } from '../../runtime/brume.ts';
import type { RouteModule } from '../context.ts';
import { badRequest, HttpError } from '../errors.ts';
import { eventView } from '../query.ts';
import { doc, integer, object } from '../schemas.ts';
import { replies } from '../response-schemas/index.ts';

/** Live streams one server keeps open at once; one more is a 503. */
export const MAX_STREAMS = 100;
/** Events read per query. */
const BATCH = 500;
/** A client further behind than this is told to reload (`reset`) rather than sent the whole backlog. */
export const MAX_CATCH_UP = 5000;
/** Progress (and the safety-net look at the read models) every tick; a heartbeat comment every HEARTBEAT_TICKS. */
const TICK_MS = 1000;
const HEARTBEAT_TICKS = 15;
/** Every CREDENTIAL_TICKS a stream's session or token is checked again: a signed-out tab stops receiving within seconds. */
const CREDENTIAL_TICKS = 5;
/** A client that lets this much pile up unread is cut off; its EventSource comes back with Last-Event-ID. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** How long an EventSource waits before reconnecting. */
const RETRY_MS = 3000;
/** Sent by callers (the access test) that want the backlog and the current progress, then the end of the response. */
export const ONCE_HEADER = 'x-brume-stream';

const START: Checkpoint = { transactionId: '0', globalPosition: 0 };

/** Whether `a` comes before `b` in commit order. */
function before(a: Checkpoint, b: Checkpoint): boolean {
  const x = BigInt(a.transactionId);
  const y = BigInt(b.transactionId);
  return x < y || (x === y && a.globalPosition < b.globalPosition);
}

const checkpointOfEvent = (e: RecordedEvent): Checkpoint => ({ transactionId: e.transactionId, globalPosition: e.globalPosition });

const frame = (event: string, data: unknown, id?: number): string =>
  `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/** One open response: where its reader is in the log, and the bytes it has not read yet. */
class StreamClient {
  closed = false;

  constructor(private readonly res: ServerResponse, public cursor: Checkpoint, readonly signedIn: () => Promise<boolean>) {}

  write(chunk: string): void {
    if (!this.closed) this.res.write(chunk);
  }

  /** The events after this client's cursor, each with its position as id (EventSource resumes from it). */
  send(events: RecordedEvent[]): void {
    for (const event of events) {
      if (!before(this.cursor, checkpointOfEvent(event))) continue;
      this.write(frame('brume', eventView(event), event.globalPosition));
      this.cursor = checkpointOfEvent(event);
    }
  }

  get lagging(): boolean {
    return this.res.writableLength > MAX_BUFFERED_BYTES;
  }

  /** Resolves once the socket has taken what was written (or the client went away). */
  drained(): Promise<void> {
    if (this.closed || !this.res.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { this.res.off('drain', done); this.res.off('close', done); resolve(); };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.res.end();
  }

  /** Cuts a client that stopped reading: what it has not read is thrown away, not kept for it. */
  drop(): void {
    this.closed = true;
    this.res.destroy();
  }
}

/**
 * The live side of the log for every open dashboard. One reader follows the
 * log for all clients, in the read models' commit-safe order and never
 * ahead of them: an event is sent only once the read models have it, so a
 * dashboard that refetches a list on an event sees the change. Woken by the
 * same wake-ups as the subscriptions (a local append, NOTIFY), and every
 * second when the read models moved without one. A client resuming from an
 * older position catches up on its own first, then joins.
 */
class LiveStreams {
  private readonly live = new Set<StreamClient>();
  /** Every open client, live or catching up (closeAll ends them all). */
  private readonly clients = new Set<StreamClient>();
  /** Accepted streams, live or still catching up. */
  private open = 0;
  private started = false;
  /** The last event sent to the live clients. */
  private head: Checkpoint = START;
  private chain: Promise<void> = Promise.resolve();
  private pumpQueued = false;
  private stopWaking: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;
  private lastProgress = '';
  private progressBusy = false;

  constructor(private readonly brume: Brume, private readonly log: FastifyBaseLogger) {}

  /** Takes one of the MAX_STREAMS places, or refuses with a 503. */
  reserve(): () => void {
    if (this.open >= MAX_STREAMS) {
      throw new HttpError(503, 'unavailable', `this server already has ${MAX_STREAMS} live streams open; close a dashboard tab or try again in a minute`);
    }
    this.open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
      if (this.open === 0) this.stop();
    };
  }

  /**
   * Serves one stream until the client goes (or, with `once`, until it has
   * the backlog and the current progress). `from`: resume after this event
   * (null: from now on). `release` gives the place back.
   */
  async serve(res: ServerResponse, from: Checkpoint | null, once: boolean, release: () => void, signedIn: () => Promise<boolean>): Promise<void> {
    const client = new StreamClient(res, from ?? START, signedIn);
    this.clients.add(client);
    res.on('close', () => {
      client.closed = true;
      this.clients.delete(client);
      this.live.delete(client);
      release();
    });
    try {
      if (once) {
        const upTo = await this.readModelsCheckpoint();
        if (!from) client.cursor = upTo;
        this.greet(client);
        await this.catchUp(client, upTo);
        client.write(frame('progress', await this.progress()));
        client.end();
        return;
      }
      await this.serial(async () => {
        await this.start();
        if (!from) client.cursor = this.head;
      });
      this.greet(client);
      // The bulk of a backlog outside the shared reader, then the last stretch inside it, so no event falls between.
      await this.catchUp(client, this.head);
      await this.serial(async () => {
        // Inside the shared reader a client that does not read must not hold up the others: no waiting for it to drain.
        await this.catchUp(client, this.head, false);
        if (client.lagging) client.drop();
        if (client.closed) return;
        this.live.add(client);
        client.write(frame('progress', await this.progress()));
      });
    } catch (error) {
      this.log.warn({ err: error }, 'live stream failed; the client will reconnect');
      client.end();
    }
  }

  /** Ends every stream (the server is closing; open responses would keep it up). */
  closeAll(): void {
    for (const client of this.clients) client.end();
    this.live.clear();
    this.stop();
  }

  private greet(client: StreamClient): void {
    client.write(`retry: ${RETRY_MS}\n\n`);
    client.write(frame('ready', { position: client.cursor.globalPosition }, client.cursor.globalPosition));
  }

  /**
   * Sends a client the events after its cursor up to `upTo`, waiting for it to read each batch
   * (`drain`); a client too far behind gets `reset` and jumps there.
   */
  private async catchUp(client: StreamClient, upTo: Checkpoint, drain = true): Promise<void> {
    let sent = 0;
    while (!client.closed && before(client.cursor, upTo)) {
      if (sent >= MAX_CATCH_UP) {
        client.cursor = upTo;
        client.write(frame('reset', { position: upTo.globalPosition, reason: `more than ${MAX_CATCH_UP} events were missed; reload` }, upTo.globalPosition));
        return;
      }
      const events = await this.brume.store.readAll({ after: client.cursor, limit: BATCH });
      const wanted = events.filter((e) => !before(upTo, checkpointOfEvent(e)));
      client.send(wanted);
      sent += wanted.length;
      if (wanted.length < events.length || events.length < BATCH) return;
      if (drain) await client.drained();
    }
  }

  private serial(step: () => Promise<void>): Promise<void> {
    const next = this.chain.then(step);
    this.chain = next.catch(() => {});
    return next;
  }

  private async readModelsCheckpoint(): Promise<Checkpoint> {
    return (await checkpointOf(this.brume.database.db, this.brume.readModels.position)) ?? START;
  }

  private async start(): Promise<void> {
    if (this.started) return;
    this.head = await this.readModelsCheckpoint();
    this.started = true;
    this.stopWaking = this.brume.onAppended(() => this.wake());
    this.ticks = 0;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  private stop(): void {
    if (!this.started || this.open > 0) return;
    this.started = false;
    this.stopWaking?.();
    clearInterval(this.timer);
    this.lastProgress = '';
  }

  private wake(): void {
    if (this.pumpQueued || !this.started) return;
    this.pumpQueued = true;
    this.serial(async () => {
      this.pumpQueued = false;
      await this.pump();
    }).catch((error: unknown) => this.log.warn({ err: error }, 'live stream: reading the log failed; trying again on the next wake-up'));
  }

  /** Sends the live clients every event the read models have handled since the head. */
  private async pump(): Promise<void> {
    const { readModels } = this.brume;
    if (this.live.size === 0) {
      // Nobody to send to: the next client to join starts from what the read models have.
      this.head = await this.readModelsCheckpoint();
      return;
    }
    while (this.started && this.live.size > 0) {
      const events = await this.brume.store.readAll({ after: this.head, limit: BATCH });
      if (events.length === 0) return;
      await readModels.waitFor(checkpointOfEvent(events[events.length - 1]!), 5000);
      // Handled events are a prefix in commit order: the rest waits for a later wake-up or tick.
      const seen = events.filter((e) => readModels.hasHandled(checkpointOfEvent(e)));
      if (seen.length === 0) return;
      this.head = checkpointOfEvent(seen[seen.length - 1]!);
      this.broadcast((client) => client.send(seen));
      if (seen.length < events.length || events.length < BATCH) return;
    }
  }

  private broadcast(write: (client: StreamClient) => void): void {
    for (const client of this.live) {
      write(client);
      if (client.lagging) {
        this.log.info('live stream: a client stopped reading; cutting it off (it resumes with Last-Event-ID)');
        client.drop();
        this.live.delete(client);
      }
    }
  }

  private tick(): void {
    this.ticks++;
    if (this.brume.readModels.position !== this.head.globalPosition) this.wake();
    if (this.ticks % HEARTBEAT_TICKS === 0) this.broadcast((client) => client.write(': heartbeat\n\n'));
    if (this.ticks % CREDENTIAL_TICKS === 0) void this.endSignedOut();
    if (this.progressBusy) return;
    this.progressBusy = true;
    this.progress().then((payload) => {
      const text = JSON.stringify(payload);
      if (payload.items.length > 0 || text !== this.lastProgress) this.broadcast((client) => client.write(frame('progress', payload)));
      this.lastProgress = text;
    }).catch((error: unknown) => this.log.warn({ err: error }, 'live stream: progress failed'))
      .finally(() => { this.progressBusy = false; });
  }

  /**
   * Ends the streams whose session or token no longer lets them read (signed
   * out, expired, revoked, disabled, role changed), with a `signed-out`
   * event; the EventSource's reconnect then gets the 401 and stops.
   */
  private async endSignedOut(): Promise<void> {
    await Promise.all([...this.clients].map(async (client) => {
      const valid = await client.signedIn().catch((error: unknown) => {
        this.log.warn({ err: error }, 'live stream: could not re-check a credential; keeping the stream');
        return true;
      });
      if (valid || client.closed) return;
      client.write(frame('signed-out', { message: 'your session has ended or your access changed; sign in again' }));
      client.end();
      this.live.delete(client);
    }));
  }

  /** The latest report of every task still in progress (the board may hold one of a task that just ended). */
  private async progress() {
    const reports = this.brume.progressBoard.all();
    if (reports.length === 0) return { items: [] };
    const running = await this.brume.database.db.selectFrom('rm_tasks').select('task_id')
      .where('task_id', 'in', reports.map((r) => r.taskId)).where('state', '=', 'in-progress').execute();
    const inProgress = new Set(running.map((r) => r.task_id));
    return {
      items: reports.filter((r) => inProgress.has(r.taskId)).map(({ taskId, progress }) => ({
        taskId, ...progress,
        percent: progress.bytesTotal > 0 ? Math.round((1000 * progress.bytesDone) / progress.bytesTotal) / 10 : 0,
      })),
    };
  }
}

/** Where a stream resumes: Last-Event-ID (EventSource's reconnect) over `after`; null means from now on. */
async function resumePoint(brume: Brume, request: FastifyRequest<{ Querystring: { after?: number } }>): Promise<Checkpoint | null> {
  const header = request.headers['last-event-id'];
  let position: number | undefined = request.query.after;
  if (typeof header === 'string' && header.trim() !== '') {
    if (!/^\d{1,15}$/.test(header.trim())) throw badRequest('Last-Event-ID must be the id of an event this stream sent (a position)', 'last-event-id');
    position = Number(header.trim());
  }
  if (position === undefined) return null;
  if (position === 0) return START;
  // The event at that position; when it is gone (or never was) the last one before it.
  const row = await brume.database.db.selectFrom('events').select(['transaction_id', 'global_position'])
    .where('global_position', '<=', position).orderBy('global_position', 'desc').limit(1).executeTakeFirst();
  return row ? { transactionId: String(row.transaction_id), globalPosition: Number(row.global_position) } : START;
}

/**
 * GET /api/stream: Server-Sent Events for the dashboard. `brume` events are
 * the log's new events (the shape of /api/events), `progress` the live
 * progress of tasks in progress every second, `ready` the position the
 * stream starts after, `reset` that the client missed too much and should
 * reload. Ids are global positions, so an EventSource resumes by itself.
 */
export const streamRoutes: RouteModule = (api, { brume }) => {
  const streams = new LiveStreams(brume, api.log);
  api.addHook('preClose', (done) => {
    streams.closeAll();
    done();
  });

  api.get<{ Querystring: { after?: number } }>('/api/stream', {
    config: { access: 'read' },
    schema: {
      ...doc('history', 'Live events and task progress as Server-Sent Events (text/event-stream); resumes after Last-Event-ID'),
      querystring: object({ after: integer(0, Number.MAX_SAFE_INTEGER, 'start after this position (default: from now on)') }),
      response: replies({
        200: {
          description: 'events brume (a HistoryEvent), progress (a StreamProgress), ready (a StreamPosition), reset (a StreamReset) and signed-out (the session or token stopped being valid; the stream ends)',
          content: { 'text/event-stream': { schema: { type: 'string' } } },
        },
      }, { 503: `the server already has ${MAX_STREAMS} live streams open` }),
    },
  }, async (request, reply) => {
    const from = await resumePoint(brume, request);
    let release: () => void;
    try {
      release = streams.reserve();
    } catch (error) {
      reply.header('retry-after', '30');
      throw error;
    }
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    });
    await streams.serve(reply.raw, from, request.headers[ONCE_HEADER] === 'once', release, credentialStillValid(brume.credentials, request, 'read'));
  });
};
