import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate, openDatabase, type Database } from '../adapters/database/open-database.ts';

export type BackendName = 'pglite-memory' | 'pglite-disk' | 'postgres';
export const BACKEND_NAMES: readonly BackendName[] = ['pglite-memory', 'pglite-disk', 'postgres'];

/** A fresh, empty place to run one measurement in; `dispose` removes it. */
export interface Scratch {
  /** What openDatabase / openBrume need to open it. */
  url?: string;
  dataDir?: string;
  /** The scratch PostgreSQL database's name (for pgbench). */
  dbName?: string;
  open(poolSize?: number): Promise<Database>;
  dispose(): Promise<void>;
}

export interface Backend {
  name: BackendName;
  /** Concurrent appenders to measure; PGlite has one connection, so only 1. */
  concurrencies: number[];
  fresh(): Promise<Scratch>;
}

export const DEFAULT_BENCH_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** The bench only ever talks to a server on this machine. */
export function localUrl(raw: string): URL {
  const url = new URL(raw);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    throw new Error(`the bench only runs against a local PostgreSQL (127.0.0.1), not ${url.hostname}`);
  }
  url.hostname = '127.0.0.1';
  return url;
}

async function openMigrated(config: { url?: string; dataDir?: string }, poolSize?: number): Promise<Database> {
  const database = await openDatabase({ ...config, ...(poolSize ? { poolSize } : {}) });
  await migrate(database.db);
  return database;
}

export function pgliteMemory(): Backend {
  return {
    name: 'pglite-memory',
    concurrencies: [1],
    async fresh() {
      return { open: () => openMigrated({}), dispose: async () => {} };
    },
  };
}

export function pgliteDisk(): Backend {
  return {
    name: 'pglite-disk',
    concurrencies: [1],
    async fresh() {
      const parent = await mkdtemp(join(tmpdir(), 'brume-bench-'));
      const dataDir = join(parent, 'data');
      return {
        dataDir,
        open: () => openMigrated({ dataDir }),
        dispose: () => rm(parent, { recursive: true, force: true }),
      };
    },
  };
}

/** Each scratch is a new database beside `adminUrl`'s, dropped on dispose (as tests/support/databases.ts does). */
export function postgres(adminUrl: URL): Backend {
  return {
    name: 'postgres',
    concurrencies: [1, 8],
    async fresh() {
      const dbName = `brume_bench_${randomBytes(6).toString('hex')}`;
      await adminQuery(adminUrl, `CREATE DATABASE ${dbName}`);
      const url = new URL(adminUrl);
      url.pathname = `/${dbName}`;
      return {
        url: url.toString(),
        dbName,
        open: (poolSize) => openMigrated({ url: url.toString() }, poolSize),
        dispose: async () => {
          // Closed pools may still be hanging up; a forced drop would cut them off mid-goodbye.
          for (let i = 0; i < 50; i++) {
            const open = await adminQuery(adminUrl, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = '${dbName}'`);
            if (open.rows[0].n === 0) break;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
        },
      };
    },
  };
}

export async function adminQuery(adminUrl: URL, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: adminUrl.toString() });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

/** Runs `body` in a fresh scratch and always removes it afterwards. */
export async function withScratch<T>(backend: Backend, body: (scratch: Scratch) => Promise<T>): Promise<T> {
  const scratch = await backend.fresh();
  try {
    return await body(scratch);
  } finally {
    await scratch.dispose();
  }
}
