import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiHarness, type ApiHarness } from '../../adapters/http/testing.ts';
import { commandMeta } from '../../adapters/runtime/brume.ts';
import { BACKENDS, freshDatabase } from '../support/databases.ts';
import { must } from '../support/scenario.ts';

describe.each(BACKENDS)('the imaging queues (GET /api/queues) on $backend', ({ backend, skip }) => {
  let api: ApiHarness;
  const meta = () => commandMeta('tester');
  const client = () => commandMeta('boot-client');

  beforeAll(async () => {
    if (skip) return;
    api = await openApiHarness(backend === 'postgres' ? await freshDatabase('postgres') : {});
  });
  afterAll(() => api?.close());

  it.skipIf(skip)('given a node with one slot and three clients checked in, when an auditor reads the queues, then the first holds the slot and the others wait in check-in order', async () => {
    const c = api.brume.commands;
    const node = must(await c.storageNodes.create(meta(), { name: 'node-one-slot', address: '192.0.2.9', maxClients: 1 }));
    must(await c.storageNodes.create(meta(), { name: 'idle-node', address: '192.0.2.10', maxClients: 3, enabled: false }));
    const image = must(await c.images.create(meta(), { name: 'queue-image' }));
    const tasks: { taskId: string; hostId: string; name: string }[] = [];
    for (const n of [1, 2, 3, 4]) {
      const name = `queued-${n}`;
      const host = must(await c.hosts.register(meta(), { name, macs: [`52:54:00:9e:00:0${n}`], imageId: image.id, storageNodeId: n === 4 ? null : node.id }));
      const task = must(await c.tasks.createOnHost(meta(), { type: 'capture', hostId: host.hostId }));
      tasks.push({ taskId: task.taskId, hostId: host.hostId, name });
    }
    const [a, b, d, own] = tasks as [typeof tasks[0], typeof tasks[0], typeof tasks[0], typeof tasks[0]];
    const t0 = Date.parse('2026-03-02T08:00:00Z');
    expect(must(await c.imaging.checkIn(client(), a.taskId, new Date(t0)))).toMatchObject({ action: 'go' });
    // d checks in before b: the line is check-in order, not creation order.
    expect(must(await c.imaging.checkIn(client(), d.taskId, new Date(t0 + 1000)))).toMatchObject({ action: 'wait', ahead: 0 });
    expect(must(await c.imaging.checkIn(client(), b.taskId, new Date(t0 + 2000)))).toMatchObject({ action: 'wait', ahead: 1 });
    expect(must(await c.imaging.checkIn(client(), own.taskId, new Date(t0 + 3000)))).toMatchObject({ action: 'go' });

    const response = await api.as('auditor').get('/api/queues');
    expect(response.status, response.text).toBe(200);
    const queues = response.body.items;
    expect(queues.map((q: { name: string }) => q.name)).toEqual(['idle-node', 'node-one-slot', 'brume']);
    expect(queues[0]).toEqual({ queueId: expect.any(String), name: 'idle-node', maxClients: 3, enabled: false, active: [], waiting: [] });
    expect(queues[1]).toEqual({
      queueId: node.id, name: 'node-one-slot', maxClients: 1, enabled: true,
      active: [{ taskId: a.taskId, hostId: a.hostId, hostName: 'queued-1', since: new Date(t0).toISOString() }],
      waiting: [
        { taskId: d.taskId, hostId: d.hostId, hostName: 'queued-3', checkedInAt: new Date(t0 + 1000).toISOString(), position: 1 },
        { taskId: b.taskId, hostId: b.hostId, hostName: 'queued-2', checkedInAt: new Date(t0 + 2000).toISOString(), position: 2 },
      ],
    });
    expect(queues[2]).toMatchObject({
      queueId: 'default', name: 'brume', enabled: true, maxClients: expect.any(Number),
      active: [{ taskId: own.taskId, hostName: 'queued-4' }], waiting: [],
    });

    // The slot frees: the first in line takes it at its next poll, the other moves up.
    must(await c.tasks.fail(meta(), a.taskId, { reason: 'disk on fire', command: null, output: null }));
    expect(must(await c.imaging.checkIn(client(), d.taskId, new Date(t0 + 5000)))).toMatchObject({ action: 'go' });
    const after = (await api.as('auditor').get('/api/queues')).body.items[1];
    expect(after.active.map((t: { taskId: string }) => t.taskId)).toEqual([d.taskId]);
    expect(after.active[0].since).toBe(new Date(t0 + 5000).toISOString());
    expect(after.waiting).toEqual([expect.objectContaining({ taskId: b.taskId, position: 1 })]);
  });

  it.skipIf(skip)('given no user, when the queues are asked for, then the answer is 401', async () => {
    expect((await api.as('anonymous').get('/api/queues')).status).toBe(401);
  });
});
