import { readFile } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import { adminQuery } from './backends.ts';

export interface Machine {
  nproc: number;
  memoryGiB: number;
  cpu: string;
  postgres: string;
  node: string;
  date: string;
}

/** What the figures were measured on. */
export async function describeMachine(adminUrl: URL | undefined): Promise<Machine> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  let postgres = 'not measured';
  if (adminUrl) {
    postgres = await adminQuery(adminUrl, 'SHOW server_version').then((r) => `PostgreSQL ${String(r.rows[0].server_version).split(' ')[0]}`, () => 'unreachable');
  }
  return {
    nproc: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    cpu,
    postgres,
    node: process.version,
    date: new Date().toISOString().slice(0, 10),
  };
}
