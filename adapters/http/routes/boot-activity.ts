import { recentBootStages } from '../../../projections/sql/queries.ts';
import type { RouteModule } from '../context.ts';
import { parseDate } from '../query.ts';
import { dateQuery, doc, integer, object } from '../schemas.ts';
import { replies } from '../response-schemas/index.ts';
import { BootActivity, BootStatus } from '../response-schemas/boot.ts';

const HOUR_MS = 3600_000;

/**
 * What operators watch while machines boot: which machines reached which
 * stage lately (registered or not), and the responders' counters.
 */
export const bootActivityRoutes: RouteModule = (api, { brume }) => {
  api.get<{ Querystring: { since?: string; limit?: number } }>('/api/boot/activity', {
    config: { access: 'read' },
    schema: {
      ...doc('boot', 'Boot stages recorded lately, newest first, with the host each MAC belongs to (null: unknown machine)'),
      querystring: object({ since: dateQuery('seen at or after (default: an hour ago)'), limit: integer(1, 1000, 'at most this many (default 200)') }),
      response: replies({ 200: BootActivity }),
    },
  }, async (request) => {
    const since = parseDate(request.query.since, 'since') ?? new Date(Date.now() - HOUR_MS);
    await brume.bootActivity.flush();
    await brume.readModels.catchUp();
    return { items: await recentBootStages(brume.database.db, { since, limit: request.query.limit ?? 200 }) };
  });

  api.get('/api/boot/status', {
    config: { access: 'read' },
    schema: {
      ...doc('boot', 'Counters of the running boot responders: DHCP and TFTP (absent when off), and boot-stage recording'),
      response: replies({ 200: BootStatus }),
    },
  }, async () => ({
    ...Object.fromEntries([...brume.responderStats].map(([name, stats]) => [name, stats()])),
    activity: brume.bootActivity.stats(),
    index: brume.bootIndex.size,
  }));
};
