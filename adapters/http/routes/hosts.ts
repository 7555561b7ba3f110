import type { Kysely } from 'kysely';
import { MAC_ROLES } from '../../../core/hosts/host.ts';
import type { Schema } from '../../database/schema.ts';
import { bootStagesOf, getHost, listGroups, listHosts, listTasks } from '../../../projections/sql/queries.ts';
import type { BootActivity } from '../../boot/boot-activity.ts';
import { commandMetaOf, respond } from '../command.ts';
import type { RouteModule } from '../context.ts';
import { checkCursor, recentEvents } from '../query.ts';
import { getById } from '../read-routes.ts';
import { boolean, doc, id, idParams, ids, integer, nullable, object, pageQuery, text } from '../schemas.ts';
import { commandReplies, noContent, replies } from '../response-schemas/index.ts';
import { Host, HostDetail, HostPage } from '../response-schemas/host.ts';

const macEntry = {
  anyOf: [
    text(60, 'aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabbccddeeff or aabb.ccdd.eeff'),
    object({ mac: text(60), role: { type: 'string', enum: MAC_ROLES }, ignoreForImaging: boolean() }, ['mac']),
  ],
};

const hostFields = {
  name: text(200, '1-63 letters, digits or hyphens (a DNS label)'),
  description: nullable(1000),
  macs: { type: 'array', maxItems: 64, items: macEntry, description: 'the first is the primary MAC unless one is marked' },
  ip: nullable(60, 'IPv4 address'),
  imageId: nullable(100),
  storageNodeId: nullable(100),
  site: nullable(100),
  groupIds: ids('the groups the host belongs to (replaces the current list)'),
};

export interface HostBody {
  name?: string;
  description?: string | null;
  macs?: unknown[];
  ip?: string | null;
  imageId?: string | null;
  storageNodeId?: string | null;
  site?: string | null;
  groupIds?: string[];
}

const HISTORY_LENGTH = 50;
const TASKS_SHOWN = 20;

/**
 * The last sighting of each boot stage per MAC: the recorded ones, made
 * fresher by what this server saw since (sightings between two recorded
 * events live only in memory).
 */
async function bootStagesFor(db: Kysely<Schema>, activity: BootActivity, macs: string[]) {
  const latest = new Map<string, { mac: string; stage: string; at: Date; detail: Record<string, string> }>();
  for (const row of await bootStagesOf(db, macs)) latest.set(`${row.mac} ${row.stage}`, row);
  for (const mac of macs) {
    for (const seen of activity.latest(mac)) {
      const known = latest.get(`${mac} ${seen.stage}`);
      if (!known || known.at < seen.at) latest.set(`${mac} ${seen.stage}`, { mac, stage: seen.stage, at: seen.at, detail: seen.detail });
    }
  }
  return [...latest.values()].sort((a, b) => b.at.getTime() - a.at.getTime());
}

/** A host with its groups, its last tasks, its boot stages and its recent history. */
async function hostDetail(db: Kysely<Schema>, activity: BootActivity, hostId: string) {
  const host = await getHost(db, hostId);
  if (!host) return undefined;
  const memberOf = new Set(host.groupIds as string[]);
  const macs = (host.macs as { mac: string }[]).map((m) => m.mac);
  const [groups, tasks, history, bootStages] = await Promise.all([
    listGroups(db),
    listTasks(db, { hostId, limit: TASKS_SHOWN }),
    recentEvents(db, `host-${hostId}`, HISTORY_LENGTH),
    bootStagesFor(db, activity, macs),
  ]);
  return {
    ...host,
    groups: groups.filter((g) => memberOf.has(g.id)).map((g) => ({ id: g.id, name: g.name })),
    tasks: tasks.items,
    bootStages,
    history,
  };
}

/** Hosts: list and search, register, read, change, delete. */
export const hostRoutes: RouteModule = (api, { brume }) => {
  const db = brume.database.db;
  const view = async ({ hostId }: { hostId: string }) => getHost(db, hostId);

  api.get<{ Querystring: { q?: string; groupId?: string; deployedImageId?: string; deployedRevision?: number; limit?: number; cursor?: string } }>('/api/hosts', {
    config: { access: 'read' },
    schema: {
      ...doc('hosts', 'List hosts by name; q searches names, MACs (any form), IPs and descriptions'),
      querystring: object({
        q: text(200), groupId: id('only members of this group'),
        deployedImageId: id('only hosts whose last deploy wrote this image'),
        deployedRevision: integer(1, 1_000_000_000, 'with deployedImageId: only hosts carrying this revision of it'),
        ...pageQuery,
      }),
      response: replies({ 200: HostPage }),
    },
  }, async (request) => {
    const { q, groupId, deployedImageId, deployedRevision, limit, cursor } = request.query;
    return listHosts(db, {
      ...(q ? { q } : {}), ...(groupId ? { groupId } : {}), ...(deployedImageId ? { deployedImageId } : {}),
      ...(deployedRevision !== undefined ? { deployedRevision } : {}), ...(limit ? { limit } : {}), ...(checkCursor(cursor) ? { cursor } : {}),
    });
  });

  api.post<{ Body: HostBody & { name: string; macs: unknown[] } }>('/api/hosts', {
    config: { access: 'hosts:write' },
    schema: {
      ...doc('hosts', 'Register a host'),
      body: object(hostFields, ['name', 'macs']),
      response: commandReplies(201, Host, { 404: 'an image or storage node it names does not exist' }),
    },
  }, async (request, reply) => {
    const outcome = await brume.commands.hosts.register(commandMetaOf(request), request.body);
    return respond(brume, reply, outcome, { expects: 'hostId', status: 201, view, what: 'the host' });
  });

  getById(api, {
    path: '/api/hosts', tag: 'hosts', summary: 'A host with its groups, its last 20 tasks and its recent history', what: 'host', answer: HostDetail,
    load: (hostId) => hostDetail(db, brume.bootActivity, hostId),
  });

  api.patch<{ Params: { id: string }; Body: HostBody }>('/api/hosts/:id', {
    config: { access: 'hosts:write' },
    schema: {
      ...doc('hosts', 'Change some of a host\'s fields (send If-Match with the version you read)'),
      params: idParams,
      body: object(hostFields),
      response: commandReplies(200, Host, { 404: 'no such host, or an image or storage node it names' }),
    },
  }, async (request, reply) => {
    const outcome = await brume.commands.hosts.update(commandMetaOf(request), request.params.id, request.body);
    return respond(brume, reply, outcome, { expects: 'hostId', view, what: 'the host' });
  });

  api.delete<{ Params: { id: string } }>('/api/hosts/:id', {
    config: { access: 'hosts:write' },
    schema: {
      ...doc('hosts', 'Delete a host; it leaves its groups'),
      params: idParams,
      response: replies({ 204: noContent }, { 404: 'no such host', 409: 'a lost race (If-Match)' }),
    },
  }, async (request, reply) => {
    const outcome = await brume.commands.hosts.remove(commandMetaOf(request), request.params.id);
    return respond(brume, reply, outcome, { expects: 'hostId', status: 204 });
  });
};
