import type { Brume } from '../../adapters/runtime/brume.ts';
import { commandMeta } from '../../adapters/runtime/brume.ts';
import type { CommandOutcome } from '../../core/application/command-runner.ts';

/** Unwraps a command outcome in tests, failing loudly with the domain's message. */
export function must<T>(outcome: CommandOutcome<T>): T {
  if (!outcome.ok) throw new Error(`command failed: ${outcome.error.code}: ${outcome.error.message}`);
  return outcome.value;
}

/**
 * A history that touches every read model: hosts registered, renamed,
 * re-MACed and deleted; images, nodes and groups created, changed and
 * deleted; memberships from both sides; tasks in every end state; a group
 * run; a replay; users.
 */
export async function buildRichHistory(brume: Brume, actor = 'tester') {
  const c = brume.commands;
  const meta = () => commandMeta(actor);
  const image = must(await c.images.create(meta(), { name: 'win11', type: 'n', os: 'windows-11' }));
  const image2 = must(await c.images.create(meta(), { name: 'debian', type: 'mps', compression: 9 }));
  must(await c.images.update(meta(), image2.id, { name: 'debian-12' }));
  const node = must(await c.storageNodes.create(meta(), { name: 'node-a', address: '192.0.2.5', master: true }));
  must(await c.storageNodes.update(meta(), node.id, { maxClients: 4 }));
  const hosts = [];
  for (let i = 0; i < 12; i++) {
    hosts.push(must(await c.hosts.register(meta(), {
      name: `lab-${String(i).padStart(2, '0')}`, macs: [`52:54:00:00:01:${i.toString(16).padStart(2, '0')}`],
      imageId: image.id, storageNodeId: node.id, ip: `192.0.2.${20 + i}`,
    })).hostId);
  }
  must(await c.hosts.update(meta(), hosts[0]!, { name: 'lab-renamed', macs: ['52:54:00:00:02:00', { mac: '52:54:00:00:02:01', role: 'pending' }] }));
  must(await c.hosts.reportInventory(meta(), hosts[1]!, { sysManufacturer: 'QEMU', memory: 2048, disks: ['vda'] }));
  const group = must(await c.groups.create(meta(), { name: 'room-1', imageId: image.id }));
  const group2 = must(await c.groups.create(meta(), { name: 'room-2' }));
  must(await c.groups.changeMembers(meta(), group.id, { add: hosts.slice(0, 6) }));
  must(await c.hosts.update(meta(), hosts[7]!, { groupIds: [group.id, group2.id] }));
  must(await c.groups.changeMembers(meta(), group.id, { remove: [hosts[5]!] }));
  must(await c.hosts.remove(meta(), hosts[11]!));
  const t1 = must(await c.tasks.createOnHost(meta(), { type: 'deploy', hostId: hosts[8]! }));
  const at = new Date('2026-11-22T10:00:00Z');
  must(await c.tasks.checkIn(meta(), t1.taskId, at));
  must(await c.tasks.start(meta(), t1.taskId, at));
  must(await c.tasks.progress(meta(), t1.taskId, { taskId: t1.taskId, bytesDone: 500, bytesTotal: 1000, rateBytesPerSecond: 100, partition: 'sda1' }));
  must(await c.tasks.complete(meta(), t1.taskId));
  const t2 = must(await c.tasks.createOnHost(meta(), { type: 'capture', hostId: hosts[9]! }));
  must(await c.tasks.fail(meta(), t2.taskId, { reason: 'disk not found', command: 'sfdisk -d /dev/sda', output: 'no such device' }));
  const t3 = must(await c.tasks.createOnHost(meta(), { type: 10, hostId: hosts[10]! }));
  must(await c.tasks.checkIn(meta(), t3.taskId, at, 60));
  must(await c.tasks.requeue(meta(), t3.taskId, new Date(at.getTime() + 61_000)));
  must(await c.tasks.cancel(meta(), t3.taskId, 'room closed'));
  const replay = must(await c.tasks.replay(meta(), t2.taskId));
  const run = must(await c.tasks.createOnGroup(meta(), { groupId: group.id, type: 'deploy', options: { afterTask: 'shutdown' } }));
  must(await c.groups.remove(meta(), group2.id));
  must(await c.users.create(meta(), { username: 'auditor1', role: 'auditor', password: 'long enough password' }));
  return { image, image2, node, hosts, group, group2, t1, t2, t3, replay, run };
}
