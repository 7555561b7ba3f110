import type { RecordedEvent } from '../../core/shared/event.ts';
import { dataOf, type SqlProjection } from './projection.ts';
import type { Row, RowCache, TableSpec } from './row-cache.ts';

/**
 * Images, storage nodes and groups share one event life (Created, Updated,
 * Deleted), so one function projects each into its table, given how its
 * fields map to columns.
 */
function catalogProjection(
  name: string, prefix: string, spec: TableSpec, columns: Record<string, string>,
  extra?: (rows: RowCache, event: RecordedEvent) => Promise<void>,
  initial: Row = {},
): SqlProjection {
  const toColumns = (fields: Record<string, unknown>): Row => {
    const row: Row = {};
    for (const [field, column] of Object.entries(columns)) if (field in fields) row[column] = fields[field];
    return row;
  };
  const keyColumn = spec.key[0]!;
  return {
    name,
    tables: [spec],
    async apply(rows, event) {
      const d = dataOf(event);
      if (event.type === `${prefix}Created`) {
        rows.put(spec.table, { [keyColumn]: d.id, ...initial, ...toColumns(d), created_at: event.occurredAt, updated_at: event.occurredAt, version: event.version });
      } else if (event.type === `${prefix}Updated`) {
        const row = await rows.get(spec.table, d.id);
        if (row) rows.put(spec.table, { ...row, ...toColumns(d.changes), updated_at: event.occurredAt, version: event.version });
      } else if (event.type === `${prefix}Deleted`) {
        rows.delete(spec.table, d.id);
      } else if (extra) {
        await extra(rows, event);
      }
    },
  };
}

export const imagesProjection = catalogProjection(
  'images', 'Image', { table: 'rm_images', key: ['image_id'] },
  { name: 'name', description: 'description', type: 'type', os: 'os', compression: 'compression' },
  async (rows, event) => {
    if (event.type !== 'ImageRevisionCommitted') return;
    const d = dataOf(event);
    const row = await rows.get('rm_images', d.id);
    if (row) rows.put('rm_images', { ...row, current_revision: d.revision, size_bytes: d.sizeBytes, sha256: d.sha256, updated_at: event.occurredAt, version: event.version });
  },
  { current_revision: null, size_bytes: null, sha256: null },
);

export const storageNodesProjection = catalogProjection(
  'storage-nodes', 'StorageNode', { table: 'rm_storage_nodes', key: ['storage_node_id'] },
  { name: 'name', address: 'address', maxClients: 'max_clients', master: 'master', site: 'site', enabled: 'enabled' },
);

export const groupsProjection: SqlProjection = (() => {
  const base = catalogProjection(
    'groups', 'Group', { table: 'rm_groups', key: ['group_id'] },
    { name: 'name', description: 'description', imageId: 'image_id' },
    async (rows, event) => {
      if (event.type !== 'GroupMembersAdded' && event.type !== 'GroupMembersRemoved') return;
      const d = dataOf(event);
      const group = await rows.get('rm_groups', d.id);
      if (!group) return;
      const added = event.type === 'GroupMembersAdded';
      for (const hostId of d.hostIds as string[]) {
        if (added) rows.put('rm_group_members', { group_id: d.id, host_id: hostId });
        else rows.delete('rm_group_members', d.id, hostId);
      }
      const count = (group.member_count as number) + (added ? 1 : -1) * (d.hostIds as string[]).length;
      rows.put('rm_groups', { ...group, member_count: count, updated_at: event.occurredAt, version: event.version });
    },
    { member_count: 0 },
  );
  return {
    ...base,
    tables: [...base.tables, { table: 'rm_group_members', key: ['group_id', 'host_id'] }],
    async apply(rows, event) {
      if (event.type === 'GroupDeleted') {
        // Deleting a group ends its memberships; hosts lose it from their group list.
        const d = dataOf(event);
        const members = (await rows.where('rm_group_members', 'group_id', d.id)).map((r) => r.host_id as string);
        for (const hostId of members) {
          rows.delete('rm_group_members', d.id, hostId);
          const host = await rows.get('rm_hosts', hostId);
          if (host) rows.put('rm_hosts', { ...host, group_ids: (host.group_ids as string[]).filter((g) => g !== d.id) });
        }
      }
      await base.apply(rows, event);
    },
  };
})();
