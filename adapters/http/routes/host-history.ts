import { HOSTS, load } from '../../../core/application/aggregates.ts';
import { HOST_STREAM } from '../../../core/hosts/host.ts';
import type { EventStore } from '../../../core/ports/event-store.ts';
import { streamIdOf, type RecordedEvent } from '../../../core/shared/event.ts';
import { badRequest, notFound } from '../errors.ts';
import type { RouteModule } from '../context.ts';
import { parseDate } from '../query.ts';
import { dateQuery, doc, idParams, object } from '../schemas.ts';
import { replies } from '../response-schemas/index.ts';
import { HostAsOf } from '../response-schemas/host.ts';

/**
 * The store as it stood at a moment, for reading only: each stream is cut
 * after its last event that occurred at or before `at`. Streams are cut as
 * a prefix (in version order), so the folded state is one the aggregate
 * really had.
 */
function storeAsOf(store: EventStore, at: Date): { store: EventStore; read: Map<string, { prefix: RecordedEvent[]; version: number }> } {
  const read = new Map<string, { prefix: RecordedEvent[]; version: number }>();
  const refuse = () => Promise.reject(new Error('a store as of a past moment is read-only'));
  const view: EventStore = {
    async readStream(streamId) {
      const { version, events } = await store.readStream(streamId);
      const cut = events.findIndex((e) => e.occurredAt.getTime() > at.getTime());
      const prefix = cut === -1 ? events : events.slice(0, cut);
      read.set(streamId, { prefix, version });
      return { version: prefix.length === 0 ? 0 : prefix[prefix.length - 1]!.version, events: prefix };
    },
    append: refuse,
    readAll: refuse,
    findCommandResult: refuse,
    claimOwners: refuse,
  };
  return { store: view, read };
}

/**
 * GET /api/hosts/:id/as-of?at=: time travel. The host's stream folded (the
 * same `load` and `evolveHost` commands use) over the events that occurred
 * at or before `at`: its fields then, the version it was at and when that
 * last change happened. 404 when the host did not exist yet.
 */
export const hostHistoryRoutes: RouteModule = (api, { brume }) => {
  api.get<{ Params: { id: string }; Querystring: { at: string } }>('/api/hosts/:id/as-of', {
    config: { access: 'read' },
    schema: {
      ...doc('hosts', 'A host as it was at a past moment (its stream folded up to then)'),
      params: idParams,
      querystring: object({ at: dateQuery('the moment') }, ['at']),
      response: replies({ 200: HostAsOf }, { 404: 'no such host, or it was registered later' }),
    },
  }, async (request) => {
    const hostId = request.params.id;
    const at = parseDate(request.query.at, 'at');
    if (!at) throw badRequest('at is required: the moment to show the host at, e.g. 2025-05-01T08:00:00Z', 'at');
    const streamId = streamIdOf(HOST_STREAM, hostId);
    const past = storeAsOf(brume.store, at);
    const { state, version } = await load(past.store, HOSTS, hostId);
    const { prefix = [], version: currentVersion = 0 } = past.read.get(streamId) ?? {};
    if (state.status === 'absent') {
      if (currentVersion === 0) throw notFound(`host ${hostId} does not exist`);
      const first = (await brume.store.readStream(streamId)).events[0];
      throw notFound(`host ${hostId} did not exist yet at ${at.toISOString()}${first ? `; it was registered at ${first.occurredAt.toISOString()}` : ''}`);
    }
    const last = prefix[prefix.length - 1]!;
    const { status, hostId: _id, ...fields } = state;
    return {
      hostId,
      at: at.toISOString(),
      status,
      ...fields,
      version,
      lastEventAt: last.occurredAt.toISOString(),
      lastEventType: last.type,
      currentVersion,
    };
  });
};
