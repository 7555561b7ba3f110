import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandMeta, openBrume, type Brume } from '../../adapters/runtime/brume.ts';
import { must } from '../support/scenario.ts';

describe('the boot index (in memory, by MAC)', () => {
  let brume: Brume;
  beforeAll(async () => { brume = await openBrume({}); });
  afterAll(async () => { await brume.close(); });

  const settle = async <T extends { ok: boolean; position?: number }>(outcome: T) => {
    await brume.settle(outcome.position);
    return outcome;
  };

  it('follows hosts and their tasks as they happen, per MAC', async () => {
    const c = brume.commands;
    expect(brume.bootIndex.decide('52:54:00:bb:00:01')).toEqual({ kind: 'unknown', mac: '52:54:00:bb:00:01' });
    const registered = await settle(await c.hosts.register(commandMeta('t'), {
      name: 'pxe-1', macs: ['52:54:00:bb:00:01', { mac: '52:54:00:bb:00:02', ignoreForImaging: true }],
    }));
    const hostId = must(registered).hostId;
    expect(brume.bootIndex.decide('52:54:00:bb:00:01')).toMatchObject({ kind: 'menu', entry: { hostId, hostName: 'pxe-1', pendingTask: null } });

    const task = must(await settle(await c.tasks.createOnHost(commandMeta('t'), { type: 'memtest', hostId })));
    expect(brume.bootIndex.decide('52:54:00:bb:00:01')).toMatchObject({ kind: 'task', task: { taskId: task.taskId, typeSlug: 'memtest', state: 'queued' } });
    // The NIC flagged "ignore for imaging" boots to the menu even while a task waits.
    expect(brume.bootIndex.decide('52:54:00:bb:00:02')).toMatchObject({ kind: 'menu', entry: { ignoreForImaging: true } });

    await settle(await c.tasks.checkIn(commandMeta('boot-client'), task.taskId, new Date()));
    expect(brume.bootIndex.decide('52:54:00:bb:00:01')).toMatchObject({ kind: 'task', task: { state: 'checked-in' } });
    await settle(await c.tasks.cancel(commandMeta('t'), task.taskId, 'not today'));
    expect(brume.bootIndex.decide('52:54:00:bb:00:01').kind).toBe('menu');

    // A server-side task (snapins run through the installed OS's agent) never takes over the machine's boot.
    const snapins = must(await settle(await c.tasks.createOnHost(commandMeta('t'), { type: 'deploy-all-snapins', hostId })));
    expect(brume.bootIndex.decide('52:54:00:bb:00:01')).toMatchObject({ kind: 'menu', entry: { pendingTask: { taskId: snapins.taskId } } });
    await settle(await c.tasks.cancel(commandMeta('t'), snapins.taskId, 'not today either'));

    await settle(await c.hosts.update(commandMeta('t'), hostId, { ip: '192.0.2.60' }));
    expect(brume.bootIndex.hostForAddress('192.0.2.60')).toMatchObject({ hostId, hostName: 'pxe-1' });
    await settle(await c.hosts.update(commandMeta('t'), hostId, { ip: '192.0.2.61' }));
    expect(brume.bootIndex.hostForAddress('192.0.2.60')).toBeNull();
    expect(brume.bootIndex.hostFor('52:54:00:bb:00:01')).toMatchObject({ ip: '192.0.2.61' });

    await settle(await c.hosts.update(commandMeta('t'), hostId, { name: 'pxe-one', macs: ['52:54:00:bb:00:03'] }));
    expect(brume.bootIndex.decide('52:54:00:bb:00:01').kind).toBe('unknown');
    expect(brume.bootIndex.decide('52:54:00:bb:00:03')).toMatchObject({ kind: 'menu', entry: { hostName: 'pxe-one' } });

    await settle(await c.hosts.remove(commandMeta('t'), hostId));
    expect(brume.bootIndex.decide('52:54:00:bb:00:03').kind).toBe('unknown');
    expect(brume.bootIndex.size).toEqual({ hosts: 0, macs: 0 });
    expect(brume.bootIndex.hostForAddress('192.0.2.61')).toBeNull();
  });
});
