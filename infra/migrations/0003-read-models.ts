import { sql, type Kysely } from 'kysely';

/**
 * Read models (rm_*). Everything here can be thrown away and rebuilt from
 * the log with `brume projections rebuild`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // Trigram indexes make "search as you type" by any part of a name, MAC or IP fast.
  await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`.execute(db);
  await sql`
    CREATE TABLE rm_hosts (
      host_id text PRIMARY KEY,
      name text NOT NULL,
      description text NOT NULL,
      primary_mac text NOT NULL,
      ip text,
      image_id text,
      storage_node_id text,
      site text,
      macs jsonb NOT NULL,
      inventory jsonb,
      group_ids jsonb NOT NULL DEFAULT '[]',
      active_task_id text,
      last_task_id text,
      search_text text NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      version integer NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX rm_hosts_name ON rm_hosts (lower(name), host_id)`.execute(db);
  await sql`CREATE INDEX rm_hosts_search ON rm_hosts USING gin (search_text gin_trgm_ops)`.execute(db);
  await sql`
    CREATE TABLE rm_host_macs (
      mac text PRIMARY KEY,
      host_id text NOT NULL,
      role text NOT NULL,
      ignore_for_imaging boolean NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX rm_host_macs_host ON rm_host_macs (host_id)`.execute(db);
  await sql`
    CREATE TABLE rm_groups (
      group_id text PRIMARY KEY,
      name text NOT NULL,
      description text NOT NULL,
      image_id text,
      member_count integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      version integer NOT NULL
    )`.execute(db);
  await sql`CREATE TABLE rm_group_members (group_id text NOT NULL, host_id text NOT NULL, PRIMARY KEY (group_id, host_id))`.execute(db);
  await sql`CREATE INDEX rm_group_members_host ON rm_group_members (host_id)`.execute(db);
  await sql`
    CREATE TABLE rm_images (
      image_id text PRIMARY KEY,
      name text NOT NULL,
      description text NOT NULL,
      type text NOT NULL,
      os text NOT NULL,
      compression integer NOT NULL,
      current_revision integer,
      size_bytes bigint,
      sha256 text,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      version integer NOT NULL
    )`.execute(db);
  await sql`
    CREATE TABLE rm_storage_nodes (
      storage_node_id text PRIMARY KEY,
      name text NOT NULL,
      address text NOT NULL,
      max_clients integer NOT NULL,
      master boolean NOT NULL,
      site text,
      enabled boolean NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      version integer NOT NULL
    )`.execute(db);
  await sql`
    CREATE TABLE rm_tasks (
      task_id text PRIMARY KEY,
      host_id text NOT NULL,
      host_name text NOT NULL,
      type_id integer NOT NULL,
      type_name text NOT NULL,
      state text NOT NULL,
      image_id text,
      storage_node_id text,
      options jsonb NOT NULL,
      group_run_id text,
      replay_of text,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL,
      checked_in_at timestamptz,
      started_at timestamptz,
      finished_at timestamptz,
      check_in_deadline timestamptz,
      bytes_done bigint,
      bytes_total bigint,
      rate_bytes_per_second double precision,
      partition text,
      reason text,
      version integer NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX rm_tasks_state ON rm_tasks (state, created_at DESC)`.execute(db);
  await sql`CREATE INDEX rm_tasks_host ON rm_tasks (host_id, created_at DESC)`.execute(db);
  await sql`CREATE INDEX rm_tasks_created ON rm_tasks (created_at DESC, task_id)`.execute(db);
  await sql`
    CREATE TABLE rm_group_runs (
      run_id text PRIMARY KEY,
      group_id text NOT NULL,
      type_id integer NOT NULL,
      task_ids jsonb NOT NULL,
      skipped jsonb NOT NULL,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL
    )`.execute(db);
  await sql`
    CREATE TABLE rm_users (
      user_id text PRIMARY KEY,
      username text NOT NULL UNIQUE,
      role text NOT NULL,
      disabled boolean NOT NULL,
      created_at timestamptz NOT NULL
    )`.execute(db);
  // Which events concern which subject (a host: its own events, its tasks', its group memberships).
  await sql`
    CREATE TABLE rm_event_subjects (
      subject text NOT NULL,
      global_position bigint NOT NULL,
      PRIMARY KEY (subject, global_position)
    )`.execute(db);
}

export const READ_MODEL_TABLES = [
  'rm_hosts', 'rm_host_macs', 'rm_groups', 'rm_group_members', 'rm_images', 'rm_storage_nodes',
  'rm_tasks', 'rm_group_runs', 'rm_users', 'rm_event_subjects',
] as const;

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of READ_MODEL_TABLES) await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db);
}
