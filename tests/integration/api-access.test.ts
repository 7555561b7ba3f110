import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../adapters/http/app.ts';
import type { Access } from '../../adapters/http/auth.ts';
import { startHttpServer } from '../../adapters/http/server.ts';
import { clientFor, openApiHarness, ROLES_AND_ANONYMOUS, TEST_HTTP_CONFIG, type ApiHarness, type Who } from '../../adapters/http/testing.ts';
import { can } from '../../core/users/permissions.ts';
import { BACKENDS, freshDatabase } from '../support/databases.ts';

/**
 * What each route should demand, written down independently of the routes'
 * own declarations. The walk below takes the route list from the app itself,
 * so a route added without an entry here fails the test.
 */
const EXPECTED: Record<string, Access> = {
  'GET /api/health': 'public',
  'GET /api/openapi.json': 'public',
  'POST /api/auth/login': 'public',
  'POST /api/auth/logout': 'authenticated',
  'GET /api/auth/me': 'authenticated',
  'POST /api/tokens': 'authenticated',
  'GET /api/tokens': 'authenticated',
  'DELETE /api/tokens/:id': 'authenticated',
  'GET /api/hosts': 'read',
  'POST /api/hosts': 'hosts:write',
  'GET /api/hosts/:id': 'read',
  'GET /api/hosts/:id/as-of': 'read',
  'PATCH /api/hosts/:id': 'hosts:write',
  'DELETE /api/hosts/:id': 'hosts:write',
  'POST /api/hosts/import': 'hosts:write',
  'GET /api/groups': 'read',
  'POST /api/groups': 'catalog:write',
  'GET /api/groups/:id': 'read',
  'PATCH /api/groups/:id': 'catalog:write',
  'DELETE /api/groups/:id': 'catalog:write',
  'POST /api/groups/:id/members': 'catalog:write',
  'GET /api/images': 'read',
  'POST /api/images': 'catalog:write',
  'GET /api/images/:id': 'read',
  'PATCH /api/images/:id': 'catalog:write',
  'DELETE /api/images/:id': 'catalog:write',
  'GET /api/storage-nodes': 'read',
  'POST /api/storage-nodes': 'catalog:write',
  'GET /api/storage-nodes/:id': 'read',
  'PATCH /api/storage-nodes/:id': 'catalog:write',
  'DELETE /api/storage-nodes/:id': 'catalog:write',
  'GET /api/tasks': 'read',
  'POST /api/tasks': 'tasks:write',
  'GET /api/tasks/:id': 'read',
  'POST /api/tasks/:id/cancel': 'tasks:write',
  'POST /api/tasks/:id/replay': 'tasks:write',
  'GET /api/task-types': 'read',
  'GET /api/events': 'read',
  'GET /api/users': 'read',
  'GET /api/users/:id': 'read',
  'POST /api/users': 'users:manage',
  'PATCH /api/users/:id': 'users:manage',
  // Booting firmware cannot sign in; these answer from memory and reveal only what a MAC's own boot needs.
  'POST /api/client/v1/register': 'public',
  'POST /api/client/v1/inventory': 'public',
  'GET /api/images/:id/revisions': 'read',
  'DELETE /api/images/:id/revisions/:revision': 'catalog:write',
  'GET /boot/ipxe': 'public',
  'GET /boot/files/*': 'public',
  'GET /boot/env/*': 'public',
  // The booted client's calls: no user, but the task's boot token from the right MAC (client-tasks tests).
  'POST /api/client/v1/tasks/:taskId/check-in': 'public',
  'GET /api/client/v1/tasks/:taskId/image/manifest': 'public',
  'GET /api/client/v1/tasks/:taskId/image/files/:name': 'public',
  'PUT /api/client/v1/tasks/:taskId/capture/files/:name': 'public',
  'POST /api/client/v1/tasks/:taskId/progress': 'public',
  'POST /api/client/v1/tasks/:taskId/inventory': 'public',
  'POST /api/client/v1/tasks/:taskId/complete': 'public',
  'POST /api/client/v1/tasks/:taskId/fail': 'public',
  'GET /api/boot/activity': 'read',
  'GET /api/boot/status': 'read',
  'GET /api/queues': 'read',
  'GET /api/stream': 'read',
};

/** The interactive docs (swagger-ui and its assets) and the dashboard's static files are public, whatever files they serve. */
const expectedAccess = (method: string, url: string): Access | undefined =>
  url === '/api/docs' || url.startsWith('/api/docs/') || url === '/' || url.startsWith('/assets/') ? 'public' : EXPECTED[`${method} ${url}`];

function allowed(access: Access, who: Who): boolean {
  if (access === 'public') return true;
  if (who === 'anonymous') return false;
  return access === 'authenticated' || can(who, access);
}

