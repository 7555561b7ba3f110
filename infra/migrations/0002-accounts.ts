import { sql, type Kysely } from 'kysely';

/** Secrets live here, never in the event log: password hashes, token hashes, sessions. */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE credentials (user_id text PRIMARY KEY, password_hash text NOT NULL)`.execute(db);
  await sql`
    CREATE TABLE api_tokens (
      token_id text PRIMARY KEY,
      user_id text NOT NULL,
      token_hash text NOT NULL UNIQUE,
      name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz,
      revoked_at timestamptz
    )`.execute(db);
  await sql`
    CREATE TABLE sessions (
      session_hash text PRIMARY KEY,
      user_id text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['sessions', 'api_tokens', 'credentials']) await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db);
}
