import { EventEmitter } from 'node:events';
import { sql, type Kysely, type Transaction } from 'kysely';
import { claimsFor, describeClaim, type ClaimKind, type ClaimOp } from '../../core/claims.ts';
import {
  ClaimConflict, DuplicateCommand, VersionConflict,
  type AppendOptions, type AppendResult, type Checkpoint, type EventStore, type ExpectedVersion, type ReadAllOptions, type StreamAppend,
} from '../../core/ports/event-store.ts';
import type { EventMetadata, RecordedEvent } from '../../core/shared/event.ts';
import { EVENTS_CHANNEL, PREPARE } from '../database/open-database.ts';
import type { Schema } from '../database/schema.ts';

type Executor = Kysely<Schema> | Transaction<Schema>;

/** How a stream's version is checked: against a number, against absence, or not at all. */
const modeOf = (expected: ExpectedVersion): 'version' | 'new' | 'any' =>
  expected === 'any' ? 'any' : expected === 'no-stream' || expected === 0 ? 'new' : 'version';

/** Events' columns, in the order the writes below give them: the event's own, then its append's metadata. */
const EVENT_COLUMNS = sql.raw('stream_id, stream_type, version, type, data, schema_version, actor, command_id, correlation_id, causation_id, reason');

const metadataValues = (m: EventMetadata) =>
  sql`${SCHEMA_VERSION}::int, ${m.actor}::text, ${m.commandId}::text, ${m.correlationId}::text, ${m.causationId}::text, ${m.reason ?? null}::text`;

type OwnedClaim = ClaimOp & { owner: string };
type NetClaims = { releases: OwnedClaim[]; claims: OwnedClaim[] };

/** The claims of an append, netted per value (a rename back and forth in one append is no op). */
function netClaims(appends: StreamAppend[]): NetClaims {
  const net = new Map<string, OwnedClaim>();
  for (const append of appends) {
    for (const event of append.events) {
      for (const op of claimsFor(event)) {
        const key = `${op.kind}\u0000${op.value}`;
        const previous = net.get(key);
        if (previous && previous.op !== op.op && previous.owner === append.streamId) net.delete(key);
        else net.set(key, { ...op, owner: append.streamId });
      }
    }
  }
  const all = [...net.values()];
  return { releases: all.filter((op) => op.op === 'release'), claims: all.filter((op) => op.op === 'claim') };
}

/** Schema version of each event type; raised when an event's data changes shape. */
const SCHEMA_VERSION = 1;

const PG_UNIQUE_VIOLATION = '23505';

/** Concurrent appends wake other processes at most this often (one NOTIFY covers every commit before it). */
const NOTIFY_INTERVAL_MS = 2;

/**
 * Wakes other processes (LISTEN on EVENTS_CHANNEL) after commits.
 *
 * NOTIFY in a transaction takes a cluster-wide lock from just before its
 * commit until the commit is flushed, so appenders that each notify commit
 * one at a time, one WAL flush each, and concurrent appends lose group
 * commit. So an append that runs alone in this process notifies in its own
 * statement (no extra round trip, nobody to wait for), while appends that
 * overlap others notify through here: after they commit, one payload-free
 * NOTIFY is sent on its own, and every append that commits while it is on
 * its way, or within `minIntervalMs` after it, is covered by the next one.
 * Each commit is thus followed by a NOTIFY sent after it (at most
 * `minIntervalMs` later), without appends waiting for it; if the process
 * dies in between, listeners find the events at their next poll.
 *
 * The interval matters under load: sent back to back, these NOTIFYs came
 * close to one per append with eight busy appenders, a statement each, and
 * cost a quarter of the append rate (docs/benchmarks.md).
 */
export class CommitNotifier {
  private sending = false;
  private pending = false;
  private lastSent = -Infinity;

  constructor(private readonly db: Kysely<Schema>, private readonly minIntervalMs = NOTIFY_INTERVAL_MS) {}

  notify(): void {
    this.pending = true;
    if (!this.sending) void this.send();
  }