describe.each(BACKENDS)('API access rules on $backend', ({ backend, skip }) => {
  let api: ApiHarness;

  beforeAll(async () => {
    if (skip) return;
    api = await openApiHarness(backend === 'postgres' ? await freshDatabase('postgres') : {});
  });
  afterAll(() => api?.close());

  it.skipIf(skip)('has an expected access rule for every registered route, and a route for every rule', () => {
    const registered = api.routes.map((r) => `${r.method} ${r.url}`);
    expect(registered.filter((r) => !expectedAccess(...(r.split(' ') as [string, string])))).toEqual([]);
    expect(Object.keys(EXPECTED).filter((r) => !registered.includes(r))).toEqual([]);
    expect(registered.length).toBeGreaterThan(Object.keys(EXPECTED).length);
  });

  it.skipIf(skip)('answers 401 to anonymous callers, 403 exactly where the role lacks the permission, and neither otherwise', async () => {
    const seen: string[] = [];
    for (const { method, url } of api.routes) {
      const access = expectedAccess(method, url)!;
      const path = url.replace(/:id\b/g, 'no-such-id').replace(/\*$/, 'index.html');
      const csv = url === '/api/hosts/import';
      const withBody = method === 'POST' || method === 'PATCH';
      // The live stream never ends by itself; this header makes it end after what it has now (inject waits for the end).
      const once = url === '/api/stream' ? { headers: { 'x-brume-stream': 'once' } } : {};
      for (const who of ROLES_AND_ANONYMOUS) {
        const response = await api.as(who).request(method, path, withBody ? {
          body: csv ? 'not,a,host\n' : {},
          headers: csv ? { 'content-type': 'text/csv' } : {},
        } : once);
        const where = `${who} ${method} ${path} -> ${response.status} ${response.text.slice(0, 200)}`;
        seen.push(where);
        if (url.startsWith('/api/client/v1/tasks/')) {
          // No user may act as a booted client: only the task's boot token opens these.
          expect(response.status, where).toBe(401);
          expect(response.body, where).toMatchObject({ error: 'unauthorized' });
        } else if (!allowed(access, who)) {
          const expected = who === 'anonymous' ? 401 : 403;
          expect(response.status, where).toBe(expected);
          expect(response.body, where).toMatchObject({ error: expected === 401 ? 'unauthorized' : 'forbidden', message: expect.any(String) });
        } else {
          expect([401, 403], where).not.toContain(response.status);
          expect(response.status, where).toBeLessThan(500);
        }
      }
    }
    expect(seen.length).toBe(api.routes.length * ROLES_AND_ANONYMOUS.length);
  });

  it.skipIf(skip)('refuses an unknown or malformed credential with 401 rather than falling back to anonymous or the cookie', async () => {
    const bogus = await api.as('anonymous', { authorization: 'Bearer brume_not-a-real-token' }).get('/api/hosts');
    expect(bogus.status).toBe(401);
    expect(bogus.body.message).toMatch(/token is not valid/);
    expect(bogus.headers['www-authenticate']).toMatch(/^Bearer/);
    const basic = await api.as('anonymous', { authorization: 'Basic YWRtaW46eA==' }).get('/api/hosts');
    expect(basic.status).toBe(401);
    expect(basic.body.message).toMatch(/Bearer <token>/);
    const staleCookie = await api.as('anonymous', { cookie: 'brume_session=expired-or-made-up' }).get('/api/hosts');
    expect(staleCookie.status).toBe(401);
    expect(staleCookie.body.message).toMatch(/session has ended/);
  });

  it.skipIf(skip)('answers unknown routes with a JSON 404', async () => {
    const response = await api.as('admin').get('/api/nothing-here');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: 'not-found', message: expect.stringContaining('GET /api/nothing-here') });
  });

  it.skipIf(skip)('answers a server error with a JSON 500 that names the request but shows nothing of the failure', async () => {
    const app = buildApp(api.brume, TEST_HTTP_CONFIG);
    app.get('/api/boom', { config: { access: 'public' } }, async () => {
      throw new Error('connection to 10.1.2.3 refused: password for brume_secret wrong');
    });
    const response = await clientFor(app).get('/api/boom');
    await app.close();
    expect(response.status).toBe(500);
    expect(response.body).toEqual({ error: 'internal', message: expect.stringMatching(/^something went wrong on the server \(request \S+\); the details are in the server log$/) });
    expect(response.text).not.toMatch(/10\.1\.2\.3|brume_secret|\.ts:\d+/);
  });

  it.skipIf(skip)('listens on the configured port, and says which port and what to do when it is taken', async () => {
    const server = await startHttpServer(api.brume, { ...TEST_HTTP_CONFIG, httpPort: 0 });
    const port = (server.server.address() as AddressInfo).port;
    const health = await fetch(`http://127.0.0.1:${port}/api/health`);
    expect(health.status).toBe(200);
    await server.close();

    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = (squatter.address() as AddressInfo).port;
    try {
      const failure = startHttpServer(api.brume, { ...TEST_HTTP_CONFIG, httpPort: taken });
      await expect(failure).rejects.toThrow(new RegExp(`^cannot listen on port ${taken} on 127\\.0\\.0\\.1: another program is already using it\\..*BRUME_HTTP_PORT`));
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    const nowhere = startHttpServer(api.brume, { ...TEST_HTTP_CONFIG, httpHost: '192.0.2.77', httpPort: 0 });
    await expect(nowhere).rejects.toThrow(/192\.0\.2\.77 is not an address of this machine.*BRUME_HTTP_HOST/);
  });
});
