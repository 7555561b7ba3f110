import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_BOOT_HTTP_CONFIG } from '../../adapters/http/routes/boot.ts';
import { openApiHarness, type ApiClient, type ApiHarness } from '../../adapters/http/testing.ts';
import { BACKENDS, freshDatabase } from '../support/databases.ts';

const UNKNOWN = '52:54:00:dd:00:09';
const MENU_MAC = '52:54:00:dd:00:01';
const TASK_MAC = '52:54:00:dd:00:02';

describe.each(BACKENDS)('boot routes on $backend', ({ backend, skip }) => {
  let api: ApiHarness;
  let operator: ApiClient;
  let anonymous: ApiClient;
  let filesDir: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    if (skip) return;
    filesDir = mkdtempSync(join(tmpdir(), 'brume-boot-files-'));
    writeFileSync(join(filesDir, 'ipxe.efi'), Buffer.from('not really ipxe'));
    api = await openApiHarness({
      ...(backend === 'postgres' ? await freshDatabase('postgres') : {}),
      http: { boot: { ...DEFAULT_BOOT_HTTP_CONFIG, httpBaseUrl: 'http://192.0.2.1:8080', filesDir, menuTimeoutSeconds: 7 } },
    });
    operator = api.as('operator');
    anonymous = api.as('anonymous');
    ids.image = (await api.as('admin').post('/api/images', { name: 'debian-12' })).body.id;
    ids.menuHost = (await operator.post('/api/hosts', { name: 'menu-01', macs: [MENU_MAC] })).body.id;
    ids.taskHost = (await operator.post('/api/hosts', { name: 'task-01', macs: [TASK_MAC], imageId: ids.image })).body.id;
    const task = await operator.post('/api/tasks', { type: 'deploy', hostId: ids.taskHost });
    expect(task.status, task.text).toBe(201);
    ids.task = task.body.id ?? task.body.taskId;
  });
  afterAll(async () => {
    await api?.close();
    if (filesDir) rmSync(filesDir, { recursive: true, force: true });
  });

  it.skipIf(skip)('given an unknown MAC in any form, when iPXE asks for its script, then it gets the registration menu, uncached, without signing in', async () => {
    for (const form of [UNKNOWN, UNKNOWN.toUpperCase().replaceAll(':', '-'), UNKNOWN.replaceAll(':', ''), '5254.00dd.0009']) {
      const res = await anonymous.get('/boot/ipxe', { mac: form, arch: 'x86_64', platform: 'efi' });
      expect(res.status, res.text).toBe(200);
      expect(res.text.startsWith('#!ipxe')).toBe(true);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.text).toMatch(/regist/i);
      expect(res.text).not.toContain('brume.token=');
    }
  });

  it.skipIf(skip)('given a registered host without a task, when it boots, then it gets its menu with the configured timeout and local disk as default', async () => {
    const res = await anonymous.get('/boot/ipxe', { mac: MENU_MAC, arch: 'x86_64', platform: 'pcbios' });
    expect(res.status).toBe(200);
    expect(res.text).toContain('menu-01');
    expect(res.text).toMatch(/choose[^\n]*--timeout 7000/);
    expect(res.text).not.toContain('brume.token=');
  });

  it.skipIf(skip)('given a host with a pending deploy, when it boots, then the script boots the task with a token that verifies, and only its digest is recorded', async () => {
    const res = await anonymous.get('/boot/ipxe', { mac: TASK_MAC, arch: 'x86_64', platform: 'efi' });
    expect(res.status).toBe(200);
    const kernel = res.text.split('\n').find((l) => l.trim().startsWith('kernel '));
    expect(kernel).toBeDefined();
    expect(kernel).toContain('http://192.0.2.1:8080/boot/env/');
    expect(kernel).toContain(`brume.task=${ids.task}`);
    const token = /brume\.token=([A-Za-z0-9_-]+)/.exec(kernel!)?.[1];
    expect(token).toBeDefined();
    await api.brume.bootTokens.settled();
    expect(api.brume.bootTokens.verify(ids.task!, token!)).toEqual({ ok: true });
    expect(api.brume.bootTokens.verify(ids.task!, `${token}x`)).toEqual({ ok: false, reason: 'wrong-token' });

    // A second fetch moments later (iPXE retrying) gets the same token, not a new event.
    const again = await anonymous.get('/boot/ipxe', { mac: TASK_MAC, arch: 'x86_64', platform: 'efi' });
    expect(again.text).toContain(`brume.token=${token}`);
    await api.brume.bootTokens.settled();
    // readAll shows a commit once every older transaction on the server has ended (other suites' too): wait for it.
    const issuedEvents = async () => (await api.brume.store.readAll({ after: null, limit: 10_000 })).filter((e) => e.type === 'BootTokenIssued');
    await vi.waitFor(async () => expect((await issuedEvents()).length).toBeGreaterThan(0));
    const issued = await issuedEvents();
    expect(issued).toHaveLength(1);
    expect(JSON.stringify(issued[0]!.data)).not.toContain(token!);
    expect(issued[0]!.data).toMatchObject({ taskId: ids.task, hostId: ids.taskHost, mac: TASK_MAC });
  });

  it.skipIf(skip)('given a cancelled task, when its old token is presented, then it no longer verifies', async () => {
    const res = await anonymous.get('/boot/ipxe', { mac: TASK_MAC, platform: 'efi' });
    const token = /brume\.token=([A-Za-z0-9_-]+)/.exec(res.text)![1]!;
    const cancelled = await operator.post(`/api/tasks/${ids.task}/cancel`, { reason: 'test' });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(api.brume.bootTokens.verify(ids.task!, token)).toEqual({ ok: false, reason: 'task-ended' });
    const after = await anonymous.get('/boot/ipxe', { mac: TASK_MAC, platform: 'efi' });
    expect(after.text).not.toContain('brume.token=');
  });

  it.skipIf(skip)('given a malformed MAC, when asked, then 400 names the field', async () => {
    const res = await anonymous.get('/boot/ipxe', { mac: '52:54:00:zz:00:01' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'validation', field: 'mac' });
    expect((await anonymous.get('/boot/ipxe')).status).toBe(400);
  });

  it.skipIf(skip)('given boot files, when fetched over HTTP, then they are served from the directory and escapes are refused', async () => {
    const file = await anonymous.get('/boot/files/ipxe.efi');
    expect(file.status).toBe(200);
    expect(file.text).toBe('not really ipxe');
    expect((await anonymous.get('/boot/files/nothing.efi')).status).toBe(404);
    const escape = await anonymous.get('/boot/files/..%2f..%2fetc%2fpasswd');
    expect([400, 403, 404]).toContain(escape.status);
    expect(escape.text).not.toContain('root:');
    const env = await anonymous.get('/boot/env/vmlinuz');
    expect(env.status).toBe(404);
    expect(env.body.message).toMatch(/boot environment/);
  });

  it.skipIf(skip)('given machines booted, when an operator reads the host, then its boot stages show the script stage with its time', async () => {
    await anonymous.get('/boot/ipxe', { mac: MENU_MAC, arch: 'x86_64', platform: 'pcbios' });
    const host = await operator.get(`/api/hosts/${ids.menuHost}`);
    expect(host.status).toBe(200);
    expect(host.body.bootStages).toEqual(expect.arrayContaining([
      expect.objectContaining({ mac: MENU_MAC, stage: 'script', detail: expect.objectContaining({ answer: 'menu', arch: 'x86_64', platform: 'pcbios' }) }),
    ]));
    await api.brume.bootActivity.flush();
    const events = await api.brume.store.readAll({ after: null, limit: 10_000 });
    expect(events.filter((e) => e.type === 'BootStageObserved' && (e.data as any).mac === MENU_MAC)).toHaveLength(1);
  });

  it.skipIf(skip)('given machines booted, when an operator asks for boot activity, then recent stages list known hosts and unknown machines, and the counters say what the responders did', async () => {
    await anonymous.get('/boot/ipxe', { mac: UNKNOWN, arch: 'x86_64', platform: 'efi' });
    await anonymous.get('/boot/ipxe', { mac: MENU_MAC, platform: 'pcbios' });
    const activity = await operator.get('/api/boot/activity');
    expect(activity.status, activity.text).toBe(200);
    expect(activity.body.items).toEqual(expect.arrayContaining([
      expect.objectContaining({ mac: UNKNOWN, stage: 'script', host: null }),
      expect.objectContaining({ mac: MENU_MAC, stage: 'script', host: { id: ids.menuHost, name: 'menu-01' } }),
    ]));
    const future = await operator.get('/api/boot/activity', { since: '2999-01-01' });
    expect(future.body.items).toEqual([]);
    expect((await operator.get('/api/boot/activity', { since: 'yesterday-ish' })).body).toMatchObject({ field: 'since' });

    const status = await api.as('auditor').get('/api/boot/status');
    expect(status.status).toBe(200);
    expect(status.body.activity.observed).toBeGreaterThan(0);
    expect(status.body.index).toMatchObject({ hosts: 2 });
    expect(status.body.dhcp).toBeUndefined();
  });

  it.skipIf(skip)('given a cached menu script, when the host changes, then the next script shows the change', async () => {
    const before = await anonymous.get('/boot/ipxe', { mac: MENU_MAC, platform: 'pcbios' });
    expect(before.text).toContain('menu-01');
    const host = await operator.get(`/api/hosts/${ids.menuHost}`);
    const renamed = await operator.patch(`/api/hosts/${ids.menuHost}`, { name: 'menu-renamed' }, { 'if-match': `"${host.body.version}"` });
    expect(renamed.status, renamed.text).toBe(200);
    const after = await anonymous.get('/boot/ipxe', { mac: MENU_MAC, platform: 'pcbios' });
    expect(after.text).toContain('menu-renamed');
    expect(after.text).not.toContain('menu-01');
  });

  it.skipIf(skip)('given a listening server, when iPXE asks over a real connection, then the fast path answers as the route does, records the stage, and leaves bad requests to the route', async () => {
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = api.app.server.address() as { port: number };
    const base = `http://127.0.0.1:${port}/boot/ipxe`;
    const observed = () => api.brume.bootActivity.stats().observed;

    const before = observed();
    const fast = await fetch(`${base}?mac=${MENU_MAC.toUpperCase().replaceAll(':', '-')}&arch=x86_64&platform=pcbios`);
    expect(fast.status).toBe(200);
    expect(fast.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(fast.headers.get('cache-control')).toBe('no-store');
    const script = await fast.text();
    expect(Number(fast.headers.get('content-length'))).toBe(Buffer.byteLength(script));
    expect(observed()).toBe(before + 1);
    // The same answer as the fastify route gives (app.inject never goes through the server's fast path).
    const routed = await anonymous.get('/boot/ipxe', { mac: MENU_MAC, arch: 'x86_64', platform: 'pcbios' });
    expect(script).toBe(routed.text);
    const stages = await operator.get(`/api/hosts/${ids.menuHost}`);
    expect(stages.body.bootStages).toEqual(expect.arrayContaining([
      expect.objectContaining({ mac: MENU_MAC, stage: 'script', detail: expect.objectContaining({ ip: '127.0.0.1', arch: 'x86_64' }) }),
    ]));

    // What the fast path does not take, the route answers with its usual errors.
    const bad = await fetch(`${base}?mac=52:54:00:zz:00:01`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'validation', field: 'mac' });
    expect((await fetch(`${base}?arch=x86_64`)).status).toBe(400);
    expect((await fetch(`${base}?mac=${MENU_MAC}`, { method: 'POST' })).status).toBe(404);
    const encoded = await fetch(`${base}?mac=${encodeURIComponent(UNKNOWN)}&platform=efi&extra=1`);
    expect(encoded.status).toBe(200);
    expect(await encoded.text()).toMatch(/regist/i);
  });
});