  private async send(): Promise<void> {
    this.sending = true;
    while (this.pending) {
      const wait = this.lastSent + this.minIntervalMs - performance.now();
      // Whole milliseconds: Node's timers drop the fraction, which would halve the interval.
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)));
      this.pending = false;
      this.lastSent = performance.now();
      await sql`SELECT pg_notify(${EVENTS_CHANNEL}, '')`.execute(this.db).catch(() => {});
    }
    this.sending = false;
  }
}

/**
 * The event store on PostgreSQL or PGlite, through Kysely.
 *
 * Global order: every row stores the id of the transaction that wrote it.
 * Readers see only rows whose transaction id is below the oldest transaction
 * still running, and read in (transaction id, position) order. A transaction
 * that took position 41 but commits after the one that took 42 therefore
 * holds both back until it commits, and no subscriber skips it.
 *
 * @example
 * const store = new SqlEventStore(db);
 * await store.append([{ streamId: 'host-1', streamType: 'host', expectedVersion: 'no-stream', events }], { metadata });
 */
export class SqlEventStore implements EventStore {
  /** Fires 'appended' in this process right after a commit, before NOTIFY reaches other processes. */
  readonly local = new EventEmitter();

  private readonly notifier: CommitNotifier;
  /** Appends of this process under way; one alone carries its own NOTIFY (see CommitNotifier). */
  private appending = 0;

  constructor(private readonly db: Kysely<Schema>) {
    this.local.setMaxListeners(100);
    this.notifier = new CommitNotifier(db);
  }

  async readStream(streamId: string, options: { fromVersion?: number } = {}): Promise<{ version: number; events: RecordedEvent[] }> {
    const from = options.fromVersion ?? 1;
    const rows = await this.db.selectFrom('events').selectAll().where('stream_id', '=', streamId).where('version', '>=', from).orderBy('version').execute();
    if (rows.length > 0 || from <= 1) return { version: rows.length === 0 ? 0 : rows[rows.length - 1]!.version, events: rows.map(toRecorded) };
    // Nothing new: the stream's version says where it stands.
    const stream = await this.db.selectFrom('streams').select('version').where('stream_id', '=', streamId).executeTakeFirst();
    return { version: stream?.version ?? 0, events: [] };
  }

  /**
   * One round trip when it can be: an append to one stream that takes or
   * gives back no claim is a single statement (stream version, command
   * result, events), atomic by itself, with no BEGIN or COMMIT. Anything
   * else (several streams, claims) runs that same statement inside a
   * transaction, beside the claims, and rolls back on any conflict.
   */
  async append(appends: StreamAppend[], options: AppendOptions): Promise<AppendResult> {
    const { metadata } = options;
    const streams = appends.filter((a) => a.events.length > 0);
    const claims = netClaims(streams);
    const carryNotify = this.appending === 0;
    this.appending++;
    try {
      let result: AppendResult;
      if (streams.length === 1 && claims.releases.length === 0 && claims.claims.length === 0) {
        result = await this.write(this.db, streams, metadata, options.commandResult, carryNotify);
      } else {
        result = await this.db.transaction().execute(async (trx) => {
          if (streams.length === 0) {
            if (options.commandResult !== undefined) await this.recordCommand(trx, metadata.commandId, options.commandResult);
            return { versions: {}, lastGlobalPosition: 0 };
          }
          const written = new Set(streams.map((a) => a.streamId)).size === streams.length
            ? await this.write(trx, streams, metadata, options.commandResult, carryNotify)
            : await this.writeOneByOne(trx, streams, metadata, options.commandResult, carryNotify);
          await this.applyClaims(trx, claims);
          return written;
        });
      }
      if (result.lastGlobalPosition > 0) {
        this.local.emit('appended', result.lastGlobalPosition);
        if (!carryNotify) this.notifier.notify();
      }
      return result;
    } catch (error) {
      throw await this.translate(error, appends, metadata.commandId);
    } finally {
      this.appending--;
    }
  }

