import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import { Migrator, type MigrationResultSet } from 'kysely/migration';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { MIGRATIONS } from '../../infra/migrations/index.ts';
import type { Schema } from './schema.ts';

/** The one PostgreSQL channel the store notifies on after every append (payload-free). */
export const EVENTS_CHANNEL = 'brume_events';

export interface Database {
  db: Kysely<Schema>;
  kind: 'postgres' | 'pglite';
  /** Calls `onNotify` whenever any process commits an append. Returns a stop function. */
  listen(onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface DatabaseConfig {
  /** A PostgreSQL URL; when absent, PGlite is used. */
  url?: string | undefined;
  /** PGlite data directory; `memory://` (or undefined) keeps everything in memory. */
  dataDir?: string | undefined;
  /** pg pool size. */
  poolSize?: number;
}

const INT8 = 20;
const NUMERIC = 1700;
// Positions and sizes are bigint in SQL; they stay far below 2^53, so numbers are safe and simpler.
const toNumber = (value: string) => Number(value);

/**
 * Opens the database: PostgreSQL through `pg` when a URL is given, otherwise
 * embedded PGlite. Both run the same migrations and the same SQL.
 *
 * @example
 * const { db } = await openDatabase({ dataDir: './data' });
 */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  return config.url ? openPostgres(config.url, config.poolSize ?? 10) : openPglite(config.dataDir);
}

/**
 * Statements that begin with this comment run as named prepared statements
 * on PostgreSQL: parsed and planned once per connection instead of on every
 * call. Only fixed-shape hot statements carry it (the store's one-stream
 * append), so the number of statements a connection keeps stays small.
 */
export const PREPARE = '/* brume:prepare */';

const preparedNames = new Map<string, string>();
/** The statement's name, hashed once per text: the marked statements are few, and hashing ~1 KB per call showed in profiles. */
const preparedName = (text: string) => {
  let name = preparedNames.get(text);
  if (name === undefined) {
    name = `brume_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    if (preparedNames.size < 1000) preparedNames.set(text, name);
  }
  return name;
};

/** Hands Kysely pool clients whose `query` prepares the marked statements. */
function preparingPool(pool: pg.Pool) {
  const patched = new WeakSet<pg.PoolClient>();
  return {
    async connect() {
      const client = await pool.connect();
      if (!patched.has(client)) {
        const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
        (client as { query: unknown }).query = (text: unknown, values?: unknown) =>
          typeof text === 'string' && text.startsWith(PREPARE) ? query({ name: preparedName(text), text, values }) : query(text, values);
        patched.add(client);
      }
      return client;
    },
    end: () => pool.end(),
  };
}

async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8 || oid === NUMERIC ? toNumber : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: preparingPool(pool) as never }) });
  return {
    db,
    kind: 'postgres',
    async listen(onNotify) {
      // A dedicated connection: LISTEN lives as long as the session that issued it.
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      client.on('notification', () => onNotify());
      client.on('error', () => {});
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
      return async () => {
        await client.end().catch(() => {});
      };
    },
    close: () => db.destroy(),
  };
}

async function openPglite(dataDir: string | undefined): Promise<Database> {
  const inMemory = !dataDir || dataDir.startsWith('memory://');
  if (!inMemory) mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create(inMemory ? undefined : dataDir, {
    extensions: { pg_trgm },
    parsers: { [INT8]: toNumber, [NUMERIC]: toNumber },
  });
  const db = new Kysely<Schema>({ dialect: new PGliteDialect({ pglite }) });
  return {
    db,
    kind: 'pglite',
    async listen(onNotify) {
      const unsubscribe = await pglite.listen(EVENTS_CHANNEL, () => onNotify());
      return async () => {
        await unsubscribe().catch(() => {});
      };
    },
    close: () => db.destroy(),
  };
}

/** Brings the schema up to date. Safe to run at every start and from several processes. */
export async function migrate(db: Kysely<Schema>): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => MIGRATIONS },
    migrationTableName: 'brume_migrations',
    migrationLockTableName: 'brume_migrations_lock',
  });
  const result = await migrator.migrateToLatest();
  if (result.error) throw result.error instanceof Error ? result.error : new Error(String(result.error));
  return result;
}
