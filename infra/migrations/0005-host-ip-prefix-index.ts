import { sql, type Kysely } from 'kysely';

/** Host search treats "192.0.2." as an IP prefix (projections/sql/queries.ts); this index serves it. */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX IF NOT EXISTS rm_hosts_ip ON rm_hosts (ip text_pattern_ops)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS rm_hosts_ip`.execute(db);
}