  /** The same stream twice in one append: each part sees the version the previous one left. */
  private async writeOneByOne(
    trx: Transaction<Schema>, streams: StreamAppend[], metadata: EventMetadata, commandResult: unknown, notify: boolean,
  ): Promise<AppendResult> {
    const result: AppendResult = { versions: {}, lastGlobalPosition: 0 };
    for (const [i, append] of streams.entries()) {
      const one = await this.write(trx, [append], metadata, i === 0 ? commandResult : undefined, notify && i === 0);
      Object.assign(result.versions, one.versions);
      result.lastGlobalPosition = Math.max(result.lastGlobalPosition, one.lastGlobalPosition);
    }
    return result;
  }

  /**
   * Moves each stream's version forward (checking the caller's expectation),
   * records the command result, and inserts the events, in one statement.
   * A stream whose expectation fails gets no events and no new version; the
   * command is recorded only if the first stream moved (a repeated command
   * id breaks its primary key, which aborts the statement). With several
   * streams the caller runs this in a transaction, which a conflict rolls back.
   */
  private write(
    executor: Executor, streams: StreamAppend[], metadata: EventMetadata, commandResult: unknown, notify: boolean,
  ): Promise<AppendResult> {
    return streams.length === 1
      ? this.writeStream(executor, streams[0]!, metadata, commandResult, notify)
      : this.writeStreams(executor, streams, metadata, commandResult, notify);
  }

  /** One stream: scalar parameters and the smallest plan, as this is the statement nearly every command runs. */
  private async writeStream(
    executor: Executor, append: StreamAppend, metadata: EventMetadata, commandResult: unknown, notify: boolean,
  ): Promise<AppendResult> {
    const n = append.events.length;
    const mode = modeOf(append.expectedVersion);
    const bump = mode === 'version'
      ? sql`UPDATE streams SET version = version + ${n}::int WHERE stream_id = ${append.streamId} AND version = ${append.expectedVersion as number}::int`
      : sql`INSERT INTO streams (stream_id, stream_type, version) VALUES (${append.streamId}, ${append.streamType}, ${n}::int)
          ON CONFLICT (stream_id) DO ${mode === 'new' ? sql`NOTHING` : sql`UPDATE SET version = streams.version + EXCLUDED.version`}`;
    const [first] = append.events;
    const events = n === 1
      ? sql`SELECT ${append.streamId}, ${append.streamType}, b.before + 1, ${first!.type}, ${JSON.stringify(first!.data)}::jsonb, ${metadataValues(metadata)} FROM bumped b`
      : sql`SELECT ${append.streamId}, ${append.streamType}, b.before + e.ord, e.type, e.data::jsonb, ${metadataValues(metadata)}
          FROM bumped b, unnest(${append.events.map((e) => e.type)}::text[], ${append.events.map((e) => JSON.stringify(e.data))}::text[]) WITH ORDINALITY AS e(type, data, ord)
          ORDER BY e.ord`;
    const { rows } = await sql<{ version: number; global_position: number }>`${sql.raw(PREPARE)}
      WITH bumped AS (${bump} RETURNING version - ${n}::int AS before)
      ${commandResult === undefined ? sql`` : sql`, command AS (
        INSERT INTO commands (command_id, result) SELECT ${metadata.commandId}, ${JSON.stringify(commandResult ?? null)}::jsonb FROM bumped)`}
      INSERT INTO events (${EVENT_COLUMNS}) ${events}
      RETURNING version, global_position ${notify ? sql`, (SELECT pg_notify(${EVENTS_CHANNEL}, ''))` : sql``}`.execute(executor);
    if (rows.length === 0) throw await this.conflictOn(executor, append, metadata.commandId, commandResult);
    return {
      versions: { [append.streamId]: Number(rows[0]!.version) - 1 + n },
      lastGlobalPosition: Math.max(...rows.map((r) => Number(r.global_position))),
    };
  }

