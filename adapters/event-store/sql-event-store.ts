import { EventEmitter } from 'node:events';
import { sql, type Kysely, type Transaction } from 'kysely';
import { claimsFor, describeClaim, type ClaimKind, type ClaimOp } from '../../core/claims.ts';
import {
  ClaimConflict, DuplicateCommand, VersionConflict,
  type AppendOptions, type AppendResult, type Checkpoint, type EventStore, type ReadAllOptions, type StreamAppend,
} from '../../core/ports/event-store.ts';
import type { RecordedEvent } from '../../core/shared/event.ts';
import { EVENTS_CHANNEL } from '../database/open-database.ts';
import type { Schema } from '../database/schema.ts';

type Executor = Kysely<Schema> | Transaction<Schema>;

/** Schema version of each event type; raised when an event's data changes shape. */
const SCHEMA_VERSION = 1;

const PG_UNIQUE_VIOLATION = '23505';

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

  constructor(private readonly db: Kysely<Schema>) {
    this.local.setMaxListeners(100);
  }

  async readStream(streamId: string): Promise<{ version: number; events: RecordedEvent[] }> {
    const rows = await this.db.selectFrom('events').selectAll().where('stream_id', '=', streamId).orderBy('version').execute();
    return { version: rows.length === 0 ? 0 : rows[rows.length - 1]!.version, events: rows.map(toRecorded) };
  }

  async append(appends: StreamAppend[], options: AppendOptions): Promise<AppendResult> {
    const { metadata } = options;
    try {
      const result = await this.db.transaction().execute(async (trx) => {
        if (options.commandResult !== undefined) await this.recordCommand(trx, metadata.commandId, options.commandResult);
        const versions: Record<string, number> = {};
        const rows: Record<string, unknown>[] = [];
        for (const append of appends) {
          if (append.events.length === 0) continue;
          const startVersion = await this.bumpStreamVersion(trx, append);
          versions[append.streamId] = startVersion + append.events.length;
          append.events.forEach((event, i) => {
            rows.push({
              stream_id: append.streamId,
              stream_type: append.streamType,
              version: startVersion + i + 1,
              type: event.type,
              schema_version: SCHEMA_VERSION,
              data: JSON.stringify(event.data),
              actor: metadata.actor,
              command_id: metadata.commandId,
              correlation_id: metadata.correlationId,
              causation_id: metadata.causationId,
              reason: metadata.reason ?? null,
            });
          });
        }
        if (rows.length === 0) return { versions, lastGlobalPosition: 0 };
        await this.applyClaims(trx, appends);
        let last = 0;
        // Chunked so a large import stays under PostgreSQL's 65,535 bind parameters.
        for (let i = 0; i < rows.length; i += 4000) {
          const inserted = await trx
            .insertInto('events')
            .values(rows.slice(i, i + 4000) as never)
            .returning('global_position')
            .execute();
          last = Math.max(last, ...inserted.map((r) => r.global_position));
        }
        // Delivered at commit; carries no payload (NOTIFY payloads are capped at 8 kB).
        await sql`SELECT pg_notify(${EVENTS_CHANNEL}, '')`.execute(trx);
        return { versions, lastGlobalPosition: last };
      });
      if (result.lastGlobalPosition > 0) this.local.emit('appended', result.lastGlobalPosition);
      return result;
    } catch (error) {
      throw await this.translate(error, appends, metadata.commandId);
    }
  }

  /** Moves the stream's version forward, checking the caller's expectation; returns the version before. */
  private async bumpStreamVersion(trx: Transaction<Schema>, append: StreamAppend): Promise<number> {
    const n = append.events.length;
    const { expectedVersion, streamId } = append;
    if (expectedVersion === 'no-stream' || expectedVersion === 0) {
      const row = await trx
        .insertInto('streams')
        .values({ stream_id: streamId, stream_type: append.streamType, version: n })
        .onConflict((oc) => oc.column('stream_id').doNothing())
        .returning('version')
        .executeTakeFirst();
      if (!row) throw new VersionConflict(streamId, expectedVersion, await this.currentVersion(trx, streamId));
      return 0;
    }
    if (expectedVersion === 'any') {
      const row = await trx
        .insertInto('streams')
        .values({ stream_id: streamId, stream_type: append.streamType, version: n })
        .onConflict((oc) => oc.column('stream_id').doUpdateSet({ version: sql`streams.version + ${n}` }))
        .returning('version')
        .executeTakeFirstOrThrow();
      return row.version - n;
    }
    const row = await trx
      .updateTable('streams')
      .set({ version: expectedVersion + n })
      .where('stream_id', '=', streamId)
      .where('version', '=', expectedVersion)
      .returning('version')
      .executeTakeFirst();
    if (!row) throw new VersionConflict(streamId, expectedVersion, await this.currentVersion(trx, streamId));
    return expectedVersion;
  }

  private async currentVersion(executor: Executor, streamId: string): Promise<number> {
    const row = await executor.selectFrom('streams').select('version').where('stream_id', '=', streamId).executeTakeFirst();
    return row?.version ?? 0;
  }

  /**
   * Takes and gives back unique values in the append's transaction. Ops are
   * netted per value first (a rename back and forth in one append is no op),
   * then applied in two statements whatever the number of events.
   */
  private async applyClaims(trx: Transaction<Schema>, appends: StreamAppend[]): Promise<void> {
    const net = new Map<string, ClaimOp & { owner: string }>();
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
    const releases = [...net.values()].filter((op) => op.op === 'release');
    const claims = [...net.values()].filter((op) => op.op === 'claim');
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
