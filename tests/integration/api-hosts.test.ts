import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiHarness, type ApiClient, type ApiHarness } from '../../adapters/http/testing.ts';
import { BACKENDS, freshDatabase } from '../support/databases.ts';

describe.each(BACKENDS)('API hosts, catalog and import on $backend', ({ backend, skip }) => {
  let api: ApiHarness;
  let operator: ApiClient;
  let admin: ApiClient;
  let imageId: string;
  const hostIds: Record<string, string> = {};

  beforeAll(async () => {
    if (skip) return;
    api = await openApiHarness(backend === 'postgres' ? await freshDatabase('postgres') : {});
    operator = api.as('operator');
    admin = api.as('admin');
    const image = await admin.post('/api/images', { name: 'win11', os: 'windows-11' });
    expect(image.status, image.text).toBe(201);
    imageId = image.body.id;
  });
  afterAll(() => api?.close());

  it.skipIf(skip)('registers hosts with a MAC in each of the four forms, normalised', async () => {
    const forms = { 'lab-01': '52:54:00:AA:00:01', 'lab-02': '52-54-00-aa-00-02', 'lab-03': '525400AA0003', 'lab-04': '5254.00aa.0004' };
    for (const [name, mac] of Object.entries(forms)) {
      const response = await operator.post('/api/hosts', { name, macs: [mac], imageId, ip: '192.0.2.10' });
      expect(response.status, response.text).toBe(201);
      expect(response.body).toMatchObject({ name, primaryMac: `52:54:00:aa:00:0${name.slice(-1)}`, imageId, ip: '192.0.2.10', version: 1 });
      expect(response.headers.etag).toBe('"1"');
      hostIds[name] = response.body.id;
    }
  });

  it.skipIf(skip)('refuses a malformed MAC, a missing field and an unknown field, naming the field', async () => {
    const malformed = await operator.post('/api/hosts', { name: 'lab-09', macs: ['52:54:00:zz:00:09'] });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ error: 'validation', field: 'macs[0]', message: expect.stringMatching(/is not a MAC address/) });
    const missing = await operator.post('/api/hosts', { name: 'lab-09' });
    expect(missing.body).toEqual({ error: 'validation', field: 'macs', message: 'macs is required' });
    const unknown = await operator.post('/api/hosts', { name: 'lab-09', macs: ['52:54:00:aa:00:09'], colour: 'red' });
    expect(unknown).toMatchObject({ status: 400, body: { field: 'colour' } });
    const badName = await operator.post('/api/hosts', { name: 'lab 09!', macs: ['52:54:00:aa:00:09'] });
    expect(badName).toMatchObject({ status: 400, body: { field: 'name' } });
    expect((await operator.get('/api/hosts', { q: 'lab-09' })).body.total).toBe(0);
  });

  it.skipIf(skip)('refuses a MAC another host has, in whatever form it is written, with 409', async () => {
    const duplicate = await operator.post('/api/hosts', { name: 'lab-10', macs: ['5254.00aa.0001'] });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toMatchObject({ error: 'conflict', field: 'macs', message: expect.stringContaining('52:54:00:aa:00:01') });
  });

  it.skipIf(skip)('lists, searches by name or MAC in any form, and pages with a cursor', async () => {
    const all = await api.as('auditor').get('/api/hosts');
    expect(all.status).toBe(200);
    expect(all.body.items.map((h: { name: string }) => h.name)).toEqual(['lab-01', 'lab-02', 'lab-03', 'lab-04']);
    expect(all.body).toMatchObject({ total: 4, nextCursor: null });

    const byMac = await operator.get('/api/hosts', { q: 'aa-00-03' });
    expect(byMac.body.items.map((h: { name: string }) => h.name)).toEqual(['lab-03']);
    expect((await operator.get('/api/hosts', { q: '5254.00aa.0002' })).body.items[0].name).toBe('lab-02');

    const first = await operator.get('/api/hosts', { limit: 3 });
    expect(first.body.items).toHaveLength(3);
    expect(first.body.total).toBe(4);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await operator.get('/api/hosts', { limit: 3, cursor: first.body.nextCursor });
    expect(second.body.items.map((h: { name: string }) => h.name)).toEqual(['lab-04']);
    expect(second.body.nextCursor).toBeNull();

    expect(await operator.get('/api/hosts', { cursor: 'garbage' })).toMatchObject({ status: 400, body: { field: 'cursor' } });
    const zero = await operator.get('/api/hosts', { limit: 0 });
    expect(zero).toMatchObject({ status: 400, body: { field: 'limit' } });
    expect(zero.body.message).toMatch(/limit must be >= 1/);
    expect(await operator.get('/api/hosts', { grupId: 'x' })).toMatchObject({ status: 400, body: { field: 'grupId' } });
  });

  it.skipIf(skip)('changes a host under If-Match and answers a stale version with 409 and the current version', async () => {
    const id = hostIds['lab-02']!;
    const renamed = await operator.patch(`/api/hosts/${id}`, { name: 'lab-02b', description: 'by the window' }, { 'if-match': '"1"' });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body).toMatchObject({ id, name: 'lab-02b', description: 'by the window', version: 2 });
    expect(renamed.headers.etag).toBe('"2"');

    const stale = await operator.patch(`/api/hosts/${id}`, { name: 'lab-02c' }, { 'if-match': '1' });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ error: 'conflict', currentVersion: 2 });
    expect((await operator.get(`/api/hosts/${id}`)).body.name).toBe('lab-02b');

    expect(await operator.patch(`/api/hosts/${id}`, { name: 'x' }, { 'if-match': 'yesterday' })).toMatchObject({ status: 400, body: { field: 'If-Match' } });
    const noImage = await operator.patch(`/api/hosts/${id}`, { imageId: 'no-such-image' });
    expect(noImage).toMatchObject({ status: 404, body: { error: 'not-found', field: 'imageId' } });
    expect(await operator.patch('/api/hosts/no-such-host', { name: 'ghost' })).toMatchObject({ status: 404 });
  });

  it.skipIf(skip)('shows a host with its groups, tasks and history; filters the list by group', async () => {
    const group = await admin.post('/api/groups', { name: 'Lab', description: 'room 2' });
    expect(group.status, group.text).toBe(201);
    const id = hostIds['lab-01']!;
    const joined = await operator.patch(`/api/hosts/${id}`, { groupIds: [group.body.id] });
    expect(joined.body.groupIds).toEqual([group.body.id]);

    const detail = await api.as('auditor').get(`/api/hosts/${id}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ id, name: 'lab-01', groups: [{ id: group.body.id, name: 'Lab' }], tasks: [] });
    expect(detail.body.history.map((e: { type: string }) => e.type)).toEqual(['HostRegistered', 'GroupMembersAdded']);
    expect(detail.body.history[0]).toMatchObject({ actor: api.userIds.operator, occurredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) });

    const members = await operator.get('/api/hosts', { groupId: group.body.id });
    expect(members.body.items.map((h: { id: string }) => h.id)).toEqual([id]);
    expect((await operator.get('/api/hosts/no-such-host')).status).toBe(404);
  });

  it.skipIf(skip)('deletes a host: gone from the list and from its groups', async () => {
    const id = hostIds['lab-04']!;
    const group = await admin.post('/api/groups', { name: 'Doomed' });
    await admin.post(`/api/groups/${group.body.id}/members`, { add: [id] });
    const deleted = await operator.delete(`/api/hosts/${id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect((await operator.get(`/api/hosts/${id}`)).status).toBe(404);
    expect((await admin.get(`/api/groups/${group.body.id}`)).body.memberIds).toEqual([]);
    expect((await operator.delete(`/api/hosts/${id}`)).status).toBe(404);
  });

  it.skipIf(skip)('treats a retried creation with the same Idempotency-Key as one, and refuses the key for another request', async () => {
    const key = { 'idempotency-key': 'create-lab-20' };
    const body = { name: 'lab-20', macs: ['52:54:00:aa:00:20'] };
    const first = await operator.post('/api/hosts', body, key);
    const retry = await operator.post('/api/hosts', body, key);
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body.id).toBe(first.body.id);
    expect((await operator.get('/api/hosts', { q: 'lab-20' })).body.total).toBe(1);

    const reused = await operator.post('/api/tasks', { type: 'memtest', hostId: first.body.id }, key);
    expect(reused).toMatchObject({ status: 409, body: { field: 'Idempotency-Key' } });
    // Keys belong to the user who sent them: another user's "create-lab-20" is a command of its own.
    const otherUser = await admin.post('/api/hosts', { name: 'lab-22', macs: ['52:54:00:aa:00:22'] }, key);
    expect(otherUser.status).toBe(201);
    expect(otherUser.headers['idempotent-replayed']).toBeUndefined();
    expect(otherUser.body.id).not.toBe(first.body.id);
    const unprintable = await operator.post('/api/hosts', { name: 'lab-21', macs: ['52:54:00:aa:00:21'] }, { 'idempotency-key': 'x'.repeat(201) });
    expect(unprintable).toMatchObject({ status: 400, body: { field: 'Idempotency-Key' } });
  });

  it.skipIf(skip)('imports a FOG CSV: a dry run reports every line and writes nothing; the real run imports the good lines', async () => {
    const csv = [
      '"52:54:00:bb:00:01","csv-01","10.0.0.1","Room 1","","win11"',
      '"52-54-00-bb-00-02","csv-02","","","",""',
      '"not-a-mac","csv-03","","","",""',
      '"525400bb0001","csv-04","","","",""',
      '"52:54:00:bb:00:05","lab-01","","","",""',
      '"52:54:00:bb:00:06","csv-06","","","","no-such-image"',
    ].join('\r\n');
    const post = (query: string, body = csv, type = 'text/csv') =>
      operator.request('POST', `/api/hosts/import${query}`, { body, headers: { 'content-type': type } });

    const dry = await post('?dryRun=true');
    expect(dry.status, dry.text).toBe(200);
    expect(dry.body.dryRun).toBe(true);
    expect(dry.body.imported.map((l: { line: number; name: string }) => [l.line, l.name])).toEqual([[1, 'csv-01'], [2, 'csv-02']]);
    expect(dry.body.rejected).toEqual([
      { line: 3, reason: expect.stringMatching(/"not-a-mac" is not a MAC address/) },
      { line: 4, reason: 'MAC 52:54:00:bb:00:01 repeats line 1' },
      { line: 5, reason: 'a host named "lab-01" already exists' },
      { line: 6, reason: 'image "no-such-image" does not exist' },
    ]);
    expect((await operator.get('/api/hosts', { q: 'csv' })).body.total).toBe(0);

    const strict = await post('?allOrNothing=true');
    expect(strict.status).toBe(200);
    expect(strict.body.imported).toEqual([]);
    expect(strict.body.rejected).toHaveLength(4);
    expect((await operator.get('/api/hosts', { q: 'csv' })).body.total).toBe(0);

    const real = await post('', csv, 'text/plain; charset=utf-8');
    expect(real.status, real.text).toBe(201);
    expect(real.body.imported).toHaveLength(2);
    const imported = await operator.get('/api/hosts', { q: 'csv' });
    expect(imported.body.items.map((h: { name: string; imageId: string; ip: string }) => [h.name, h.imageId, h.ip]))
      .toEqual([['csv-01', imageId, '10.0.0.1'], ['csv-02', null, null]]);

    const json = await operator.post('/api/hosts/import', { csv });
    expect(json).toMatchObject({ status: 415, body: { error: 'unsupported-media-type' } });
    expect(await post('', '')).toMatchObject({ status: 400, body: { field: 'body' } });

    const large = `${'\n'.repeat(3 * 1024 * 1024)}"52:54:00:bb:00:30","csv-30","","","",""\n`;
    const dryLarge = await post('?dryRun=true', large);
    expect(dryLarge.status, dryLarge.text.slice(0, 200)).toBe(200);
    expect(dryLarge.body.imported).toEqual([expect.objectContaining({ name: 'csv-30', line: 3 * 1024 * 1024 + 1 })]);
    const tooLarge = await post('?dryRun=true', 'x'.repeat(21 * 1024 * 1024));
    expect(tooLarge).toMatchObject({ status: 413, body: { error: 'payload-too-large', message: expect.stringMatching(/20 MiB/) } });
  });

  it.skipIf(skip)('manages images, storage nodes and group members with the same shape', async () => {
    const duplicate = await admin.post('/api/images', { name: 'WIN11' });
    expect(duplicate).toMatchObject({ status: 409, body: { field: 'name' } });
    const badType = await admin.post('/api/images', { name: 'raw', type: 'zip' });
    expect(badType).toMatchObject({ status: 400, body: { field: 'type' } });
    const changed = await admin.patch(`/api/images/${imageId}`, { compression: 9 }, { 'if-match': '1' });
    expect(changed).toMatchObject({ status: 200, body: { compression: 9, version: 2 } });
    expect(await admin.patch(`/api/images/${imageId}`, { compression: 3 }, { 'if-match': '1' })).toMatchObject({ status: 409, body: { currentVersion: 2 } });
    const images = await api.as('auditor').get('/api/images');
    expect(images.body).toMatchObject({ total: 1, nextCursor: null });
    expect(images.body.items[0]).toMatchObject({ id: imageId, name: 'win11', compression: 9 });

    const node = await admin.post('/api/storage-nodes', { name: 'node-1', address: '10.0.0.5', maxClients: 4, master: true });
    expect(node.status, node.text).toBe(201);
    expect(node.body).toMatchObject({ name: 'node-1', maxClients: 4, slotsFree: 4, master: true });
    const secondMaster = await admin.post('/api/storage-nodes', { name: 'node-2', address: '10.0.0.6', master: true });
    expect(secondMaster.status).toBe(409);
    expect((await admin.delete(`/api/storage-nodes/${node.body.id}`)).status).toBe(204);
    expect((await admin.get(`/api/storage-nodes/${node.body.id}`)).status).toBe(404);

    const group = await admin.post('/api/groups', { name: 'Members', imageId });
    const added = await admin.post(`/api/groups/${group.body.id}/members`, { add: [hostIds['lab-01'], hostIds['lab-03']] });
    expect(added.status, added.text).toBe(200);
    expect(added.body.memberIds.sort()).toEqual([hostIds['lab-01'], hostIds['lab-03']].sort());
    const removed = await admin.post(`/api/groups/${group.body.id}/members`, { remove: [hostIds['lab-01']] });
    expect(removed.body.memberIds).toEqual([hostIds['lab-03']]);
    const ghost = await admin.post(`/api/groups/${group.body.id}/members`, { add: ['no-such-host'] });
    expect(ghost).toMatchObject({ status: 404, body: { field: 'add' } });
  });

  it.skipIf(skip)('serves the OpenAPI document listing every API route, and the docs page, without sign-in', async () => {
    const response = await api.as('anonymous').get('/api/openapi.json');
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe('3.1.0');
    const documented = Object.entries(response.body.paths as Record<string, object>)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    const apiRoutes = api.routes
      // The dashboard's static files (/ and /assets/*) are not API routes.
      .filter((r) => !r.url.startsWith('/api/docs') && r.url !== '/api/openapi.json' && r.url !== '/' && !r.url.startsWith('/assets/'))
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}').replace(/\*$/, '{*}')}`);
    expect(apiRoutes.length).toBeGreaterThan(35);
    expect(documented.sort(), JSON.stringify({ documented: documented.filter((d) => !apiRoutes.includes(d)), missing: apiRoutes.filter((r) => !documented.includes(r)) })).toEqual(apiRoutes.sort());
    expect(response.body.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    const docs = await api.as('anonymous').request('GET', '/api/docs/');
    expect(docs.status).toBe(200);
    expect(docs.text).toMatch(/swagger/i);
  });
});
