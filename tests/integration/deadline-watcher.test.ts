import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandMeta, openBrume, type Brume } from '../../adapters/runtime/brume.ts';
import { DeadlineWatcher } from '../../adapters/runtime/deadline-watcher.ts';
import { getTask } from '../../projections/sql/queries.ts';
import { must } from '../support/scenario.ts';

describe('check-in deadlines', () => {
  let brume: Brume;
  beforeAll(async () => { brume = await openBrume({}); });
  afterAll(async () => { await brume.close(); });

  it('requeues a checked-in task once its client stops polling past the deadline, and only then', async () => {
    const c = brume.commands;
    const host = must(await c.hosts.register(commandMeta('t'), { name: 'pc-1', macs: ['52:54:00:aa:00:01'] }));
    const task = must(await c.tasks.createOnHost(commandMeta('t'), { type: 'inventory', hostId: host.hostId }));
    const checkedInAt = new Date('2026-11-22T08:00:00Z');
    const outcome = await c.tasks.checkIn(commandMeta('boot-client'), task.taskId, checkedInAt, 180);
    await brume.settle(outcome.ok ? outcome.position : 0);

    let now = new Date(checkedInAt.getTime() + 179_000);
    const watcher = new DeadlineWatcher(brume, 60_000, () => now);
    expect(await watcher.tick()).toBe(0);
    expect((await getTask(brume.database.db, task.taskId))!.state).toBe('checked-in');

    now = new Date(checkedInAt.getTime() + 181_000);
    expect(await watcher.tick()).toBe(1);
    await brume.readModels.catchUp();
    expect((await getTask(brume.database.db, task.taskId))!.state).toBe('queued');
    const { events } = await brume.store.readStream(`task-${task.taskId}`);
    expect(events.map((e) => e.type)).toEqual(['TaskCreated', 'TaskCheckedIn', 'TaskRequeued']);
    expect(events[2]!.metadata).toMatchObject({ actor: 'system', reason: 'check-in deadline passed' });
    // A second tick finds nothing to do: the requeue happened exactly once.
    expect(await watcher.tick()).toBe(0);
  });

  it('fails an in-progress task whose client went silent, and leaves a task that reports alone', async () => {
    const c = brume.commands;
    const host = must(await c.hosts.register(commandMeta('t'), { name: 'pc-2', macs: ['52:54:00:aa:00:02'] }));
    const quiet = must(await c.tasks.createOnHost(commandMeta('t'), { type: 'inventory', hostId: host.hostId }));
    const startedAt = new Date();
    must(await c.tasks.start(commandMeta('boot-client'), quiet.taskId, startedAt));
    await brume.readModels.catchUp();
    const minutes = brume.imaging.staleTaskMinutes;
    let now = new Date(startedAt.getTime() + (minutes * 60 - 5) * 1000);
    const watcher = new DeadlineWatcher(brume, 60_000, () => now);
    await watcher.tick();
    await brume.readModels.catchUp();
    expect((await getTask(brume.database.db, quiet.taskId))!.state).toBe('in-progress');
    now = new Date(startedAt.getTime() + (minutes * 60 + 5) * 1000);
    await watcher.tick();
    await brume.readModels.catchUp();
    const failed = (await getTask(brume.database.db, quiet.taskId))!;
    expect(failed).toMatchObject({ state: 'failed', reason: expect.stringMatching(/stopped reporting/) });
  });
});
