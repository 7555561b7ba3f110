import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrume, type Brume } from '../../adapters/runtime/brume.ts';
import { READ_MODEL_TABLES } from '../../infra/migrations/0003-read-models.ts';
import { rebuildReadModels } from '../../projections/sql/read-models.ts';
import { getGroup, getHost, getTask, listHosts, listStorageNodes, listTasks, queryEvents } from '../../projections/sql/queries.ts';
import { BACKENDS, freshDatabase, type TestDatabase } from '../support/databases.ts';
import { buildRichHistory } from '../support/scenario.ts';

/** Every row of every read model, in primary-key order, as plain JSON. */
async function dumpReadModels(brume: Brume): Promise<Record<string, unknown[]>> {
  const dump: Record<string, unknown[]> = {};
  for (const table of READ_MODEL_TABLES) {
    const rows = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)} ORDER BY 1, 2`.execute(brume.database.db);
    dump[table] = JSON.parse(JSON.stringify(rows.rows));
  }
  return dump;
}

describe.each(BACKENDS)('read models on $backend', ({ backend, skip }) => {
  let db: TestDatabase | undefined;
  let brume: Brume;
  let history: Awaited<ReturnType<typeof buildRichHistory>>;

  beforeAll(async () => {
    if (skip) return;
    if (backend === 'postgres') {
      db = await freshDatabase('postgres');
      brume = await openBrume({ databaseUrl: db.url });
    } else {
      brume = await openBrume({});
    }
    history = await buildRichHistory(brume);
    const last = await brume.store.readAll({ after: null, limit: 100_000 });
    await brume.settle(last[last.length - 1]!.globalPosition);
  });
  afterAll(async () => {
    await brume?.close();
    await db?.dispose();
  });

  it.skipIf(skip)('shows hosts as the history left them', async () => {
    const renamed = await getHost(brume.database.db, history.hosts[0]!);
    expect(renamed).toMatchObject({ name: 'lab-renamed', primaryMac: '52:54:00:00:02:00' });
    expect(renamed!.macs).toEqual([
      { mac: '52:54:00:00:02:00', role: 'primary', ignoreForImaging: false },
      { mac: '52:54:00:00:02:01', role: 'pending', ignoreForImaging: false },
    ]);
    expect(await getHost(brume.database.db, history.hosts[11]!)).toBeUndefined();
    expect((await getHost(brume.database.db, history.hosts[1]!))!.inventory).toEqual({ sysManufacturer: 'QEMU', memory: 2048, disks: ['vda'] });
    expect((await getHost(brume.database.db, history.hosts[7]!))!.groupIds).toEqual([history.group.id]);
    const group = await getGroup(brume.database.db, history.group.id);
    expect(group!.memberIds.sort()).toEqual([...history.hosts.slice(0, 5), history.hosts[7]!].sort());
    expect(group!.memberCount).toBe(6);
    expect(await getGroup(brume.database.db, history.group2.id)).toBeUndefined();
  });

  it.skipIf(skip)('finds hosts by any part of a name, a MAC in any form, or an IP, and pages through them', async () => {
    const { db } = brume.database;
    expect((await listHosts(db, { q: 'RENAMED' })).items.map((h) => h.name)).toEqual(['lab-renamed']);
    for (const q of ['52:54:00:00:01:03', '52-54-00-00-01-03', '525400000103', '5254.0000.0103', '00:01:03']) {
      expect((await listHosts(db, { q })).items.map((h) => h.name), q).toEqual(['lab-03']);
    }
    // An IP is matched as a prefix: 192.0.2.2 finds .20 to .29 (lab-00, now lab-renamed, to lab-09), not .30.
    const byIp = (await listHosts(db, { q: '192.0.2.2' })).items.map((h) => h.name).sort();
    expect(byIp).toEqual(['lab-01', 'lab-02', 'lab-03', 'lab-04', 'lab-05', 'lab-06', 'lab-07', 'lab-08', 'lab-09', 'lab-renamed']);
    expect((await listHosts(db, { q: '192.0.2.30' })).items.map((h) => h.name)).toEqual(['lab-10']);
    expect((await listHosts(db, { q: '192.0.2.31' })).items).toEqual([]); // lab-11 was deleted
    const first = await listHosts(db, { limit: 4 });
    expect(first.total).toBe(11);
    const second = await listHosts(db, { limit: 4, cursor: first.nextCursor! });
    const third = await listHosts(db, { limit: 4, cursor: second.nextCursor! });
    const names = [...first.items, ...second.items, ...third.items].map((h) => h.name);
    expect(names).toHaveLength(11);
    expect(new Set(names).size).toBe(11);
    expect(third.nextCursor).toBeNull();
    expect((await listHosts(db, { q: '%' })).items).toEqual([]);
  });

  it.skipIf(skip)('shows tasks in every state with progress, reasons and links', async () => {
    const { db } = brume.database;
    expect(await getTask(db, history.t1.taskId)).toMatchObject({ state: 'complete', typeName: 'Deploy', progress: { bytesDone: 500, bytesTotal: 1000, percent: 50, etaSeconds: 5, partition: 'sda1' } });
    expect(await getTask(db, history.t2.taskId)).toMatchObject({ state: 'failed', reason: 'disk not found', typeName: 'Capture' });
    expect(await getTask(db, history.t3.taskId)).toMatchObject({ state: 'cancelled', reason: 'room closed', typeName: 'Hardware Inventory' });
    expect(await getTask(db, history.replay.taskId)).toMatchObject({ state: 'queued', replayOf: history.t2.taskId });
    const runTasks = await listTasks(db, { groupRunId: history.run.runId });
    expect(runTasks.items).toHaveLength(history.run.tasks.length);
    expect(runTasks.items.every((t) => t.options.afterTask === 'shutdown')).toBe(true);
    const active = await listTasks(db, { state: 'active' });
    expect(active.items.map((t) => t.id).sort()).toEqual([history.replay.taskId, ...history.run.tasks.map((t) => t.taskId)].sort());
    const nodes = await listStorageNodes(db);
    expect(nodes[0]).toMatchObject({ name: 'node-a', maxClients: 4, slotsUsed: 0, slotsFree: 4 });
  });

  it.skipIf(skip)('indexes every event under the subjects it concerns', async () => {
    const { events } = await queryEvents(brume.database.db, { subject: `host-${history.hosts[8]}`, limit: 500 });
    expect(events.map((e) => e.type)).toEqual([
      'HostRegistered', 'TaskCreated', 'TaskCheckedIn', 'TaskStarted', 'TaskProgressed', 'TaskCompleted',
    ]);
    const member = await queryEvents(brume.database.db, { subject: `host-${history.hosts[7]}`, limit: 500 });
    expect(member.events.map((e) => e.type)).toEqual(['HostRegistered', 'GroupMembersAdded', 'GroupMembersAdded', 'GroupTaskRunStarted', 'TaskCreated']);
  });

  it.skipIf(skip)('rebuilds identical tables from the log', async () => {
    const live = await dumpReadModels(brume);
    expect(live.rm_hosts!.length).toBe(11);
    const result = await rebuildReadModels(brume.database.db);
    expect(result.events).toBeGreaterThan(40);
    expect(await dumpReadModels(brume)).toEqual(live);
  });
});
