import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Where `npm run build:ui` (vite) puts the dashboard. */
export const UI_DIST = join(new URL('../..', import.meta.url).pathname, 'ui', 'dist');

/**
 * Serves the web dashboard: index.html at / and the hashed assets under
 * /assets/ (cached for a year: their names change with their content). The
 * dashboard routes by URL hash, so no other path needs index.html. Without a
 * build, / says how to make one.
 */
export function serveUi(app: FastifyInstance, dist = UI_DIST): void {
  const built = existsSync(join(dist, 'index.html'));
  if (built) {
    app.register(fastifyStatic, {
      root: join(dist, 'assets'), prefix: '/assets/', immutable: true, maxAge: '365d',
    });
  }
  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    if (!built) {
      return reply.code(503).type('text/plain; charset=utf-8')
        .send(`The web dashboard is not built in ${dist}: run "npm run build:ui" (npm start does it). The API is at /api/docs.\n`);
    }
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').sendFile('index.html', dist);
  });
}
