import { sql, type Kysely, type Transaction } from 'kysely';
import type { Schema } from '../../adapters/database/schema.ts';
import { CatchUpSubscription, lockSubscription } from '../../adapters/event-store/subscription.ts';
import { readAllWith } from '../../adapters/event-store/sql-event-store.ts';
import type { RecordedEvent } from '../../core/shared/event.ts';
import { bootStagesProjection } from './boot-stages.ts';
import { groupsProjection, imagesProjection, storageNodesProjection } from './catalog.ts';
import { eventSubjectsProjection } from './event-subjects.ts';
import { hostsProjection } from './hosts.ts';
import type { SqlProjection } from './projection.ts';
import { RowCache, type TableSpec } from './row-cache.ts';
import { tasksProjection } from './tasks.ts';
import { usersProjection } from './users.ts';

/** Order matters where one model reads another's rows in the same batch (tasks read host names). */
export const SQL_PROJECTIONS: readonly SqlProjection[] = [
  hostsProjection, groupsProjection, imagesProjection, storageNodesProjection, tasksProjection, usersProjection, bootStagesProjection, eventSubjectsProjection,
];

export const READ_MODELS_SUBSCRIPTION = 'read-models';

const specs = new Map<string, TableSpec>(SQL_PROJECTIONS.flatMap((p) => p.tables.map((t) => [t.table, t] as const)));

async function project(cache: RowCache, events: RecordedEvent[]): Promise<void> {
  for (const event of events) for (const projection of SQL_PROJECTIONS) await projection.apply(cache, event);
}

async function applyAll(cache: RowCache, events: RecordedEvent[]): Promise<void> {
  await project(cache, events);
  await cache.flush();
}

/**
 * The SQL read models, kept current by one durable subscription: each batch
 * of events and the checkpoint after it commit together.
 */
export function readModelSubscription(db: Kysely<Schema>, onError?: (e: unknown) => void, options: { pollMs?: number } = {}): CatchUpSubscription {
  return new CatchUpSubscription(
    db,
    READ_MODELS_SUBSCRIPTION,
    (events, trx) => applyAll(new RowCache(trx, specs), events),
    { durable: true, batchSize: 1000, ...options, ...(onError ? { onError } : {}) },
  );
}

export interface RebuildProgress {
  events: number;
}

/**
 * Empties every read model and replays the whole log into it, in one
 * transaction: readers see the old tables until the new ones are complete.
 */
export async function rebuildReadModels(
  db: Kysely<Schema>, onProgress?: (p: RebuildProgress) => void,
): Promise<{ events: number; seconds: number }> {
  const started = performance.now();
  const tables = [...specs.keys()];
  const events = await db.transaction().execute(async (trx: Transaction<Schema>) => {
    await trx.insertInto('checkpoints').values({ name: READ_MODELS_SUBSCRIPTION, transaction_id: '0', global_position: 0 })
      .onConflict((oc) => oc.column('name').doNothing()).execute();
    await lockSubscription(trx, READ_MODELS_SUBSCRIPTION);
    await sql`TRUNCATE ${sql.join(tables.map((t) => sql.table(t)))}`.execute(trx);
    const { count, after } = await withoutSecondaryIndexes(trx, tables, async () => {
      const cache = new RowCache(trx, specs, true);
      let after = { transactionId: '0', globalPosition: 0 };
      let count = 0;
      // The next batch is read while this one is projected: the database works while this process does.
      let next = readAllWith(trx, { after, limit: 10_000 });
      for (;;) {
        const batch = await next;
        if (batch.length === 0) break;
        const last = batch[batch.length - 1]!;
        after = { transactionId: last.transactionId, globalPosition: last.globalPosition };
        next = readAllWith(trx, { after, limit: 10_000 });
        await project(cache, batch);
        // The cache holds every row anyway (it is authoritative): each row is written once, at the end,
        // instead of again each time a later batch changes it. Append-only rows go after each batch.
        await cache.flush({ appendOnlyTables: true });
        count += batch.length;
        onProgress?.({ events: count });
      }
      await cache.flush();
      return { count, after };
    });
    await trx.updateTable('checkpoints')
      .set({ transaction_id: sql`${after.transactionId}::xid8` as never, global_position: after.globalPosition, updated_at: new Date() })
      .where('name', '=', READ_MODELS_SUBSCRIPTION).execute();
    return count;
  });
  return { events, seconds: (performance.now() - started) / 1000 };
}

/**
 * Runs a bulk load into empty tables without their secondary indexes (those
 * not behind a primary key or unique constraint), then builds each index
 * again from its own definition: building an index over the loaded rows is
 * much cheaper than growing it row by row (a trigram index above all). The
 * caller's transaction holds the tables' exclusive lock (TRUNCATE), and
 * rolls the drops back if anything fails.
 */
async function withoutSecondaryIndexes<T>(trx: Transaction<Schema>, tables: string[], load: () => Promise<T>): Promise<T> {
  const { rows: indexes } = await sql<{ name: string; definition: string }>`
    SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
    FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
    WHERE t.relname = ANY(${tables}::text[]) AND t.relnamespace = current_schema()::regnamespace
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
    ORDER BY 1`.execute(trx);
  for (const index of indexes) await sql`DROP INDEX ${sql.raw(index.name)}`.execute(trx);
  const result = await load();
  for (const index of indexes) await sql.raw(index.definition).execute(trx);
  return result;
}
