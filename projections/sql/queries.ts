import { sql, type Kysely } from 'kysely';
import type { Schema } from '../../adapters/database/schema.ts';
import { toRecorded } from '../../adapters/event-store/sql-event-store.ts';
import { ACTIVE_TASK_STATUSES, FINISHED_TASK_STATUSES, type TaskStatus } from '../../core/tasks/task.ts';

/**
 * Read-side queries over the rm_* tables for the API, the CLI and the UI.
 * Lists are paged by cursor (stable under inserts) and capped.
 */

export interface Page<T> {
  items: T[];
  total: number;
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export const MAX_PAGE = 500;
const pageSize = (limit: number | undefined, fallback = 50) => Math.min(Math.max(1, limit ?? fallback), MAX_PAGE);

const encodeCursor = (parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');
export function decodeCursor(cursor: string | undefined): unknown[] | null {
  if (!cursor) return null;
  try {
    const parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(parts) ? parts : null;
  } catch {
    return null;
  }
}

/** Turns what a person types into the form search_text holds (see projections/sql/hosts.ts). */
export function normaliseHostSearch(q: string): string {
  const text = q.trim().toLowerCase();
  if (/^[0-9a-f]{4}(\.[0-9a-f]{0,4}){1,2}$/.test(text)) return text.replaceAll('.', ''); // Cisco-style MAC
  if (/^[\d.]+$/.test(text)) return text; // an IP or part of one
  if (/^[0-9a-f]{1,4}([:.-][0-9a-f]{1,4})+[:.-]?$/.test(text)) return text.replace(/[:.-]/g, ''); // a MAC in any form
  return text;
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

type HostRow = Schema['rm_hosts'] extends infer T ? { [K in keyof T]: any } : never;

export const hostView = (r: HostRow) => ({
  id: r.host_id, name: r.name, description: r.description, primaryMac: r.primary_mac, macs: r.macs, ip: r.ip,
  imageId: r.image_id, storageNodeId: r.storage_node_id, site: r.site, groupIds: r.group_ids,
  inventory: r.inventory, activeTaskId: r.active_task_id, lastTaskId: r.last_task_id,
  deployed: r.deployed_image_id ? { imageId: r.deployed_image_id, revision: r.deployed_revision, at: r.deployed_at } : null,
  createdAt: r.created_at, updatedAt: r.updated_at, version: r.version,
});

export async function listHosts(
  db: Kysely<Schema>,
  options: { q?: string; groupId?: string; deployedImageId?: string; deployedRevision?: number; limit?: number; cursor?: string },
): Promise<Page<ReturnType<typeof hostView>>> {
  const limit = pageSize(options.limit);
  let base = db.selectFrom('rm_hosts');
  if (options.q && options.q.trim()) {
    const q = normaliseHostSearch(options.q);
    // Digits with a dot can only be an IP (host names hold no dots): match it as a prefix, through
    // its own index, which is also what people mean by "192.0.2.".
    base = /^\d+\.[\d.]*$/.test(q)
      ? base.where('ip', 'like', `${escapeLike(q)}%`)
      : base.where(sql<boolean>`search_text LIKE ${`%${escapeLike(q)}%`}`);
  }
  if (options.groupId) base = base.where('group_ids', '@>', sql`${JSON.stringify([options.groupId])}::jsonb` as never);
  // Which hosts carry an image (the dashboard's image page); no index: a scan of rm_hosts, fine at 50,000 hosts.
  if (options.deployedImageId) base = base.where('deployed_image_id', '=', options.deployedImageId);
  if (options.deployedImageId && options.deployedRevision !== undefined) base = base.where('deployed_revision', '=', options.deployedRevision);
  const after = decodeCursor(options.cursor);
  let page = base.selectAll().orderBy(sql`lower(name)`).orderBy('host_id').limit(limit + 1);
  if (after) page = page.where(sql<boolean>`(lower(name), host_id) > (${String(after[0])}, ${String(after[1])})`);
  const [rows, count] = await Promise.all([
    page.execute(),
    base.select(db.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  const items = rows.slice(0, limit).map((r) => hostView(r as HostRow));
  const last = rows.length > limit ? items[items.length - 1] : undefined;
  return { items, total: Number(count.n), nextCursor: last ? encodeCursor([last.name.toLowerCase(), last.id]) : null };
}

export async function getHost(db: Kysely<Schema>, hostId: string) {
  const row = await db.selectFrom('rm_hosts').selectAll().where('host_id', '=', hostId).executeTakeFirst();
  return row ? hostView(row as HostRow) : undefined;
}

export async function hostByMac(db: Kysely<Schema>, mac: string) {
  const row = await db.selectFrom('rm_host_macs').select('host_id').where('mac', '=', mac).executeTakeFirst();
  return row ? getHost(db, row.host_id) : undefined;
}

export async function listGroups(db: Kysely<Schema>) {
  const rows = await db.selectFrom('rm_groups').selectAll().orderBy(sql`lower(name)`).execute();
  return rows.map(groupView);
}

const groupView = (r: any) => ({
  id: r.group_id, name: r.name, description: r.description, imageId: r.image_id, memberCount: r.member_count,
  createdAt: r.created_at, updatedAt: r.updated_at, version: r.version,
});

export async function getGroup(db: Kysely<Schema>, groupId: string) {
  const row = await db.selectFrom('rm_groups').selectAll().where('group_id', '=', groupId).executeTakeFirst();
  if (!row) return undefined;
  const members = await db.selectFrom('rm_group_members').select('host_id').where('group_id', '=', groupId).orderBy('host_id').execute();
  return { ...groupView(row), memberIds: members.map((m) => m.host_id) };
}

export async function groupsOfHost(db: Kysely<Schema>, hostId: string): Promise<string[]> {
  const rows = await db.selectFrom('rm_group_members').select('group_id').where('host_id', '=', hostId).execute();
  return rows.map((r) => r.group_id);
}

const imageView = (r: any) => ({
  id: r.image_id, name: r.name, description: r.description, type: r.type, os: r.os, compression: r.compression,
  currentRevision: r.current_revision, sizeBytes: r.size_bytes, sha256: r.sha256,
  createdAt: r.created_at, updatedAt: r.updated_at, version: r.version,
});

export async function listImages(db: Kysely<Schema>) {
  return (await db.selectFrom('rm_images').selectAll().orderBy(sql`lower(name)`).execute()).map(imageView);
}

export async function getImage(db: Kysely<Schema>, imageId: string) {
  const row = await db.selectFrom('rm_images').selectAll().where('image_id', '=', imageId).executeTakeFirst();
  return row ? imageView(row) : undefined;
}

/** Storage nodes with their queue slots: used = tasks in progress on the node. */
export async function listStorageNodes(db: Kysely<Schema>, storageNodeId?: string) {
  let query = db.selectFrom('rm_storage_nodes as n')
    .selectAll('n')
    .select((eb) => eb.selectFrom('rm_tasks as t').select(eb.fn.countAll<number>().as('c'))
      .whereRef('t.storage_node_id', '=', 'n.storage_node_id').where('t.state', '=', 'in-progress').as('slots_used'))
    .select((eb) => eb.selectFrom('rm_tasks as t').select(eb.fn.countAll<number>().as('c'))
      .whereRef('t.storage_node_id', '=', 'n.storage_node_id').where('t.state', '=', 'checked-in').as('waiting'))
    .orderBy(sql`lower(n.name)`);
  if (storageNodeId) query = query.where('n.storage_node_id', '=', storageNodeId);
  const rows = await query.execute();
  return rows.map((r: any) => ({
    id: r.storage_node_id, name: r.name, address: r.address, maxClients: r.max_clients, master: r.master,
    site: r.site, enabled: r.enabled, slotsUsed: Number(r.slots_used ?? 0), slotsFree: Math.max(0, r.max_clients - Number(r.slots_used ?? 0)),
    waiting: Number(r.waiting ?? 0), createdAt: r.created_at, updatedAt: r.updated_at, version: r.version,
  }));
}

export const taskView = (r: any) => ({
  id: r.task_id, hostId: r.host_id, hostName: r.host_name, typeId: r.type_id, typeName: r.type_name, state: r.state as TaskStatus,
  imageId: r.image_id, storageNodeId: r.storage_node_id, options: r.options, groupRunId: r.group_run_id, replayOf: r.replay_of,
  createdBy: r.created_by, createdAt: r.created_at, checkedInAt: r.checked_in_at, startedAt: r.started_at, finishedAt: r.finished_at,
  checkInDeadline: r.check_in_deadline, imageRevision: r.image_revision ?? null, lastReportAt: r.last_report_at ?? null,
  progress: r.bytes_total === null ? null : {
    bytesDone: r.bytes_done, bytesTotal: r.bytes_total, rateBytesPerSecond: r.rate_bytes_per_second, partition: r.partition,
    percent: r.bytes_total > 0 ? Math.round((1000 * r.bytes_done) / r.bytes_total) / 10 : 0,
    etaSeconds: r.rate_bytes_per_second > 0 ? Math.round((r.bytes_total - r.bytes_done) / r.rate_bytes_per_second) : null,
  },
  reason: r.reason, version: r.version,
});

export interface TaskFilter {
  /** 'active', 'history' (finished), or one state. */
  state?: string;
  typeId?: number;
  hostId?: string;
  groupRunId?: string;
  from?: Date;
  to?: Date;
  limit?: number;
  cursor?: string;
}

export async function listTasks(db: Kysely<Schema>, filter: TaskFilter): Promise<Page<ReturnType<typeof taskView>>> {
  const limit = pageSize(filter.limit);
  let base = db.selectFrom('rm_tasks');
  if (filter.state === 'active') base = base.where('state', 'in', ACTIVE_TASK_STATUSES as TaskStatus[]);
  else if (filter.state === 'history') base = base.where('state', 'in', FINISHED_TASK_STATUSES as TaskStatus[]);
  else if (filter.state) base = base.where('state', '=', filter.state);
  if (filter.typeId !== undefined) base = base.where('type_id', '=', filter.typeId);
  if (filter.hostId) base = base.where('host_id', '=', filter.hostId);
  if (filter.groupRunId) base = base.where('group_run_id', '=', filter.groupRunId);
  if (filter.from) base = base.where('created_at', '>=', filter.from);
  if (filter.to) base = base.where('created_at', '<', filter.to);
  const after = decodeCursor(filter.cursor);
  let page = base.selectAll().orderBy('created_at', 'desc').orderBy('task_id', 'desc').limit(limit + 1);
  if (after) page = page.where(sql<boolean>`(created_at, task_id) < (${String(after[0])}::timestamptz, ${String(after[1])})`);
  const [rows, count] = await Promise.all([page.execute(), base.select(db.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()]);
  const items = rows.slice(0, limit).map(taskView);
  const last = rows.length > limit ? rows[limit - 1] : undefined;
  return { items, total: Number(count.n), nextCursor: last ? encodeCursor([new Date(last.created_at as Date).toISOString(), last.task_id]) : null };
}

export async function getTask(db: Kysely<Schema>, taskId: string) {
  const row = await db.selectFrom('rm_tasks').selectAll().where('task_id', '=', taskId).executeTakeFirst();
  return row ? taskView(row) : undefined;
}

export async function listUsers(db: Kysely<Schema>) {
  const rows = await db.selectFrom('rm_users').selectAll().orderBy('username').execute();
  return rows.map((r) => ({ id: r.user_id, username: r.username, role: r.role, disabled: r.disabled, createdAt: r.created_at }));
}

export interface EventFilter {
  stream?: string;
  /** Everything that concerns a subject (e.g. `host-<id>`: its events, its tasks', its memberships). */
  subject?: string;
  type?: string;
  actor?: string;
  correlationId?: string;
  from?: Date;
  to?: Date;
  /** Global position to read after (the previous page's `nextAfter`). */
  after?: number;
  /** Newest first: read before this position (the previous page's `nextBefore`). */
  before?: number;
  /** 'newest' pages backwards from the latest event (auditors start from what just happened). */
  order?: 'oldest' | 'newest';
  limit?: number;
}

/**
 * The history, filterable, oldest first. Pages follow the store's commit-safe
 * order (see adapters/event-store): `after` is the global position of the
 * last event of the previous page, so a client that follows the history
 * page by page never misses an event that committed late.
 */
/** The (transaction, position) of the event at a cursor position; a position that names no event falls back to (0, position). */
const cursorRow = (position: number) => sql`(
      SELECT t, p FROM (
        SELECT e.transaction_id AS t, e.global_position AS p, 0 AS o FROM events e WHERE e.global_position = ${position}
        UNION ALL SELECT '0'::xid8, ${position}::bigint, 1
      ) AS cursor_row ORDER BY o LIMIT 1)`;

export async function queryEvents(db: Kysely<Schema>, filter: EventFilter) {
  const limit = pageSize(filter.limit, 100);
  if (filter.order === 'newest') {
    let query = filteredEvents(db, filter);
    if (filter.before !== undefined) query = query.where(sql<boolean>`(transaction_id, global_position) < ${cursorRow(filter.before)}`);
    const rows = await query.orderBy('transaction_id', 'desc').orderBy('global_position', 'desc').limit(limit + 1).execute();
    const events = rows.slice(0, limit).map(toRecorded);
    return { events, nextAfter: null, nextBefore: rows.length > limit ? events[events.length - 1]!.globalPosition : null };
  }
  let query = filteredEvents(db, filter);
  if (filter.after !== undefined) {
    const after = filter.after;
    // The cursor event's own (transaction, position); a position that names no event falls back to (0, position).
    query = query.where(sql<boolean>`(transaction_id, global_position) > ${cursorRow(after)}`);
  }
  const rows = await query.orderBy('transaction_id').orderBy('global_position').limit(limit + 1).execute();
  const events = rows.slice(0, limit).map(toRecorded);
  return { events, nextAfter: rows.length > limit ? events[events.length - 1]!.globalPosition : null, nextBefore: null };
}

function filteredEvents(db: Kysely<Schema>, filter: EventFilter) {
  let query = db.selectFrom('events').selectAll('events')
    .where(sql<boolean>`transaction_id < pg_snapshot_xmin(pg_current_snapshot())`);
  if (filter.subject) {
    query = query.where('global_position', 'in', db.selectFrom('rm_event_subjects').select('global_position').where('subject', '=', filter.subject));
  }
  if (filter.stream) query = query.where('stream_id', '=', filter.stream);
  if (filter.type) query = query.where('type', '=', filter.type);
  if (filter.actor) query = query.where('actor', '=', filter.actor);
  if (filter.correlationId) query = query.where('correlation_id', '=', filter.correlationId);
  if (filter.from) query = query.where('occurred_at', '>=', filter.from);
  if (filter.to) query = query.where('occurred_at', '<', filter.to);
  return query;
}

/** Where to start reading to get the newest `count` matching events (for `events tail`). */
export async function tailStart(db: Kysely<Schema>, filter: EventFilter, count: number): Promise<number | undefined> {
  const rows = await filteredEvents(db, filter).clearSelect().select('global_position')
    .orderBy('transaction_id', 'desc').orderBy('global_position', 'desc').offset(count).limit(1).execute();
  return rows[0]?.global_position;
}

/** The last recorded sighting of each boot stage for these MACs, newest first. */
export async function bootStagesOf(db: Kysely<Schema>, macs: string[]) {
  if (macs.length === 0) return [];
  const rows = await db.selectFrom('rm_boot_stages').selectAll().where('mac', 'in', macs).orderBy('at', 'desc').execute();
  return rows.map((r) => ({ mac: r.mac, stage: r.stage, at: new Date(r.at), detail: r.detail as Record<string, string> }));
}

/** Boot stages seen since a moment, newest first, with the host each MAC belongs to now (if any). */
export async function recentBootStages(db: Kysely<Schema>, options: { since: Date; limit: number }) {
  const rows = await db.selectFrom('rm_boot_stages as s')
    .leftJoin('rm_host_macs as m', 'm.mac', 's.mac')
    .leftJoin('rm_hosts as h', 'h.host_id', 'm.host_id')
    .select(['s.mac', 's.stage', 's.at', 's.detail', 'h.host_id', 'h.name'])
    .where('s.at', '>=', options.since)
    .orderBy('s.at', 'desc').orderBy('s.mac').orderBy('s.stage')
    .limit(options.limit)
    .execute();
  return rows.map((r) => ({
    mac: r.mac, stage: r.stage, at: new Date(r.at), detail: r.detail as Record<string, string>,
    host: r.host_id ? { id: r.host_id, name: r.name } : null,
  }));
}
