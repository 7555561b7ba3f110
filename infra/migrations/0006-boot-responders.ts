import { sql, type Kysely } from 'kysely';

/**
 * DHCP leases (full mode) survive restarts in a table rather than the event
 * log: a busy network renews thousands of leases an hour, which would drown
 * the history auditors read. Boot stages per host are a read model of the
 * rate-limited BootStageObserved events.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE IF NOT EXISTS dhcp_leases (
    mac text PRIMARY KEY,
    ip text NOT NULL UNIQUE,
    host_id text,
    hostname text,
    expires_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
  await sql`CREATE TABLE IF NOT EXISTS rm_boot_stages (
    mac text NOT NULL,
    stage text NOT NULL,
    host_id text,
    at timestamptz NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (mac, stage)
  )`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS rm_boot_stages_host ON rm_boot_stages (host_id)`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS rm_boot_stages_at ON rm_boot_stages (at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS rm_boot_stages`.execute(db);
  await sql`DROP TABLE IF EXISTS dhcp_leases`.execute(db);
}
