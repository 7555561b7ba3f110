import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate, openDatabase, type Database } from '../../adapters/database/open-database.ts';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

export type Backend = 'pglite' | 'postgres';

/** PGlite always; PostgreSQL too when TEST_DATABASE_URL is set (the others are reported as skipped). */
export const BACKENDS: { backend: Backend; skip: boolean }[] = [
  { backend: 'pglite', skip: false },
  { backend: 'postgres', skip: !TEST_DATABASE_URL },
];

export interface TestDatabase extends Database {
  url?: string;
  dispose(): Promise<void>;
}

/**
 * A fresh, migrated database: in-memory PGlite, or a new PostgreSQL database
 * created beside TEST_DATABASE_URL's and dropped afterwards.
 */
export async function freshDatabase(backend: Backend, options: { poolSize?: number } = {}): Promise<TestDatabase> {
  if (backend === 'pglite') {
    const database = await openDatabase({});
    await migrate(database.db);
    return { ...database, dispose: () => database.close() };
  }
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  const name = `brume_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), poolSize: options.poolSize ?? 10 });
  await migrate(database.db);
  return {
    ...database,
    url: url.toString(),
    async dispose() {
      await database.close();
      const cleanup = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await cleanup.connect();
      // Wait for this process's connections to go before dropping: FORCE would kill a closing
      // connection, whose FATAL then surfaces as an uncaught error in the test run.
      for (let attempt = 0; ; attempt++) {
        try {
          await cleanup.query(`DROP DATABASE IF EXISTS ${name}${attempt >= 50 ? ' WITH (FORCE)' : ''}`);
          break;
        } catch (error) {
          if ((error as { code?: string }).code !== '55006' || attempt >= 50) throw error;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      await cleanup.end();
    },
  };
}
