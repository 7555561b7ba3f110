import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../adapters/http/app.ts';
import { clientFor, openApiHarness, PASSWORDS, TEST_HTTP_CONFIG, type ApiHarness, type ApiResponse } from '../../adapters/http/testing.ts';
import { BACKENDS, freshDatabase } from '../support/databases.ts';

const sessionCookieOf = (response: ApiResponse): string => {
  const header = [response.headers['set-cookie']].flat().find((c) => String(c).startsWith('brume_session='));
  if (!header) throw new Error(`no session cookie in ${JSON.stringify(response.headers)}`);
  return String(header);
};

describe.each(BACKENDS)('API sign-in, tokens and users on $backend', ({ backend, skip }) => {
  let api: ApiHarness;

  beforeAll(async () => {
    if (skip) return;
    api = await openApiHarness(backend === 'postgres' ? await freshDatabase('postgres') : {});
  });
  afterAll(() => api?.close());

  /** Signs in and returns a client that sends the session cookie. */
  async function signIn(username: string, password: string) {
    const response = await api.as('anonymous').post('/api/auth/login', { username, password });
    expect(response.status, response.text).toBe(200);
    const cookie = sessionCookieOf(response).split(';')[0]!;
    return { response, cookie, client: clientFor(api.app, { cookie }) };
  }

  it.skipIf(skip)('reports health without credentials: database kind and read-model position', async () => {
    const response = await api.as('anonymous').get('/api/health');
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('ok');
    expect(response.body.database).toBe(backend);
    expect(response.body.readModelPosition).toBeGreaterThan(0);
  });

  it.skipIf(skip)('signs in with a password: an httpOnly SameSite=Strict session cookie, recorded as UserLoggedIn', async () => {
    const wrong = await api.as('anonymous').post('/api/auth/login', { username: 'admin', password: 'not-the-password' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: 'unauthorized', message: expect.stringMatching(/wrong username or password/) });
    const nobody = await api.as('anonymous').post('/api/auth/login', { username: 'nobody', password: 'whatever-it-is' });
    expect(nobody.status).toBe(401);

    const { response, client } = await signIn('admin', PASSWORDS.admin);
    const cookie = sessionCookieOf(response);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\//);
    expect(response.body.user).toEqual({ id: api.userIds.admin, username: 'admin', role: 'admin' });

    const me = await client.get('/api/auth/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: api.userIds.admin, username: 'admin', role: 'admin', via: 'session' });
    expect(me.body.permissions).toContain('users:manage');

    const logins = await client.get('/api/events', { type: 'UserLoggedIn', stream: `user-${api.userIds.admin}` });
    expect(logins.status).toBe(200);
    expect(logins.body.events).toHaveLength(1);
    expect(logins.body.events[0]).toMatchObject({ actor: api.userIds.admin, data: { userId: api.userIds.admin } });
  });

  it.skipIf(skip)('marks the session cookie Secure behind a trusted TLS proxy, and only then', async () => {
    const login = { username: 'operator', password: PASSWORDS.operator };
    const cookieOf = (r: { headers: Record<string, unknown> }) => String([r.headers['set-cookie']].flat()[0]);
    const proxied = buildApp(api.brume, { ...TEST_HTTP_CONFIG, trustProxy: true });
    try {
      const viaProxy = await proxied.inject({ method: 'POST', url: '/api/auth/login', payload: login, headers: { 'x-forwarded-proto': 'https' } });
      expect(viaProxy.statusCode).toBe(200);
      expect(cookieOf(viaProxy)).toMatch(/; Secure/);
    } finally {
      await proxied.close();
    }
    const direct = await api.app.inject({ method: 'POST', url: '/api/auth/login', payload: login, headers: { 'x-forwarded-proto': 'https' } });
    expect(cookieOf(direct)).not.toMatch(/Secure/);
  });

  it.skipIf(skip)('signs out: the cookie is cleared and the session no longer works', async () => {
    const { client, cookie } = await signIn('operator', PASSWORDS.operator);
    expect((await client.get('/api/hosts')).status).toBe(200);
    const out = await client.post('/api/auth/logout');
    expect(out.status).toBe(204);
    expect(String([out.headers['set-cookie']].flat()[0])).toMatch(/brume_session=;.*Expires=Thu, 01 Jan 1970/);
    const after = await clientFor(api.app, { cookie }).get('/api/hosts');
    expect(after.status).toBe(401);
    expect(after.body.error).toBe('unauthorized');
  });

  it.skipIf(skip)('issues a bearer token once and records ApiTokenIssued without the secret', async () => {
    const { client } = await signIn('auditor', PASSWORDS.auditor);
    const issued = await client.post('/api/tokens', { name: 'nightly report', expiresInDays: 30 });
    expect(issued.status, issued.text).toBe(201);
    const { token, id, expiresAt } = issued.body;
    expect(token).toMatch(/^brume_[A-Za-z0-9_-]{20,}$/);
    expect(issued.body.name).toBe('nightly report');
    const days = (Date.parse(expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);

    const me = await clientFor(api.app, { authorization: `Bearer ${token}` }).get('/api/auth/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: api.userIds.auditor, role: 'auditor', via: 'token' });

    const facts = await client.get('/api/events', { type: 'ApiTokenIssued', actor: api.userIds.auditor });
    expect(facts.body.events).toHaveLength(1);
    expect(facts.body.events[0].data).toEqual({ userId: api.userIds.auditor, tokenId: id, name: 'nightly report', expiresAt });
    const everything = await api.as('admin').get('/api/events', { limit: 500 });
    expect(everything.text).not.toContain(token);
  });

  it.skipIf(skip)('lists your tokens without secrets and revokes them: a revoked token stops working at once', async () => {
    const operator = api.as('operator');
    const issued = (await operator.post('/api/tokens', { name: 'to revoke' })).body;
    const bearer = clientFor(api.app, { authorization: `Bearer ${issued.token}` });
    expect((await bearer.get('/api/auth/me')).status).toBe(200);
    const listed = await operator.get('/api/tokens');
    expect(listed.body.items.find((t: { id: string }) => t.id === issued.id)).toMatchObject({ name: 'to revoke', revokedAt: null });
    expect(listed.text).not.toContain(issued.token);
    // An auditor cannot revoke someone else's token; the owner can.
    expect((await api.as('auditor').delete(`/api/tokens/${issued.id}`)).status).toBe(404);
    expect((await operator.delete(`/api/tokens/${issued.id}`)).status).toBe(204);
    expect((await bearer.get('/api/auth/me')).status).toBe(401);
    expect((await operator.delete(`/api/tokens/${issued.id}`)).status).toBe(404);
    const after = await operator.get('/api/tokens');
    expect(after.body.items.find((t: { id: string }) => t.id === issued.id).revokedAt).not.toBeNull();
    const facts = await api.as('admin').get('/api/events', { type: 'ApiTokenRevoked' });
    expect(facts.body.events.map((e: { data: { tokenId: string } }) => e.data.tokenId)).toContain(issued.id);
  });

  it.skipIf(skip)('will not show a token twice for one Idempotency-Key, and validates the request', async () => {
    const client = api.as('operator', { 'idempotency-key': 'token-once' });
    expect((await client.post('/api/tokens', { name: 'ci' })).status).toBe(201);
    const again = await client.post('/api/tokens', { name: 'ci' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: 'conflict', field: 'Idempotency-Key' });
    expect(again.body.token).toBeUndefined();

    const noName = await api.as('operator').post('/api/tokens', {});
    expect(noName).toMatchObject({ status: 400, body: { error: 'validation', field: 'name', message: 'name is required' } });
    const zeroDays = await api.as('operator').post('/api/tokens', { name: 'x', expiresInDays: 0 });
    expect(zeroDays).toMatchObject({ status: 400, body: { field: 'expiresInDays' } });
  });

  it.skipIf(skip)('creates users, changes role and password, and disables them, effective at once', async () => {
    const admin = api.as('admin');
    const created = await admin.post('/api/users', { username: 'carol', role: 'operator', password: 'carol-password-1' });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ username: 'carol', role: 'operator', disabled: false });
    const carolId = created.body.id;

    const again = await admin.post('/api/users', { username: 'carol', role: 'auditor', password: 'carol-password-2' });
    expect(again).toMatchObject({ status: 409, body: { error: 'conflict', field: 'username' } });
    const short = await admin.post('/api/users', { username: 'dave', role: 'auditor', password: 'short' });
    expect(short).toMatchObject({ status: 400, body: { field: 'password' } });
    const badRole = await admin.post('/api/users', { username: 'dave', role: 'wizard', password: 'dave-password-1' });
    expect(badRole).toMatchObject({ status: 400, body: { field: 'role' } });
    expect(badRole.body.message).toMatch(/admin, operator, auditor/);

    const carol = (await signIn('carol', 'carol-password-1')).client;
    const hostBody = { name: 'carol-pc', macs: ['52:54:00:c0:00:01'] };
    expect((await carol.post('/api/hosts', hostBody)).status).toBe(201);

    const demoted = await admin.patch(`/api/users/${carolId}`, { role: 'auditor' });
    expect(demoted).toMatchObject({ status: 200, body: { id: carolId, role: 'auditor' } });
    expect((await carol.post('/api/hosts', { name: 'carol-pc2', macs: ['52:54:00:c0:00:02'] })).status).toBe(403);

    const repassed = await admin.patch(`/api/users/${carolId}`, { password: 'carol-password-new' });
    expect(repassed.status).toBe(200);
    expect((await api.as('anonymous').post('/api/auth/login', { username: 'carol', password: 'carol-password-1' })).status).toBe(401);
    const fresh = (await signIn('carol', 'carol-password-new')).client;

    const disabled = await admin.patch(`/api/users/${carolId}`, { disabled: true });
    expect(disabled).toMatchObject({ status: 200, body: { disabled: true } });
    expect((await fresh.get('/api/hosts')).status).toBe(401);
    expect((await api.as('anonymous').post('/api/auth/login', { username: 'carol', password: 'carol-password-new' })).status).toBe(401);
    const enable = await admin.patch(`/api/users/${carolId}`, { disabled: false });
    expect(enable).toMatchObject({ status: 200, body: { disabled: false } });
    // Enabled again: the password works, but the session from before the disable stays ended.
    expect((await fresh.get('/api/hosts')).status).toBe(401);
    expect((await api.as('anonymous').post('/api/auth/login', { username: 'carol', password: 'carol-password-new' })).status).toBe(200);
    const history = await admin.get('/api/events', { stream: `user-${carolId}` });
    expect(history.body.events.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['UserDisabled', 'UserEnabled']));

    const list = await api.as('auditor').get('/api/users');
    expect(list.body.items.map((u: { username: string }) => u.username)).toEqual(['admin', 'auditor', 'carol', 'operator']);
    expect((await admin.patch('/api/users/no-such-user', { role: 'admin' })).status).toBe(404);
    // brume is never left without an admin.
    const lastAdmin = await admin.patch(`/api/users/${api.userIds.admin}`, { role: 'operator' });
    expect(lastAdmin).toMatchObject({ status: 409, body: { field: 'role' } });
    expect(lastAdmin.body.message).toContain('last active admin');
    expect((await admin.patch(`/api/users/${api.userIds.admin}`, { disabled: true })).status).toBe(409);
    expect((await admin.get('/api/auth/me')).body.role).toBe('admin');
  });

  it.skipIf(skip)('answers malformed and oversized bodies with the JSON error shape', async () => {
    const broken = await api.as('admin').request('POST', '/api/hosts', { body: '{"name": ', headers: { 'content-type': 'application/json' } });
    expect(broken.status).toBe(400);
    expect(broken.body).toEqual({ error: 'validation', message: 'the body is not valid JSON', field: 'body' });
    const huge = await api.as('admin').post('/api/hosts', { name: 'x', macs: ['52:54:00:00:00:99'], description: 'x'.repeat(1_100_000) });
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({ error: 'payload-too-large', message: expect.stringMatching(/1 MiB/) });
    const notJson = await api.as('admin').request('POST', '/api/hosts', { body: '<host/>', headers: { 'content-type': 'application/xml' } });
    expect(notJson.status).toBe(415);
    expect(notJson.body.error).toBe('unsupported-media-type');
    expect(broken.text + huge.text + notJson.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });
});
