import { queryEvents, type EventFilter } from '../../../projections/sql/queries.ts';
import type { RouteModule } from '../context.ts';
import { badRequest } from '../errors.ts';
import { eventView, parseDate } from '../query.ts';
import { dateQuery, doc, integer, object, pageQuery, text } from '../schemas.ts';
import { replies } from '../response-schemas/index.ts';
import { EventPage } from '../response-schemas/history-event.ts';

interface EventQuery {
  stream?: string;
  subject?: string;
  type?: string;
  actor?: string;
  correlationId?: string;
  from?: string;
  to?: string;
  after?: number;
  before?: number;
  order?: 'oldest' | 'newest';
  limit?: number;
}

const TEXT_FILTERS = ['stream', 'subject', 'type', 'actor', 'correlationId'] as const;

/** GET /api/events: the history, filtered, oldest first (or newest first), paged by position. */
export const eventRoutes: RouteModule = (api, { brume }) => {
  api.get<{ Querystring: EventQuery }>('/api/events', {
    config: { access: 'read' },
    schema: {
      ...doc('history', 'Events, oldest first (pass nextAfter back as after), or with order=newest newest first (pass nextBefore back as before)'),
      querystring: object({
        stream: text(200, 'one stream, e.g. host-<id>'),
        subject: text(200, 'everything concerning a subject, e.g. host-<id> (its tasks and memberships too)'),
        type: text(100, 'event type, e.g. HostRegistered'),
        actor: text(200, 'user id, system or boot-client'),
        correlationId: text(200),
        from: dateQuery('occurred at or after'),
        to: dateQuery('occurred before'),
        after: integer(0, Number.MAX_SAFE_INTEGER, 'the nextAfter of the previous page'),
        before: integer(0, Number.MAX_SAFE_INTEGER, 'with order=newest: the nextBefore of the previous page'),
        order: { type: 'string', enum: ['oldest', 'newest'], description: 'oldest (default) or newest first' },
        limit: pageQuery.limit,
      }),
      response: replies({ 200: EventPage }),
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
    if (query.before !== undefined) filter.before = query.before;
    if (query.order) filter.order = query.order;
    if (query.order === 'newest' && query.after !== undefined) throw badRequest('after pages oldest first; with order=newest use before', 'after');
    if (query.limit !== undefined) filter.limit = query.limit;
    const { events, nextAfter, nextBefore } = await queryEvents(brume.database.db, filter);
    return { events: events.map(eventView), nextAfter, ...(query.order === 'newest' ? { nextBefore } : {}) };
  });
};
