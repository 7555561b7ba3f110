import { queryEvents, type EventFilter } from '../../../projections/sql/queries.ts';
import type { RouteModule } from '../context.ts';
import { eventView, parseDate } from '../query.ts';
import { dateQuery, doc, integer, object, pageQuery, text } from '../schemas.ts';

interface EventQuery {
  stream?: string;
  subject?: string;
  type?: string;
  actor?: string;
  correlationId?: string;
  from?: string;
  to?: string;
  after?: number;
  limit?: number;
}

const TEXT_FILTERS = ['stream', 'subject', 'type', 'actor', 'correlationId'] as const;

/** GET /api/events: the history, filtered, oldest first, paged by position. */
export const eventRoutes: RouteModule = (api, { brume }) => {
  api.get<{ Querystring: EventQuery }>('/api/events', {
    config: { access: 'read' },
    schema: {
      ...doc('history', 'Events, oldest first; pass nextAfter back as after for the next page'),
      querystring: object({
        stream: text(200, 'one stream, e.g. host-<id>'),
        subject: text(200, 'everything concerning a subject, e.g. host-<id> (its tasks and memberships too)'),
        type: text(100, 'event type, e.g. HostRegistered'),
        actor: text(200, 'user id, system or boot-client'),
        correlationId: text(200),
        from: dateQuery('occurred at or after'),
        to: dateQuery('occurred before'),
        after: integer(0, Number.MAX_SAFE_INTEGER, 'the nextAfter of the previous page'),
        limit: pageQuery.limit,
      }),
    },
  }, async (request) => {
    const query = request.query;
    const filter: EventFilter = {};
    for (const key of TEXT_FILTERS) if (query[key]) filter[key] = query[key];
    const from = parseDate(query.from, 'from');
    if (from) filter.from = from;
    const to = parseDate(query.to, 'to');
    if (to) filter.to = to;
    if (query.after !== undefined) filter.after = query.after;
    if (query.limit !== undefined) filter.limit = query.limit;
    const { events, nextAfter } = await queryEvents(brume.database.db, filter);
    return { events: events.map(eventView), nextAfter };
  });
};
