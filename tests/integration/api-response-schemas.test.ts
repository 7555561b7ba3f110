import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BootFiles } from '../../adapters/boot-files/boot-files.ts';
import { startDhcpServer } from '../../adapters/dhcp/dhcp-server.ts';
import { SqlLeaseStore } from '../../adapters/dhcp/sql-lease-store.ts';
import { buildApp } from '../../adapters/http/app.ts';
import { startTftpServer } from '../../adapters/tftp/tftp-server.ts';
import { Health } from '../../adapters/http/response-schemas/health.ts';
import { Host } from '../../adapters/http/response-schemas/host.ts';
import { commandReplies, replies, RESPONSE_SCHEMAS } from '../../adapters/http/response-schemas/index.ts';
import { respond } from '../../adapters/http/command.ts';
import type { Brume } from '../../adapters/runtime/brume.ts';
import { clientFor, openApiHarness, TEST_HTTP_CONFIG, type ApiHarness, type HarnessRoute } from '../../adapters/http/testing.ts';

/**
 * API routes whose success answer is not JSON, so they have no JSON 2xx
 * schema (their errors are JSON and are described like every other route's):
 */
const NOT_JSON: Record<string, string> = {
  // Server-Sent Events (text/event-stream), written to the socket for as long as the dashboard stays.
  'GET /api/stream': 'event stream',
  // A deploy file's bytes (application/octet-stream, with Range), sent by this process or a file sender.
  'GET /api/client/v1/tasks/:taskId/image/files/:name': 'file download',
  // The OpenAPI document itself: hidden from it, shaped by the OpenAPI specification.
  'GET /api/openapi.json': 'the API description',
};

/** The interactive docs (swagger-ui's page and assets) are HTML and scripts, not the API. */
const isDocs = (url: string) => url === '/api/docs' || url.startsWith('/api/docs/');

type Responses = Record<string, Record<string, unknown>>;

const responsesOf = (route: HarnessRoute): Responses => ((route.schema?.response ?? {}) as Responses);
const isSuccess = (status: string) => /^2(\d\d|xx)$/i.test(status);
const isJson = (answer: Record<string, unknown>) => {
  const content = answer.content as Record<string, unknown> | undefined;
  return content === undefined ? answer.type !== 'null' : 'application/json' in content;
};