  /**
   * Several streams, each with its own expectation, in one statement however
   * many there are; always inside a transaction. Events go over as one JSON
   * document (one parameter, parsed once) with their version when it is
   * known beforehand; only streams appended with 'any' need the version the
   * database holds. Stale streams still get their events inserted here: the
   * count of streams moved (or the events' unique version) catches them, and
   * the caller's transaction rolls everything back.
   */
  private async writeStreams(
    executor: Executor, streams: StreamAppend[], metadata: EventMetadata, commandResult: unknown, notify: boolean,
  ): Promise<AppendResult> {
    const modes = { version: [] as StreamAppend[], new: [] as StreamAppend[], any: [] as StreamAppend[] };
    for (const append of streams) modes[modeOf(append.expectedVersion)].push(append);
    const ids = (list: StreamAppend[]) => sql`${list.map((a) => a.streamId)}::text[]`;
    const counts = (list: StreamAppend[]) => sql`${list.map((a) => a.events.length)}::int[]`;
    const bumps = [];
    if (modes.version.length > 0) {
      bumps.push(sql`by_version AS (
        UPDATE streams s SET version = s.version + i.n
        FROM unnest(${ids(modes.version)}, ${counts(modes.version)}, ${modes.version.map((a) => a.expectedVersion as number)}::int[]) AS i(stream_id, n, expected)
        WHERE s.stream_id = i.stream_id AND s.version = i.expected
        RETURNING s.stream_id)`);
    }
    for (const mode of ['new', 'any'] as const) {
      const list = modes[mode];
      if (list.length === 0) continue;
      bumps.push(sql`${sql.raw(`by_${mode}`)} AS (
        INSERT INTO streams (stream_id, stream_type, version)
        SELECT * FROM unnest(${ids(list)}, ${list.map((a) => a.streamType)}::text[], ${counts(list)})
        ON CONFLICT (stream_id) DO ${mode === 'new' ? sql`NOTHING` : sql`UPDATE SET version = streams.version + EXCLUDED.version`}
        RETURNING stream_id, version)`);
    }
    // RETURNING cannot name EXCLUDED, so the version before is the version after minus the events added.
    const anyBefore = modes.any.length === 0 ? sql`SELECT NULL::text AS stream_id, 0 AS before WHERE false` : sql`
      SELECT b.stream_id, b.version - i.n AS before FROM by_any b JOIN unnest(${ids(modes.any)}, ${counts(modes.any)}) AS i(stream_id, n) USING (stream_id)`;
    const moved = (['version', 'new', 'any'] as const).filter((m) => modes[m].length > 0).map((m) => sql`SELECT stream_id FROM ${sql.raw(`by_${m}`)}`);
    const rows = streams.flatMap((a) => {
      const known = a.expectedVersion === 'any' ? null : a.expectedVersion === 'no-stream' ? 0 : a.expectedVersion;
      return a.events.map((e, i) => ({ s: a.streamId, t: a.streamType, v: known === null ? null : known + i + 1, o: i + 1, y: e.type, d: e.data }));
    });
    const { rows: [result] } = await sql<{ stale: boolean; moved: string[] | null; last: number | null; any: Record<string, number> | null }>`
      WITH ${sql.join(bumps)},
      moved AS (${sql.join(moved, sql` UNION ALL `)}),
      any_before AS (${anyBefore}),
      ${commandResult === undefined ? sql`` : sql`command AS (
        INSERT INTO commands (command_id, result) VALUES (${metadata.commandId}, ${JSON.stringify(commandResult ?? null)}::jsonb)),`}
      inserted AS (
        INSERT INTO events (${EVENT_COLUMNS})
        SELECT e.s, e.t, coalesce(e.v, a.before + e.o), e.y, e.d, ${metadataValues(metadata)}
        FROM ROWS FROM (jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS (s text, t text, v int, o int, y text, d jsonb)) WITH ORDINALITY AS e(s, t, v, o, y, d, ord)
        LEFT JOIN any_before a ON a.stream_id = e.s
        ORDER BY e.ord
        RETURNING global_position)
      SELECT m.stale, CASE WHEN m.stale THEN m.ids END AS moved, (SELECT max(global_position) FROM inserted) AS last,
        (SELECT json_object_agg(stream_id, before) FROM any_before) AS any
        ${notify ? sql`, pg_notify(${EVENTS_CHANNEL}, '')` : sql``}
      FROM (SELECT count(*) < ${streams.length} AS stale, array_agg(stream_id) AS ids FROM moved) AS m`.execute(executor);
    if (result!.stale) {
      const movedIds = new Set(result!.moved ?? []);
      const stale = streams.find((a) => !movedIds.has(a.streamId))!;
      throw await this.conflictOn(executor, stale, metadata.commandId, commandResult);
    }
    const versions: Record<string, number> = {};
    for (const append of streams) {
      const before = append.expectedVersion === 'any' ? result!.any![append.streamId]! : append.expectedVersion === 'no-stream' ? 0 : append.expectedVersion;
      versions[append.streamId] = before + append.events.length;
    }
    return { versions, lastGlobalPosition: Number(result!.last) };
  }

