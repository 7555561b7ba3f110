import { sql } from 'kysely';
import type { Database } from '../adapters/database/open-database.ts';
import { openBrume, commandMeta, type Brume } from '../adapters/runtime/brume.ts';
import { TASKS } from '../core/application/aggregates.ts';
import type { StreamAppend } from '../core/ports/event-store.ts';
import type { DomainEvent, RecordedEvent } from '../core/shared/event.ts';
import { checkInTask, completeTask, failTask, reportTaskProgress, startTask } from '../core/tasks/client-reports.ts';
import type { TaskEvent } from '../core/tasks/task.ts';
import type { TaskSnapshot } from '../core/tasks/task-machine.ts';
import type { Result } from '../core/shared/result.ts';
import type { Scratch } from './backends.ts';
import { benchMeta } from './single-appends.ts';
import { csvOf, fleet, type HostSpec } from './host-data.ts';

export interface DatasetSize {
  hosts: number;
  groups: number;
  /** Members per group; every member gets one deploy task. */
  groupSize: number;
  importChunk: number;
}

export const FULL_DATASET: DatasetSize = { hosts: 50_000, groups: 40, groupSize: 250, importChunk: 2_500 };

/** A log in a scratch database, ready to rebuild and search. */
export interface Dataset {
  database: Database;
  hosts: HostSpec[];
  events: number;
  seconds: number;
  /** How the log got there: written by the commands, or copied from another backend's. */
  how: 'commands' | 'copied';
  close(): Promise<void>;
}

/** An events row as stored, without the columns the database assigns (position, transaction). */
export type EventRow = Record<string, unknown>;

/** The log written by the commands on one backend, to load into others as it is. */
export interface LogSource {
  rows: EventRow[];
  hosts: HostSpec[];
}

const must = <T>(outcome: { ok: true; value: T } | { ok: false; error: { message: string } }, what: string): T => {
  if (!outcome.ok) throw new Error(`${what}: ${outcome.error.message}`);
  return outcome.value;
};

/**
 * A realistic log, written the way brume writes it. Through the real
 * commands: images, storage nodes, hosts (FOG CSV import, a few thousand
 * lines per file), groups, memberships and group deploys (one task per
 * member). The clients' reports (check-in, start, progress, completion or
 * failure) are decided by the same domain functions the commands use, then
 * appended to the store in batches of 500 tasks per report, as that many
 * clients reporting at once would be, instead of one command each.
 */
export async function buildDataset(scratch: Scratch, size: DatasetSize): Promise<Dataset & { source: LogSource }> {
  const started = performance.now();
  const brume = await openBrume({ databaseUrl: scratch.url, dataDir: scratch.dataDir, follow: false });
  try {
    const hosts = await writeLog(brume, size);
    const seconds = (performance.now() - started) / 1000;
    const rows = await exportLog(brume.database);
    return { database: brume.database, hosts, events: rows.length, seconds, how: 'commands', close: () => brume.close(), source: { rows, hosts } };
  } catch (error) {
    await brume.close();
    throw error;
  }
}

/**
 * Loads a log another backend's commands wrote, row by row, in its order
 * (5,000 events per transaction): the same events, without writing them
 * through the commands again.
 */
export async function copyDataset(scratch: Scratch, source: LogSource): Promise<Dataset> {
  const started = performance.now();
  const database = await scratch.open();
  try {
    for (let i = 0; i < source.rows.length; i += 5000) {
      await sql`
        INSERT INTO events (${sql.join(EXPORTED.map((c) => sql.ref(c)))})
        SELECT ${sql.join(EXPORTED.map((c) => sql.ref(`r.${c}`)))}
        FROM json_populate_recordset(NULL::events, ${JSON.stringify(source.rows.slice(i, i + 5000))}::json) WITH ORDINALITY AS r
        ORDER BY r.ordinality`.execute(database.db);
    }
  } catch (error) {
    await database.close();
    throw error;
  }
  return {
    database, hosts: source.hosts, events: source.rows.length, seconds: (performance.now() - started) / 1000, how: 'copied', close: () => database.close(),
  };
}

const EXPORTED = ['stream_id', 'stream_type', 'version', 'type', 'schema_version', 'data', 'actor', 'command_id', 'correlation_id', 'causation_id', 'reason', 'occurred_at'];

/** Every event, in commit order, as stored. */
async function exportLog(database: Database): Promise<EventRow[]> {
  const { rows } = await sql<EventRow>`
    SELECT ${sql.join(EXPORTED.map((c) => sql.ref(c)))} FROM events ORDER BY transaction_id, global_position`.execute(database.db);
  return rows;
}