describe('response schemas', () => {
  let api: ApiHarness;

  beforeAll(async () => {
    api = await openApiHarness();
  });
  afterAll(() => api?.close());

  it('describes the JSON success answer of every /api route, and its errors in the Error shape', () => {
    const apiRoutes = api.routes.filter((r) => r.url.startsWith('/api/') && !isDocs(r.url));
    expect(apiRoutes.length).toBeGreaterThan(45);
    const undescribed: string[] = [];
    for (const route of apiRoutes) {
      const name = `${route.method} ${route.url}`;
      const responses = responsesOf(route);
      if (NOT_JSON[name]) continue;
      const success = Object.entries(responses).filter(([status]) => isSuccess(status));
      // 204s have no body; every other success must be JSON with a schema.
      const json = success.filter(([, answer]) => isJson(answer));
      if (json.length === 0 && !success.some(([status]) => status === '204')) undescribed.push(`${name}: no 2xx schema`);
      if (success.some(([, answer]) => answer.content !== undefined && !isJson(answer))) undescribed.push(`${name}: a 2xx that is not JSON`);
      if (responses['4xx']?.$ref !== 'Error#') undescribed.push(`${name}: errors not described`);
    }
    expect(undescribed).toEqual([]);
    // An entry for a route that no longer exists (or now answers JSON) must go.
    const names = apiRoutes.map((r) => `${r.method} ${r.url}`);
    expect(Object.keys(NOT_JSON).filter((name) => !names.includes(name))).toEqual([]);
  });

  it('names the shared shapes in the OpenAPI document and answers with them', async () => {
    const doc = (await api.as('anonymous').get('/api/openapi.json')).body;
    const names = Object.keys(doc.components.schemas);
    expect(names).toEqual(expect.arrayContaining(RESPONSE_SCHEMAS.map((s) => s.$id)));
    expect(names).toEqual(expect.arrayContaining(['Host', 'HostPage', 'Task', 'Group', 'Image', 'ImageRevision', 'StorageNode', 'HistoryEvent', 'User', 'TaskType', 'ImportReport', 'Error']));
    expect(names.filter((n) => n.startsWith('def-'))).toEqual([]);
    const host = doc.paths['/api/hosts/{id}'].get.responses;
    expect(host['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/HostDetail' });
    expect(host['404'].content['application/json'].schema.$ref).toBe('#/components/schemas/Error');
    expect(doc.paths['/api/hosts/{id}'].delete.responses['204'].content).toBeUndefined();
    expect(doc.components.schemas.Host).toMatchObject({ type: 'object', additionalProperties: false, required: expect.arrayContaining(['id', 'createdAt']) });
    expect(doc.components.schemas.Host.properties.createdAt).toEqual({ type: 'string', format: 'date-time' });
  });

  it('describes the running boot responders\' counters (GET /api/boot/status with DHCP and TFTP on loopback)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'brume-status-'));
    const dhcp = await startDhcpServer({
      config: {
        mode: 'full', interfaceName: null, listenAddress: '127.0.0.1', serverAddress: '127.0.0.1', netmask: '255.0.0.0', registeredOnly: false,
        pool: { first: '127.0.32.0', last: '127.0.32.255' }, router: '127.0.0.1', dns: [], leaseSeconds: 600, port: 0, proxyPort: 0, clientPort: 0,
        bootFiles: { bios: 'undionly.kpxe', efi32: 'ipxe32.efi', efi64: 'ipxe.efi', arm64: null },
      },
      backend: api.brume.bootActivity, leases: new SqlLeaseStore(api.brume.database.db), bootServerAddress: '127.0.0.1', httpBaseUrl: 'http://127.0.0.1:8080',
    });
    const tftp = await startTftpServer({
      config: { host: '127.0.0.1', port: 0, maxWindow: 16, maxBlksize: 1468 }, files: new BootFiles(dir), backend: api.brume.bootActivity,
    });
    // As adapters/runtime/boot-responders.ts registers them.
    api.brume.responderStats.set('dhcp', () => dhcp.stats());
    api.brume.responderStats.set('tftp', () => { const { recent: _recent, ...counters } = tftp.stats(); return counters; });
    try {
      const status = await api.as('auditor').get('/api/boot/status');
      expect(status.status, status.text).toBe(200);
      expect(status.body).toMatchObject({ dhcp: { received: 0, leases: { leases: 0 } }, tftp: { requests: 0 }, index: { hosts: 0 } });
    } finally {
      api.brume.responderStats.clear();
      await dhcp.close();
      await tftp.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('describes the 202 a command answers when the read models lag, with the command\'s own answer kept', async () => {
    const app = buildApp(api.brume, TEST_HTTP_CONFIG);
    // The read models never catch up, so the command's answer is all there is to show.
    const lagging = { ...api.brume, settle: async () => false } as Brume;
    app.post('/api/probe', { config: { access: 'public' }, schema: { response: commandReplies(201, Host) } }, (_request, reply) =>
      respond(lagging, reply, { ok: true, value: { hostId: 'h-1', version: 1 }, position: 1 }, { expects: 'hostId', status: 201, view: async () => undefined }));
    const response = await clientFor(app).post('/api/probe');
    await app.close();
    expect(response.status, response.text).toBe(202);
    expect(response.body).toEqual({ hostId: 'h-1', version: 1, pending: true, message: expect.stringContaining('recorded') });
  });

  describe('in strict mode', () => {
    const probe = async (answer: Record<string, unknown>, strictResponses = true) => {
      const app = buildApp(api.brume, { ...TEST_HTTP_CONFIG, strictResponses });
      app.get('/api/probe', { config: { access: 'public' }, schema: { response: replies({ 200: Health }) } }, async () => answer);
      try {
        return await clientFor(app).get('/api/probe');
      } finally {
        await app.close();
      }
    };
    const healthy = { status: 'ok', database: 'pglite', readModelPosition: 3 };

    it('sends an answer that matches its schema unchanged', async () => {
      const response = await probe(healthy);
      expect(response.status).toBe(200);
      expect(response.body).toEqual(healthy);
    });

    it.each([
      ['a property the schema does not describe', { ...healthy, secret: 'x' }, /\(the answer\) has "secret", which the schema does not describe/],
      ['a missing required property', { status: 'ok', database: 'pglite' }, /lacks "readModelPosition"/],
      ['a property of the wrong type', { ...healthy, readModelPosition: '3' }, /\/readModelPosition must be integer/],
      ['a value outside its enum', { ...healthy, database: 'sqlite' }, /\/database must be equal to one of the allowed values/],
    ])('fails loudly on %s: a 500 naming the route and the mismatch', async (_what, answer, problem) => {
      const response = await probe(answer);
      expect(response.status).toBe(500);
      expect(response.body).toEqual({ error: 'response-schema', message: expect.stringMatching(/^GET \/api\/probe 200: the answer does not match its response schema: /) });
      expect(response.body.message).toMatch(problem);
    });

    it('fails on an answer the schema accepts but the serializer changes (an object left open is emptied)', async () => {
      const app = buildApp(api.brume, TEST_HTTP_CONFIG);
      const schema = { response: replies({ 200: { type: 'object', additionalProperties: false, properties: { data: { type: 'object' } } } }) };
      app.get('/api/probe', { config: { access: 'public' }, schema }, async () => ({ data: { kept: 'no' } }));
      const response = await clientFor(app).get('/api/probe');
      await app.close();
      expect(response.status).toBe(500);
      expect(response.body.message).toContain('/data/kept is "no" but the serializer sends undefined');
    });

    it('is what catches a drifted schema: without it the serializer drops the property silently', async () => {
      const response = await probe({ ...healthy, secret: 'x' }, false);
      expect(response.status).toBe(200);
      expect(response.body).toEqual(healthy);
    });
  });
});