  /** Why a stream did not move: the command already ran (that answer wins, as the command is checked first), or a stale version. */
  private async conflictOn(executor: Executor, append: StreamAppend, commandId: string, commandResult: unknown): Promise<Error> {
    if (commandResult !== undefined) {
      const stored = await executor.selectFrom('commands').select('result').where('command_id', '=', commandId).executeTakeFirst();
      if (stored) return new DuplicateCommand(commandId, stored.result ?? null);
    }
    return new VersionConflict(append.streamId, append.expectedVersion, await this.currentVersion(executor, append.streamId));
  }

  private async currentVersion(executor: Executor, streamId: string): Promise<number> {
    const row = await executor.selectFrom('streams').select('version').where('stream_id', '=', streamId).executeTakeFirst();
    return row?.version ?? 0;
  }

  /**
   * Takes and gives back unique values in the append's transaction, in two
   * statements whatever the number of events.
   */
  private async applyClaims(trx: Transaction<Schema>, { releases, claims }: NetClaims): Promise<void> {
    for (let i = 0; i < releases.length; i += 5000) {
      const chunk = releases.slice(i, i + 5000);
      await sql`
        DELETE FROM claims c USING (SELECT * FROM unnest(${chunk.map((r) => r.kind)}::text[], ${chunk.map((r) => r.value)}::text[], ${chunk.map((r) => r.owner)}::text[])) AS r(kind, value, owner)
        WHERE c.kind = r.kind AND c.value = r.value AND c.owner_stream_id = r.owner`.execute(trx);
    }
    for (let i = 0; i < claims.length; i += 5000) {
      const chunk = claims.slice(i, i + 5000);
      const taken = await sql<{ kind: string; value: string }>`
        INSERT INTO claims (kind, value, owner_stream_id)
        SELECT * FROM unnest(${chunk.map((c) => c.kind)}::text[], ${chunk.map((c) => c.value)}::text[], ${chunk.map((c) => c.owner)}::text[])
        ON CONFLICT (kind, value) DO UPDATE SET owner_stream_id = claims.owner_stream_id
          WHERE claims.owner_stream_id = EXCLUDED.owner_stream_id
        RETURNING kind, value`.execute(trx);
      if (taken.rows.length === chunk.length) continue;
      const won = new Set(taken.rows.map((r) => `${r.kind}\u0000${r.value}`));
      const lost = chunk.find((c) => !won.has(`${c.kind}\u0000${c.value}`))!;
      const owner = await trx.selectFrom('claims').select('owner_stream_id')
        .where('kind', '=', lost.kind).where('value', '=', lost.value).executeTakeFirst();
      const ownerId = owner?.owner_stream_id ?? 'another stream';
      throw new ClaimConflict(lost, ownerId, describeClaim(lost.kind, lost.value, ownerId));
    }
  }

