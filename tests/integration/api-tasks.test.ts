import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiHarness, type ApiClient, type ApiHarness } from '../../adapters/http/testing.ts';
import { BACKENDS, freshDatabase } from '../support/databases.ts';

interface EventView {
  position: number;
  type: string;
  streamId: string;
  actor: string;
  causationId: string | null;
  correlationId: string;
  reason?: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

describe.each(BACKENDS)('API tasks and history on $backend', ({ backend, skip }) => {
  let api: ApiHarness;
  let operator: ApiClient;
  let imageId: string;
  let groupId: string;
  const host: Record<string, string> = {};
  const task: Record<string, string> = {};

  beforeAll(async () => {
    if (skip) return;
    api = await openApiHarness(backend === 'postgres' ? await freshDatabase('postgres') : {});
    operator = api.as('operator');
    const admin = api.as('admin');
    imageId = (await admin.post('/api/images', { name: 'debian-12' })).body.id;
    for (const n of [1, 2, 3, 4, 5]) {
      const created = await operator.post('/api/hosts', { name: `t-0${n}`, macs: [`52:54:00:cc:00:0${n}`], imageId });
      expect(created.status, created.text).toBe(201);
      host[`t-0${n}`] = created.body.id;
    }
    const group = await admin.post('/api/groups', { name: 'Room' });
    groupId = group.body.id;
    await admin.post(`/api/groups/${groupId}/members`, { add: [host['t-01'], host['t-03'], host['t-04']] });
  });
  afterAll(() => api?.close());

  it.skipIf(skip)('creates a task by name and one by FOG id, as the operator', async () => {
    const deploy = await operator.post('/api/tasks', { type: 'deploy', hostId: host['t-01'] });
    expect(deploy.status, deploy.text).toBe(201);
    expect(deploy.body).toMatchObject({ hostId: host['t-01'], hostName: 't-01', typeId: 1, typeName: 'Deploy', state: 'queued', imageId, createdBy: api.userIds.operator });
    task.deploy = deploy.body.id;

    const memtest = await operator.post('/api/tasks', { type: 4, hostId: host['t-02'] });
    expect(memtest.status, memtest.text).toBe(201);
    expect(memtest.body).toMatchObject({ typeId: 4, typeName: 'Memory Test', imageId: null, hostId: host['t-02'] });
    task.memtest = memtest.body.id;

    const byText = await operator.post('/api/tasks', { type: '14', hostId: host['t-05'], options: { wakeBefore: true } });
    expect(byText.body).toMatchObject({ typeId: 14, typeName: 'Wake-Up', options: { wakeBefore: true, afterTask: 'reboot' } });
    task.wake = byText.body.id;
  });

  it.skipIf(skip)('refuses unknown types, a busy host, and a request naming both or neither target', async () => {
    const unknown = await operator.post('/api/tasks', { type: 'teleport', hostId: host['t-03'] });
    expect(unknown).toMatchObject({ status: 400, body: { field: 'type', message: expect.stringMatching(/unknown task type "teleport"/) } });
    const busy = await operator.post('/api/tasks', { type: 'capture', hostId: host['t-01'] });
    expect(busy).toMatchObject({ status: 409, body: { error: 'conflict', field: 'hostId' } });
    const both = await operator.post('/api/tasks', { type: 'deploy', hostId: host['t-03'], groupId });
    expect(both).toMatchObject({ status: 400, body: { field: 'groupId' } });
    const neither = await operator.post('/api/tasks', { type: 'deploy' });
    expect(neither).toMatchObject({ status: 400, body: { field: 'hostId' } });
    const badOption = await operator.post('/api/tasks', { type: 'deploy', hostId: host['t-03'], options: { afterTask: 'dance' } });
    expect(badOption).toMatchObject({ status: 400, body: { field: 'options.afterTask' } });
    expect((await operator.get('/api/tasks', { hostId: host['t-03'] })).body.total).toBe(0);
  });

  it.skipIf(skip)('creates one task per group member and lists the members it skipped', async () => {
    const run = await operator.post('/api/tasks', { type: 'deploy', groupId });
    expect(run.status, run.text).toBe(201);
    expect(run.body.groupId).toBe(groupId);
    expect(run.body.tasks.map((t: { hostId: string }) => t.hostId).sort()).toEqual([host['t-03'], host['t-04']].sort());
    for (const t of run.body.tasks) expect(t).toMatchObject({ groupRunId: run.body.runId, typeId: 1, state: 'queued', imageId });
    expect(run.body.skipped).toEqual([{ hostId: host['t-01'], reason: expect.stringMatching(/already has an active task/) }]);
    const listed = await operator.get('/api/tasks', { type: 'deploy', state: 'active' });
    expect(listed.body.total).toBe(3);
  });

  it.skipIf(skip)('cancels with a reason, refuses to cancel twice, and records who and why', async () => {
    const noReason = await operator.post(`/api/tasks/${task.deploy}/cancel`, {});
    expect(noReason).toMatchObject({ status: 400, body: { field: 'reason', message: 'reason is required' } });
    const cancelled = await operator.post(`/api/tasks/${task.deploy}/cancel`, { reason: 'wrong image' });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body).toMatchObject({ id: task.deploy, state: 'cancelled', reason: 'wrong image' });
    expect(cancelled.body.finishedAt).toEqual(expect.any(String));

    const again = await operator.post(`/api/tasks/${task.deploy}/cancel`, { reason: 'still wrong' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: 'conflict', message: expect.stringMatching(/is cancelled; it cannot be cancelled/) });

    const events = await api.as('auditor').get('/api/events', { stream: `task-${task.deploy}`, type: 'TaskCancelled' });
    expect(events.body.events).toHaveLength(1);
    expect(events.body.events[0]).toMatchObject({ actor: api.userIds.operator, reason: 'wrong image', data: { reason: 'wrong image' } });
    expect((await operator.post('/api/tasks/no-such-task/cancel', { reason: 'x' })).status).toBe(404);
  });

  it.skipIf(skip)('replays a finished task as a new task linked to (and caused by) the original', async () => {
    const active = await operator.post(`/api/tasks/${task.memtest}/replay`);
    expect(active).toMatchObject({ status: 409, body: { error: 'conflict' } });

    const replay = await operator.post(`/api/tasks/${task.deploy}/replay`);
    expect(replay.status, replay.text).toBe(201);
    expect(replay.body.id).not.toBe(task.deploy);
    expect(replay.body).toMatchObject({ replayOf: task.deploy, hostId: host['t-01'], typeId: 1, imageId, state: 'queued' });
    task.replay = replay.body.id;
    const created = await operator.get('/api/events', { stream: `task-${task.replay}` });
    expect(created.body.events[0]).toMatchObject({ type: 'TaskCreated', causationId: task.deploy, data: { replayOf: task.deploy } });
  });

  it.skipIf(skip)('creates no second task when a creation is retried with the same Idempotency-Key', async () => {
    await operator.post(`/api/tasks/${task.memtest}/cancel`, { reason: 'make room' });
    const key = { 'idempotency-key': 'inventory-t-02' };
    const first = await operator.post('/api/tasks', { type: 'inventory', hostId: host['t-02'] }, key);
    const retry = await operator.post('/api/tasks', { type: 'inventory', hostId: host['t-02'] }, key);
    expect(first.status, first.text).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body.id).toBe(first.body.id);
    const tasks = await operator.get('/api/tasks', { hostId: host['t-02'], type: 'inventory' });
    expect(tasks.body.total).toBe(1);
    expect((await api.as('auditor').get('/api/events', { type: 'TaskCreated', stream: `task-${first.body.id}` })).body.events).toHaveLength(1);
  });

