import { randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandMeta, openBrume, type Brume } from '../../adapters/runtime/brume.ts';
import { wakeOnLanEffects, type WakeOnLanEffectRunner } from '../../adapters/wake-on-lan/task-effect-runner.ts';
import type { WolConfig } from '../../adapters/wake-on-lan/wol-config.ts';
import { sendWakeOnLan } from '../../adapters/wake-on-lan/wol-sender.ts';
import { createCommands, type Commands } from '../../core/application/index.ts';
import { magicPacket } from '../../core/wake-on-lan/magic-packet.ts';
import { groupsOfHost, getTask } from '../../projections/sql/queries.ts';
import { must } from '../support/scenario.ts';

/** A UDP socket on loopback that keeps every datagram it gets, with when it came. */
class Listener {
  readonly got: { data: Buffer; at: number }[] = [];
  private constructor(readonly socket: Socket, readonly port: number) {
    socket.on('message', (data) => this.got.push({ data, at: performance.now() }));
  }

  static async open(): Promise<Listener> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => { socket.once('error', reject); socket.bind(0, '127.0.0.1', resolve); });
    return new Listener(socket, socket.address().port);
  }

  /** The datagrams that are this MAC's magic packet; anything else here is a failure. */
  packetsFor(mac: string) {
    const expected = Buffer.from(magicPacket(mac));
    return this.got.filter((p) => p.data.equals(expected));
  }

  async waitFor(count: number, timeoutMs = 3000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.got.length < count && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  }

  close = () => new Promise<void>((resolve) => this.socket.close(() => resolve()));
}

const MAC_1 = '52:54:00:77:00:01';
const MAC_2 = '52:54:00:77:00:02';

describe('the Wake-on-LAN sender on loopback', () => {
  let listener: Listener;
  beforeAll(async () => { listener = await Listener.open(); });
  afterAll(async () => { await listener.close(); });

  it('sends the exact magic packet of every MAC, three copies each about 100 ms apart, and says so', async () => {
    const report = await sendWakeOnLan({ macs: [MAC_1, MAC_2], addresses: ['127.0.0.1'], port: listener.port });
    await listener.waitFor(6);
    expect(listener.got).toHaveLength(6);
    for (const mac of [MAC_1, MAC_2]) {
      const copies = listener.packetsFor(mac);
      expect(copies).toHaveLength(3);
      expect(copies[0]!.data).toHaveLength(102);
      // Spaced, not a burst: the point of repeats is surviving a moment of loss.
      expect(copies[2]!.at - copies[0]!.at).toBeGreaterThanOrEqual(180);
    }
    expect(report).toEqual({
      port: listener.port,
      deliveries: [
        { address: '127.0.0.1', mac: MAC_1, copies: 3, error: null },
        { address: '127.0.0.1', mac: MAC_2, copies: 3, error: null },
      ],
      sentTo: ['127.0.0.1'],
      failed: [],
    });
  });

  it('reports what it could not send instead of throwing', async () => {
    // Binding to an address this machine does not have fails before any packet leaves.
    const unbound = await sendWakeOnLan({ macs: [MAC_1], addresses: ['127.0.0.1'], port: listener.port }, { bindAddress: '192.0.2.99' });
    expect(unbound.sentTo).toEqual([]);
    expect(unbound.failed).toEqual([{ address: '127.0.0.1', error: expect.stringContaining('EADDRNOTAVAIL') }]);
    const badPort = await sendWakeOnLan({ macs: [MAC_1], addresses: ['127.0.0.1'], port: 0 }, { repeats: 1 });
    expect(badPort.failed).toEqual([{ address: '127.0.0.1', error: expect.stringMatching(/port/i) }]);
    const badMac = await sendWakeOnLan({ macs: ['not-a-mac'], addresses: ['127.0.0.1'], port: listener.port }, { repeats: 1 });
    expect(badMac.failed).toEqual([{ address: '127.0.0.1', error: expect.stringContaining('not a MAC address') }]);
    expect(listener.got).toHaveLength(6);
    // One bad MAC does not keep the others' packets from going out.
    const mixed = await sendWakeOnLan({ macs: ['not-a-mac', MAC_1], addresses: ['127.0.0.1'], port: listener.port }, { repeats: 1 });
    expect(mixed.sentTo).toEqual(['127.0.0.1']);
    expect(mixed.deliveries).toEqual([
      { address: '127.0.0.1', mac: 'not-a-mac', copies: 0, error: expect.stringContaining('not a MAC address') },
      { address: '127.0.0.1', mac: MAC_1, copies: 1, error: null },
    ]);
    await listener.waitFor(7);
    expect(listener.packetsFor(MAC_1)).toHaveLength(4);
  });
});

