import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrume } from '../../adapters/runtime/brume.ts';
import { listHosts } from '../../projections/sql/queries.ts';
import { brumeBackground } from '../support/cli.ts';
import { BACKENDS, freshDatabase, type TestDatabase } from '../support/databases.ts';

const HOSTS = 20_000;
const csv = Array.from({ length: HOSTS }, (_, i) => {
  const hex = i.toString(16).padStart(6, '0');
  return `"02:00:00:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4)}","crash-${i}","","","",""`;
}).join('\n');

/**
 * A process killed with SIGKILL in the middle of a large import must leave
 * either the whole import or nothing: never half of it, never a store that
 * will not open again.
 */
describe.each(BACKENDS)('a server killed mid-command on $backend', ({ backend, skip }) => {
  let dir: string;
  let db: TestDatabase | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'brume-crash-'));
    await writeFile(join(dir, 'hosts.csv'), csv);
    if (!skip && backend === 'postgres') db = await freshDatabase('postgres');
  });
  afterAll(async () => {
    await db?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(skip)('loses nothing and half-does nothing', async () => {
    const env: Record<string, string> = backend === 'postgres'
      ? { DATABASE_URL: db!.url!, BRUME_ADMIN_PASSWORD: 'crash test password' }
      : { DATABASE_URL: '', BRUME_DATA_DIR: join(dir, 'data'), BRUME_ADMIN_PASSWORD: 'crash test password' };
    const importer = brumeBackground(['hosts', 'import', join(dir, 'hosts.csv')], env);
    // Kill it while it writes: the whole import is one transaction in flight.
    await importer.waitFor(/writing 20000 host\(s\)/, 60_000);
    await new Promise((r) => setTimeout(r, 300));
    importer.child.kill('SIGKILL');
    expect(importer.output.stdout).not.toContain('imported');
    await importer.stop();

    const brume = await openBrume(backend === 'postgres' ? { databaseUrl: db!.url } : { dataDir: join(dir, 'data') });
    try {
      const registered = (await brume.store.readAll({ after: null, limit: 100_000, types: ['HostRegistered'] })).length;
      expect([0, HOSTS]).toContain(registered);
      const listed = await listHosts(brume.database.db, { q: 'crash-', limit: 1 });
      expect(listed.total).toBe(registered);
      // The store still takes writes after the crash.
      const after = await brume.commands.hosts.register({ actor: 't', commandId: 'after-crash' }, { name: 'after-crash', macs: ['02:ff:00:00:00:01'] });
      expect(after.ok).toBe(true);
    } finally {
      await brume.close();
    }
  });
});
