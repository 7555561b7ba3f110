import { sql, type Kysely } from 'kysely';

/**
 * The append-only log and what the store keeps beside it: stream versions
 * (optimistic concurrency), uniqueness claims, command results
 * (idempotency), and subscriber checkpoints.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE events (
      global_position bigserial PRIMARY KEY,
      transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
      stream_id text NOT NULL,
      stream_type text NOT NULL,
      version integer NOT NULL,
      type text NOT NULL,
      schema_version integer NOT NULL DEFAULT 1,
      data jsonb NOT NULL,
      actor text NOT NULL,
      command_id text NOT NULL,
      correlation_id text NOT NULL,
      causation_id text,
      reason text,
      occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      UNIQUE (stream_id, version)
    )`.execute(db);
  // Subscribers read in (transaction_id, global_position) order; see adapters/event-store.
  await sql`CREATE INDEX events_commit_order ON events (transaction_id, global_position)`.execute(db);
  await sql`CREATE INDEX events_by_type ON events (type, global_position)`.execute(db);
  await sql`CREATE INDEX events_by_actor ON events (actor, global_position)`.execute(db);
  await sql`CREATE INDEX events_by_correlation ON events (correlation_id, global_position)`.execute(db);
  await sql`CREATE INDEX events_by_time ON events (occurred_at)`.execute(db);
  await sql`CREATE INDEX events_by_command ON events (command_id)`.execute(db);
  await sql`
    CREATE TABLE streams (
      stream_id text PRIMARY KEY,
      stream_type text NOT NULL,
      version integer NOT NULL
    )`.execute(db);
  await sql`
    CREATE TABLE claims (
      kind text NOT NULL,
      value text NOT NULL,
      owner_stream_id text NOT NULL,
      PRIMARY KEY (kind, value)
    )`.execute(db);
  await sql`
    CREATE TABLE commands (
      command_id text PRIMARY KEY,
      result jsonb NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE TABLE checkpoints (
      name text PRIMARY KEY,
      transaction_id xid8 NOT NULL,
      global_position bigint NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['checkpoints', 'commands', 'claims', 'streams', 'events']) {
    await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db);
  }
}