  it.skipIf(skip)('filters and pages tasks', async () => {
    const history = await operator.get('/api/tasks', { state: 'history' });
    // The Wake-Up task has nowhere to send packets in this configuration, so it failed and says why.
    expect(history.body.items.map((t: { id: string }) => t.id).sort()).toEqual([task.deploy, task.memtest, task.wake].sort());
    expect(history.body.items.find((t: { id: string }) => t.id === task.wake)).toMatchObject({ state: 'failed', reason: expect.stringMatching(/wake/i) });
    const byFogId = await operator.get('/api/tasks', { type: '4' });
    expect(byFogId.body.items.map((t: { id: string }) => t.id)).toEqual([task.memtest]);
    expect((await operator.get('/api/tasks', { state: 'cancelled', hostId: host['t-01'] })).body.total).toBe(1);
    expect((await operator.get('/api/tasks', { from: '2999-01-01' })).body.total).toBe(0);
    expect(await operator.get('/api/tasks', { from: 'last tuesday' })).toMatchObject({ status: 400, body: { field: 'from' } });
    expect(await operator.get('/api/tasks', { state: 'sleeping' })).toMatchObject({ status: 400, body: { field: 'state' } });
    expect(await operator.get('/api/tasks', { type: 'teleport' })).toMatchObject({ status: 400, body: { field: 'type' } });

    const everything = await operator.get('/api/tasks');
    expect(everything.body.total).toBe(7);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await operator.get('/api/tasks', { limit: 3, ...(cursor ? { cursor } : {}) });
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((t: { id: string }) => t.id));
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(everything.body.items.map((t: { id: string }) => t.id));

    const one = await api.as('auditor').get(`/api/tasks/${task.replay}`);
    expect(one).toMatchObject({ status: 200, body: { id: task.replay, replayOf: task.deploy } });
    expect((await operator.get('/api/tasks/no-such-task')).status).toBe(404);
    const types = await api.as('auditor').get('/api/task-types');
    expect(types.body.items).toHaveLength(23);
    expect(types.body.items[0]).toMatchObject({ id: 1, slug: 'deploy', name: 'Deploy' });
  });

  it.skipIf(skip)('filters the history by stream, subject, type, actor and correlation id, with ISO dates', async () => {
    const auditor = api.as('auditor');
    const stream = await auditor.get('/api/events', { stream: `host-${host['t-01']}` });
    expect(stream.body.events.map((e: EventView) => e.type)).toEqual(['HostRegistered']);
    const subject = await auditor.get('/api/events', { subject: `host-${host['t-01']}` });
    expect(subject.body.events.map((e: EventView) => e.type)).toEqual(
      ['HostRegistered', 'GroupMembersAdded', 'TaskCreated', 'TaskCancelled', 'TaskCreated'],
    );
    for (const e of subject.body.events) expect(e.occurredAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const byType = await auditor.get('/api/events', { type: 'TaskCancelled' });
    expect(byType.body.events.map((e: EventView) => e.streamId).sort()).toEqual([`task-${task.deploy}`, `task-${task.memtest}`].sort());
    const byActor = await auditor.get('/api/events', { actor: api.userIds.operator, limit: 500 });
    expect(byActor.body.events.length).toBeGreaterThan(10);
    expect(new Set(byActor.body.events.map((e: EventView) => e.actor))).toEqual(new Set([api.userIds.operator]));
    expect(byActor.body.events.some((e: EventView) => e.type === 'ImageCreated')).toBe(false);

    const correlated = await api.as('operator', { 'x-correlation-id': 'change-ticket-42' })
      .patch(`/api/hosts/${host['t-05']}`, { description: 'ticket 42' });
    expect(correlated.status).toBe(200);
    const byCorrelation = await auditor.get('/api/events', { correlationId: 'change-ticket-42' });
    expect(byCorrelation.body.events.map((e: EventView) => [e.type, e.streamId])).toEqual([['HostUpdated', `host-${host['t-05']}`]]);

    expect(await auditor.get('/api/events', { to: '2025-13-45' })).toMatchObject({ status: 400, body: { field: 'to', message: expect.stringMatching(/^to must be a date/) } });
    expect((await auditor.get('/api/events', { from: '2999-01-01T00:00:00Z' })).body.events).toEqual([]);
  });

  it.skipIf(skip)('pages the history with after/nextAfter without losing or repeating an event', async () => {
    const auditor = api.as('auditor');
    const all = await auditor.get('/api/events', { limit: 500 });
    expect(all.body.nextAfter).toBeNull();
    const positions: number[] = [];
    let after: number | undefined;
    let pages = 0;
    do {
      const page = await auditor.get('/api/events', { limit: 7, ...(after !== undefined ? { after } : {}) });
      expect(page.body.events.length).toBeLessThanOrEqual(7);
      positions.push(...page.body.events.map((e: EventView) => e.position));
      after = page.body.nextAfter ?? undefined;
      pages++;
    } while (after !== undefined);
    expect(pages).toBeGreaterThan(3);
    expect(positions).toEqual(all.body.events.map((e: EventView) => e.position));
    expect(await auditor.get('/api/events', { after: -1 })).toMatchObject({ status: 400, body: { field: 'after' } });
  });

  it.skipIf(skip)('pages the history newest first with before/nextBefore, the same events in reverse', async () => {
    const auditor = api.as('auditor');
    const all = (await auditor.get('/api/events', { limit: 500 })).body.events.map((e: EventView) => e.position);
    const positions: number[] = [];
    let before: number | undefined;
    do {
      const page = await auditor.get('/api/events', { order: 'newest', limit: 9, ...(before !== undefined ? { before } : {}) });
      expect(page.status, page.text).toBe(200);
      positions.push(...page.body.events.map((e: EventView) => e.position));
      before = page.body.nextBefore ?? undefined;
    } while (before !== undefined);
    expect(positions).toEqual([...all].reverse());
    expect(await auditor.get('/api/events', { order: 'newest', after: 3 })).toMatchObject({ status: 400, body: { field: 'after' } });
  });
});