  private async recordCommand(trx: Transaction<Schema>, commandId: string, result: unknown): Promise<void> {
    const inserted = await trx
      .insertInto('commands')
      .values({ command_id: commandId, result: JSON.stringify(result ?? null) })
      .onConflict((oc) => oc.column('command_id').doNothing())
      .returning('command_id')
      .executeTakeFirst();
    if (!inserted) {
      const stored = await trx.selectFrom('commands').select('result').where('command_id', '=', commandId).executeTakeFirst();
      throw new DuplicateCommand(commandId, stored?.result ?? null);
    }
  }

  /** Turns a race lost at the database (unique violation) into the domain's conflict errors. */
  private async translate(error: unknown, appends: StreamAppend[], commandId: string): Promise<unknown> {
    if (error instanceof VersionConflict || error instanceof ClaimConflict || error instanceof DuplicateCommand) return error;
    const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
    if (code !== PG_UNIQUE_VIOLATION) return error;
    const detail = String((error as { detail?: string; constraint?: string }).constraint ?? (error as Error).message);
    if (detail.includes('commands')) {
      const stored = await this.findCommandResult(commandId);
      return new DuplicateCommand(commandId, stored.found ? stored.result : null);
    }
    for (const append of appends) {
      const current = await this.currentVersion(this.db, append.streamId);
      if (typeof append.expectedVersion === 'number' ? current !== append.expectedVersion : append.expectedVersion === 'no-stream' && current > 0) {
        return new VersionConflict(append.streamId, append.expectedVersion, current);
      }
    }
    return error;
  }

  async readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    return readAllWith(this.db, options);
  }

  async findCommandResult(commandId: string): Promise<{ found: true; result: unknown } | { found: false }> {
    const row = await this.db.selectFrom('commands').select('result').where('command_id', '=', commandId).executeTakeFirst();
    return row ? { found: true, result: row.result } : { found: false };
  }

  async claimOwners(kind: ClaimKind, values: readonly string[]): Promise<Map<string, string>> {
    const owners = new Map<string, string>();
    for (let i = 0; i < values.length; i += 5000) {
      const chunk = values.slice(i, i + 5000);
      if (chunk.length === 0) continue;
      const rows = await this.db.selectFrom('claims').select(['value', 'owner_stream_id'])
        .where('kind', '=', kind).where('value', 'in', chunk).execute();
      for (const row of rows) owners.set(row.value, row.owner_stream_id);
    }
    return owners;
  }
}

/**
 * Reads committed events after a checkpoint in commit-safe order, with any
 * executor (so a subscriber can read inside its own transaction).
 */
export async function readAllWith(executor: Executor, options: ReadAllOptions): Promise<RecordedEvent[]> {
  const after: Checkpoint = options.after ?? { transactionId: '0', globalPosition: 0 };
  let query = executor
    .selectFrom('events')
    .selectAll()
    .where(sql<boolean>`(transaction_id, global_position) > (${after.transactionId}::xid8, ${after.globalPosition}::bigint)`)
    .where(sql<boolean>`transaction_id < pg_snapshot_xmin(pg_current_snapshot())`)
    .orderBy('transaction_id')
    .orderBy('global_position')
    .limit(options.limit);
  if (options.types && options.types.length > 0) query = query.where('type', 'in', options.types as string[]);
  const rows = await query.execute();
  return rows.map(toRecorded);
}

export function toRecorded(row: Schema['events'] extends infer T ? { [K in keyof T]: any } : never): RecordedEvent {
  return {
    type: row.type,
    data: row.data as object,
    schemaVersion: row.schema_version,
    streamId: row.stream_id,
    streamType: row.stream_type,
    version: row.version,
    globalPosition: Number(row.global_position),
    transactionId: String(row.transaction_id),
    metadata: {
      actor: row.actor,
      commandId: row.command_id,
      correlationId: row.correlation_id,
      causationId: row.causation_id,
      ...(row.reason ? { reason: row.reason } : {}),
    },
    occurredAt: new Date(row.occurred_at),
  };
}
