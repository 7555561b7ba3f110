import { execFile } from 'node:child_process';
import { writeFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { localUrl } from './backends.ts';
import { progressEvent } from './single-appends.ts';

const run = promisify(execFile);

/**
 * The baseline for single appends: pgbench inserting one row per
 * transaction into a table shaped like `events` (text columns and a jsonb
 * payload of the same size) but with only a primary key and nothing else
 * around it: no stream version, no secondary indexes, no notification.
 */
const TABLE = `
  CREATE TABLE IF NOT EXISTS pgbench_events (
    id bigserial PRIMARY KEY,
    stream_id text NOT NULL,
    stream_type text NOT NULL,
    version integer NOT NULL,
    type text NOT NULL,
    data jsonb NOT NULL,
    actor text NOT NULL,
    command_id text NOT NULL,
    correlation_id text NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp()
  )`;

const script = () => {
  const data = JSON.stringify(progressEvent(1).data).replaceAll("'", "''");
  return [
    '\\set v random(1, 1000000000)',
    `INSERT INTO pgbench_events (stream_id, stream_type, version, type, data, actor, command_id, correlation_id) ` +
      `VALUES ('bench-' || :client_id, 'bench', :v, 'TaskProgressed', '${data}', 'bench', gen_random_uuid()::text, gen_random_uuid()::text);`,
    '',
  ].join('\n');
};

export async function pgbenchAvailable(): Promise<boolean> {
  return run('pgbench', ['--version']).then(() => true, () => false);
}

/** `pgbench -n -c N -j 2 -T seconds -f script.sql` against the scratch database; returns tps. */
export async function pgbenchInserts(url: string, clients: number, durationSeconds: number): Promise<{ tps: number; command: string }> {
  const target = localUrl(url);
  const client = new pg.Client({ connectionString: target.toString() });
  await client.connect();
  await client.query(TABLE);
  await client.end();
  const dir = await mkdtemp(join(tmpdir(), 'brume-pgbench-'));
  const file = join(dir, 'insert.sql');
  await writeFile(file, script());
  const args = [
    '-h', target.hostname, '-p', target.port || '5432', '-U', decodeURIComponent(target.username || 'postgres'),
    '-n', '-c', String(clients), '-j', '2', '-T', String(durationSeconds), '-f', file, target.pathname.slice(1),
  ];
  try {
    const { stdout } = await run('pgbench', args, { env: { ...process.env, PGPASSWORD: decodeURIComponent(target.password) } });
    const tps = /tps = ([\d.]+)/.exec(stdout);
    if (!tps) throw new Error(`pgbench printed no tps:\n${stdout}`);
    return { tps: Number(tps[1]), command: `pgbench -n -c ${clients} -j 2 -T ${durationSeconds} -f insert.sql` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
