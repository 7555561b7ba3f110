import { sql } from 'kysely';
import { HttpError } from '../errors.ts';
import type { RouteModule } from '../context.ts';
import { object, publicDoc } from '../schemas.ts';
import { replies } from '../response-schemas/index.ts';
import { Health } from '../response-schemas/health.ts';

/** GET /api/health: for load balancers and people; no sign-in. */
export const healthRoutes: RouteModule = (api, { brume }) => {
  api.get('/api/health', {
    config: { access: 'public' },
    schema: {
      ...publicDoc('health', 'Whether the server and its database answer; the database kind and the read models\' position'),
      querystring: object({}),
      response: replies({ 200: Health }, { 503: 'the database does not answer' }),
    },
  }, async (request) => {
    try {
      await sql`SELECT 1`.execute(brume.database.db);
    } catch (error) {
      request.log.error({ err: error }, 'health check: database does not answer');
      throw new HttpError(503, 'unavailable', `the ${brume.database.kind === 'postgres' ? 'PostgreSQL' : 'embedded'} database does not answer; see the server log`);
    }
    return { status: 'ok', database: brume.database.kind, readModelPosition: brume.readModels.position };
  });
};