/** Writes the log through the commands; returns the hosts it registered. */
async function writeLog(brume: Brume, size: DatasetSize): Promise<HostSpec[]> {
  const { commands } = brume;
  const meta = () => commandMeta('bench-admin');
  const imageNames = ['win11-lab', 'win10-office', 'debian-12', 'ubuntu-24'];
  const images = [];
  for (const name of imageNames) images.push(must(await commands.images.create(meta(), { name, type: 'n', os: name }), 'image').id);
  for (const [i, name] of ['store-a', 'store-b'].entries()) {
    must(await commands.storageNodes.create(meta(), { name, address: `10.0.0.${i + 2}`, maxClients: 10, master: i === 0, enabled: true }), 'storage node');
  }

  const hosts = fleet(size.hosts);
  const hostIds: string[] = [];
  for (let i = 0; i < hosts.length; i += size.importChunk) {
    const chunk = hosts.slice(i, i + size.importChunk);
    const report = must(await commands.hosts.importCsv(meta(), csvOf(chunk, imageNames[(i / size.importChunk) % imageNames.length]!)), 'import');
    if (report.imported.length !== chunk.length) throw new Error(`import refused ${report.rejected.length} lines: ${report.rejected[0]?.reason}`);
    hostIds.push(...report.imported.map((h) => h.hostId));
  }

  for (let g = 0; g < size.groups; g++) {
    const groupId = must(await commands.groups.create(meta(), { name: `room-${g}`, imageId: images[g % images.length] }), 'group').id;
    must(await commands.groups.changeMembers(meta(), groupId, { add: hostIds.slice(g * size.groupSize, (g + 1) * size.groupSize) }), 'members');
    must(await commands.tasks.createOnGroup(meta(), { groupId, type: 'deploy' }), 'group deploy');
  }

  await reportTaskLifecycles(brume);
  return hosts;
}

type Tracked = { streamId: string; taskId: string; version: number; snapshot: TaskSnapshot };

/** Every queued task checks in, starts, reports progress twice, and completes (1 in 20 fails instead). */
async function reportTaskLifecycles(brume: Brume): Promise<void> {
  const tasks: Tracked[] = [];
  for (let after = null as RecordedEvent | null; ;) {
    const page = await brume.store.readAll({ after: after && { transactionId: after.transactionId, globalPosition: after.globalPosition }, limit: 5000, types: ['TaskCreated'] });
    if (page.length === 0) break;
    for (const e of page) {
      tasks.push({ streamId: e.streamId, taskId: (e.data as { taskId: string }).taskId, version: e.version, snapshot: TASKS.evolve(TASKS.initial(), e as unknown as TaskEvent) });
    }
    after = page[page.length - 1]!;
  }
  const t0 = Date.UTC(2025, 0, 6, 8, 0, 0);
  const total = 8_000_000_000;
  const steps: ((t: Tracked, i: number) => Result<TaskEvent[]>)[] = [
    (t, i) => checkInTask({ taskId: t.taskId, at: new Date(t0 + i * 10) }, t.snapshot),
    (t, i) => startTask({ taskId: t.taskId, at: new Date(t0 + 60_000 + i * 10) }, t.snapshot),
    (t) => reportTaskProgress({ taskId: t.taskId, bytesDone: total / 4, bytesTotal: total, rateBytesPerSecond: 95_000_000, partition: '/dev/sda2' }, t.snapshot),
    (t) => reportTaskProgress({ taskId: t.taskId, bytesDone: (3 * total) / 4, bytesTotal: total, rateBytesPerSecond: 97_000_000, partition: '/dev/sda3' }, t.snapshot),
    (t, i) => (i % 20 === 7
      ? failTask({ taskId: t.taskId, reason: 'partclone exited with 1', command: 'partclone.ntfs -r', output: 'write error: No space left on device' }, t.snapshot)
      : completeTask({ taskId: t.taskId }, t.snapshot)),
  ];
  for (const step of steps) {
    for (let i = 0; i < tasks.length; i += 500) {
      const appends: StreamAppend[] = tasks.slice(i, i + 500).map((t, j) => {
        const decided = step(t, i + j);
        if (!decided.ok) throw new Error(decided.error.message);
        const events: DomainEvent[] = decided.value;
        const append = { streamId: t.streamId, streamType: 'task', expectedVersion: t.version, events };
        for (const e of decided.value) t.snapshot = TASKS.evolve(t.snapshot, e);
        t.version += events.length;
        return append;
      });
      await brume.store.append(appends, { metadata: benchMeta() });
    }
  }
}
