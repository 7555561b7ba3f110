import { sql, type Kysely } from 'kysely';

/**
 * Every index on `events` is paid for by every append (about 2 ms per 1,000
 * events each, measured in docs/benchmarks.md). Nothing looks events up by
 * command id: idempotency reads the `commands` table, and auditors follow a
 * command through its correlation id, which is indexed.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS events_by_command`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX IF NOT EXISTS events_by_command ON events (command_id)`.execute(db);
}
