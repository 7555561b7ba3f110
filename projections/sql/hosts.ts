import { taskTypeFor } from '../../core/tasks/task-types.ts';
import type { HostMac } from '../../core/hosts/host.ts';
import { dataOf, type SqlProjection } from './projection.ts';
import type { Row, RowCache } from './row-cache.ts';

/** Hosts, searchable by name, MAC and IP, with their MACs indexed for lookup. */
export const hostsProjection: SqlProjection = {
  name: 'hosts',
  tables: [
    { table: 'rm_hosts', key: ['host_id'], json: ['macs', 'inventory', 'group_ids'] },
    { table: 'rm_host_macs', key: ['mac'] },
  ],
  async apply(rows, event) {
    const d = dataOf(event);
    switch (event.type) {
      case 'HostRegistered': {
        putHost(rows, {
          host_id: d.hostId, name: d.name, description: d.description, ip: d.ip, image_id: d.imageId,
          storage_node_id: d.storageNodeId, site: d.site, macs: d.macs, inventory: null, group_ids: [],
          active_task_id: null, last_task_id: null, deployed_image_id: null, deployed_revision: null, deployed_at: null,
          created_at: event.occurredAt, updated_at: event.occurredAt, version: event.version,
        });
        return;
      }
      case 'HostUpdated': {
        const host = await rows.get('rm_hosts', d.hostId);
        if (!host) return;
        const c = d.changes;
        if (c.macs) for (const m of host.macs as HostMac[]) rows.delete('rm_host_macs', m.mac);
        putHost(rows, {
          ...host,
          ...(c.name !== undefined && { name: c.name }),
          ...(c.description !== undefined && { description: c.description }),
          ...(c.ip !== undefined && { ip: c.ip }),
          ...(c.imageId !== undefined && { image_id: c.imageId }),
          ...(c.storageNodeId !== undefined && { storage_node_id: c.storageNodeId }),
          ...(c.site !== undefined && { site: c.site }),
          ...(c.macs !== undefined && { macs: c.macs }),
          updated_at: event.occurredAt,
          version: event.version,
        });
        return;
      }
      case 'HostDeleted': {
        const host = await rows.get('rm_hosts', d.hostId);
        if (!host) return;
        for (const m of host.macs as HostMac[]) rows.delete('rm_host_macs', m.mac);
        rows.delete('rm_hosts', d.hostId);
        return;
      }
      case 'HostInventoryReported':
        await patchHost(rows, d.hostId, { inventory: d.inventory, updated_at: event.occurredAt, version: event.version });
        return;
      case 'GroupMembersAdded':
      case 'GroupMembersRemoved':
        for (const hostId of d.hostIds as string[]) {
          const host = await rows.get('rm_hosts', hostId);
          if (!host) continue;
          const groups = new Set(host.group_ids as string[]);
          if (event.type === 'GroupMembersAdded') groups.add(d.id);
          else groups.delete(d.id);
          rows.put('rm_hosts', { ...host, group_ids: [...groups].sort() });
        }
        return;
      case 'TaskCreated':
        await patchHost(rows, d.hostId, { active_task_id: d.taskId, last_task_id: d.taskId });
        return;
      case 'TaskCompleted':
      case 'TaskFailed':
      case 'TaskCancelled': {
        const host = await rows.get('rm_hosts', d.hostId);
        if (!host) return;
        const next = { ...host };
        if (host.active_task_id === d.taskId) next.active_task_id = null;
        // A completed deploy says which revision the host now carries (a capture's revision is the image's).
        const task = event.type === 'TaskCompleted' && d.imageRevision != null ? await rows.get('rm_tasks', d.taskId) : undefined;
        if (task && taskTypeFor(task.type_id as number)?.direction === 'down') {
          Object.assign(next, { deployed_image_id: d.imageId, deployed_revision: d.imageRevision, deployed_at: event.occurredAt });
        }
        rows.put('rm_hosts', next);
        return;
      }
    }
  },
};

/** Writes a host row with its derived columns: primary MAC, search text, MAC index rows. */
function putHost(rows: RowCache, host: Row): void {
  const macs = host.macs as HostMac[];
  const primary = macs.find((m) => m.role === 'primary') ?? macs[0]!;
  const searchText = [host.name, ...macs.map((m) => m.mac), ...macs.map((m) => m.mac.replaceAll(':', '')), host.ip ?? '']
    .join(' ')
    .toLowerCase();
  rows.put('rm_hosts', { ...host, primary_mac: primary.mac, search_text: searchText });
  for (const m of macs) {
    rows.put('rm_host_macs', { mac: m.mac, host_id: host.host_id, role: m.role, ignore_for_imaging: m.ignoreForImaging });
  }
}

async function patchHost(rows: RowCache, hostId: string, patch: Row): Promise<void> {
  const host = await rows.get('rm_hosts', hostId);
  if (host) rows.put('rm_hosts', { ...host, ...patch });
}