describe('Wake-on-LAN for tasks, through brume', () => {
  let brume: Brume;
  let listener: Listener;
  const logged: string[] = [];

  /** Commands wired as adapters/runtime/brume.ts should wire them, with the runner and a config for loopback. */
  function wire(config: WolConfig): { commands: Commands; runner: WakeOnLanEffectRunner } {
    let commands: Commands | undefined;
    const runner = wakeOnLanEffects({
      store: brume.store, config, commands: () => commands!, sendOptions: { intervalMs: 20 },
      log: (level, message) => logged.push(`${level}: ${message}`),
    });
    commands = createCommands({
      store: brume.store,
      ids: { next: () => randomUUID() },
      credentials: brume.credentials,
      directory: { activeAdminIds: async () => [] },
      memberships: { groupsOf: async (hostId) => { await brume.readModels.catchUp(); return groupsOfHost(brume.database.db, hostId); } },
      runTaskEffects: runner,
    });
    return { commands, runner };
  }

  let loopback: ReturnType<typeof wire>;
  let unconfigured: ReturnType<typeof wire>;

  beforeAll(async () => {
    brume = await openBrume({});
    listener = await Listener.open();
    // Only loopback: these tests must not send a broadcast from the machine's own network namespace.
    loopback = wire({ subnets: [], defaultTargets: ['127.0.0.1'], port: listener.port });
    unconfigured = wire({ subnets: [], defaultTargets: [], port: listener.port });
  });
  afterAll(async () => {
    await loopback?.runner.idle();
    await unconfigured?.runner.idle();
    await listener?.close();
    await brume?.close();
  });

  const host = async (name: string, macs: string[]) => must(await brume.commands.hosts.register(commandMeta('tester'), { name, macs })).hostId;
  const streamOf = async (taskId: string) => (await brume.store.readStream(`task-${taskId}`)).events;

  it('sends a Wake-Up task\'s packets, records where they went and completes the task as the system', async () => {
    const hostId = await host('wake-1', [MAC_1, MAC_2]);
    const meta = commandMeta('tester');
    const task = must(await loopback.commands.tasks.createOnHost(meta, { type: 'wake-up', hostId }));
    await loopback.runner.idle();
    await listener.waitFor(6);

    expect(listener.packetsFor(MAC_1)).toHaveLength(3);
    expect(listener.packetsFor(MAC_2)).toHaveLength(3);
    const events = await streamOf(task.taskId);
    expect(events.map((e) => e.type)).toEqual(['TaskCreated', 'TaskWakeOnLanSent', 'TaskStarted', 'TaskCompleted']);
    expect(events[1]!.data).toEqual({
      taskId: task.taskId, hostId, macs: [MAC_1, MAC_2], port: listener.port, sentTo: ['127.0.0.1'], failed: [],
      basis: 'the host has no IP address; using the default targets',
    });
    for (const e of events.slice(1)) {
      expect(e.metadata).toMatchObject({ actor: 'system', correlationId: meta.commandId, causationId: meta.commandId });
    }
    await brume.readModels.catchUp();
    expect((await getTask(brume.database.db, task.taskId))!.state).toBe('complete');
    // Done, so the host is free for its next task.
    must(await brume.commands.tasks.createOnHost(commandMeta('tester'), { type: 'memtest', hostId }));
  });

  it('wakes the host of a task created with wakeBefore and leaves the task queued for its machine', async () => {
    const mac = '52:54:00:77:00:03';
    const hostId = await host('wake-2', [mac]);
    const before = listener.got.length;
    const task = must(await loopback.commands.tasks.createOnHost(commandMeta('tester'), { type: 'memtest', hostId, options: { wakeBefore: true } }));
    await loopback.runner.idle();
    await listener.waitFor(before + 3);

    expect(listener.packetsFor(mac)).toHaveLength(3);
    const events = await streamOf(task.taskId);
    expect(events.map((e) => e.type)).toEqual(['TaskCreated', 'TaskWakeOnLanSent']);
    expect(events[1]!.data).toMatchObject({ macs: [mac], sentTo: ['127.0.0.1'], failed: [] });
    await brume.readModels.catchUp();
    expect((await getTask(brume.database.db, task.taskId))!.state).toBe('queued');
  });

  it('sends nothing for a task without wakeBefore, nor when the same create command is retried', async () => {
    const mac = '52:54:00:77:00:04';
    const hostId = await host('wake-3', [mac]);
    const plain = must(await loopback.commands.tasks.createOnHost(commandMeta('tester'), { type: 'memtest', hostId }));
    await loopback.runner.idle();
    expect((await streamOf(plain.taskId)).map((e) => e.type)).toEqual(['TaskCreated']);
    must(await brume.commands.tasks.cancel(commandMeta('tester'), plain.taskId, 'next test'));

    const meta = commandMeta('tester');
    const first = await loopback.commands.tasks.createOnHost(meta, { type: 'wake-up', hostId });
    const retried = await loopback.commands.tasks.createOnHost(meta, { type: 'wake-up', hostId });
    expect(retried).toMatchObject({ ok: true, replayed: true });
    await loopback.runner.idle();
    await new Promise((r) => setTimeout(r, 100));
    expect(listener.packetsFor(mac)).toHaveLength(3);
    expect((await streamOf(must(first).taskId)).filter((e) => e.type === 'TaskWakeOnLanSent')).toHaveLength(1);
  });

  it('fails a Wake-Up task with the reason when nothing can be sent, and sends nothing', async () => {
    const mac = '52:54:00:77:00:05';
    const hostId = await host('wake-4', [mac]);
    const task = must(await unconfigured.commands.tasks.createOnHost(commandMeta('tester'), { type: 'wake-up', hostId }));
    await unconfigured.runner.idle();

    const events = await streamOf(task.taskId);
    expect(events.map((e) => e.type)).toEqual(['TaskCreated', 'TaskWakeOnLanSent', 'TaskFailed']);
    expect(events[1]!.data).toMatchObject({ sentTo: [], basis: 'the host has no IP address and no default Wake-on-LAN targets are configured' });
    expect(events[2]!.data).toMatchObject({
      reason: 'nothing was sent: the host has no IP address and no default Wake-on-LAN targets are configured',
    });
    expect(listener.packetsFor(mac)).toHaveLength(0);
    expect(logged.some((line) => line.startsWith('warn: wake-on-lan: task') && line.includes(task.taskId))).toBe(true);
  });

  it('does not wake a task cancelled before its wake came round', async () => {
    const mac = '52:54:00:77:00:06';
    const hostId = await host('wake-5', [mac]);
    let commands: Commands | undefined;
    const held: string[] = [];
    // Runs the wake only when told to, so the task can be cancelled first.
    const runner = wakeOnLanEffects({ store: brume.store, config: { subnets: [], defaultTargets: ['127.0.0.1'], port: listener.port }, commands: () => commands! });
    commands = createCommands({
      store: brume.store, ids: { next: () => randomUUID() }, credentials: brume.credentials,
      directory: { activeAdminIds: async () => [] }, memberships: { groupsOf: async () => [] },
      runTaskEffects: (taskId) => { held.push(taskId); },
    });
    const task = must(await commands.tasks.createOnHost(commandMeta('tester'), { type: 'wake-up', hostId }));
    expect(held).toEqual([task.taskId]);
    must(await commands.tasks.cancel(commandMeta('tester'), task.taskId, 'changed my mind'));
    runner(task.taskId, [{ type: 'wakeHost' }]);
    await runner.idle();
    await new Promise((r) => setTimeout(r, 100));
    expect(listener.packetsFor(mac)).toHaveLength(0);
    expect((await streamOf(task.taskId)).map((e) => e.type)).toEqual(['TaskCreated', 'TaskCancelled']);
  });

  it('wakes every member of a group Wake-Up and completes each member\'s task', async () => {
    const macs = ['52:54:00:77:00:07', '52:54:00:77:00:08'];
    const members = [await host('wake-6', [macs[0]!]), await host('wake-7', [macs[1]!])];
    const group = must(await brume.commands.groups.create(commandMeta('tester'), { name: 'wake-room' }));
    must(await brume.commands.groups.changeMembers(commandMeta('tester'), group.id, { add: members }));
    const before = listener.got.length;
    const run = must(await loopback.commands.tasks.createOnGroup(commandMeta('tester'), { groupId: group.id, type: 'wake-up' }));
    await loopback.runner.idle();
    await listener.waitFor(before + 6);

    expect(run.tasks).toHaveLength(2);
    for (const mac of macs) expect(listener.packetsFor(mac)).toHaveLength(3);
    for (const t of run.tasks) expect((await streamOf(t.taskId)).at(-1)!.type).toBe('TaskCompleted');
  });
});
