import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brumeBackground } from '../support/cli.ts';

/**
 * The dashboard in a real browser (Debian's chromium, driven by
 * playwright-core; no browser is downloaded) against a real `brume serve`
 * on loopback: sign in, import hosts from CSV (report first), create a
 * capture task, watch its progress move live while a client reports over
 * the client API, cancel it with a reason, and find the cancel in the
 * history. Screenshots of each step go to BRUME_E2E_SCREENSHOTS (or a temp
 * directory, printed).
 */

const CHROMIUM = '/usr/bin/chromium';
const PORT = 18_000 + (process.pid % 1000);
const BASE = `http://127.0.0.1:${PORT}`;
const PASSWORD = 'ui-e2e-password-1';
const MAC = '52:54:00:ee:00:01';

describe('the dashboard in Chromium', () => {
  let server: ReturnType<typeof brumeBackground>;
  let dataDir: string;
  let shots: string;
  let browser: Browser;
  let page: Page;
  let token = '';
  let taskId = '';
  let step = 0;

  const shot = async (name: string) => {
    const path = join(shots, `${String(++step).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path, fullPage: true });
    return path;
  };

  /** The admin's API calls, with a bearer token. */
  async function apiCall<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
    const response = await fetch(`${BASE}${path}`, {
      method, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'brume-e2e-ui-'));
    shots = process.env.BRUME_E2E_SCREENSHOTS ?? await mkdtemp(join(tmpdir(), 'brume-ui-screens-'));
    await mkdir(shots, { recursive: true });
    server = brumeBackground(['serve'], {
      BRUME_DATA_DIR: dataDir, BRUME_HTTP_HOST: '127.0.0.1', BRUME_HTTP_PORT: String(PORT), BRUME_ADMIN_PASSWORD: PASSWORD,
      BRUME_LOG_LEVEL: 'warn', BRUME_PROGRESS_EVENT_SECONDS: '1', DATABASE_URL: '',
    });
    await server.waitFor(/listening on/, 60_000);
    // An API token for the test's own setup calls; the browser signs in with the password like a person.
    const login = await fetch(`${BASE}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const issued = await fetch(`${BASE}/api/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ name: 'ui-e2e' }) });
    token = ((await issued.json()) as { token: string }).token;
    expect((await apiCall('POST', '/api/images', { name: 'ui-image' })).status).toBe(201);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    console.log(`ui-dashboard: screenshots in ${shots}`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('signs in, refusing a wrong password where the form is', async () => {
    await page.goto(BASE);
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/wrong username or password/);
    await shot('login-refused');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await shot('dashboard-empty');
  }, 60_000);

  it('imports hosts from CSV: the report first, then the import', async () => {
    await page.goto(`${BASE}/#/hosts/import`);
    const csv = [`"${MAC}","ui-host-1","","first host","","ui-image"`, '"not-a-mac","ui-host-2","","broken line","",""'].join('\n');
    await page.getByLabel('Or paste the lines').fill(csv);
    await page.getByRole('button', { name: /Check/ }).click();
    const report = page.locator('.import-report');
    await expect.poll(() => report.textContent(), { timeout: 15_000 }).toMatch(/not-a-mac|MAC/);
    await shot('import-report');
    await page.getByRole('button', { name: /^Import/ }).click();
    await expect.poll(async () => (await apiCall<{ items: unknown[] }>('GET', `/api/hosts?q=ui-host`)).body.items.length, { timeout: 15_000 }).toBe(1);
    await shot('import-done');
  }, 60_000);

  it('creates a capture task, shows its progress live as the client reports, and cancels it with a reason', async () => {
    const hosts = await apiCall<{ items: { id: string; imageId: string | null }[] }>('GET', `/api/hosts?q=${MAC}`);
    const host = hosts.body.items[0]!;
    expect(host.imageId).not.toBeNull();
    await page.goto(`${BASE}/#/tasks/new?hostId=${host.id}&type=capture`);
    // The form fills itself from the query (the host, the type, the host's image) before it can be sent.
    await expect.poll(() => page.locator('#task-target').inputValue(), { timeout: 15_000 }).toBe('ui-host-1');
    await expect.poll(() => page.getByRole('radio', { name: /2 Capture/ }).isChecked().catch(() => false), { timeout: 15_000 }).toBe(true);
    await page.getByRole('button', { name: 'Create task' }).click();
    try {
      await expect.poll(() => page.url(), { timeout: 15_000 }).toMatch(/#\/tasks\/[0-9a-f-]{36}/);
    } catch (error) {
      throw new Error(`${(error as Error).message}; the page: ${await shot('task-not-created')}\n${await page.locator('main').textContent()}`);
    }
    taskId = /#\/tasks\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    await shot('task-created');

    // The machine boots: its token comes from its iPXE script, then it checks in and reports over the client API.
    const script = await (await fetch(`${BASE}/boot/ipxe?mac=${MAC}&arch=x86_64&platform=efi`)).text();
    const clientToken = /brume\.token=(\S+)/.exec(script)![1]!;
    const client = (path: string, body: unknown) => fetch(`${BASE}/api/client/v1/tasks/${taskId}${path}`, {
      method: 'POST', headers: { authorization: `Bearer ${clientToken}`, 'x-brume-mac': MAC, 'content-type': 'application/json' }, body: JSON.stringify(body),
    }).then((r) => r.json() as Promise<{ action: string }>);
    expect((await client('/check-in', {})).action).toBe('go');

    await page.goto(`${BASE}/#/dashboard`);
    const bar = page.getByRole('progressbar').first();
    const total = 1_000_000_000;
    const seen = new Set<string>();
    for (let i = 1; i <= 6; i++) {
      expect((await client('/progress', { bytesDone: i * 100_000_000, bytesTotal: total, rateBytesPerSecond: 100_000_000, partition: 'part2' })).action).toBe('continue');
      await page.waitForTimeout(1200);
      const now = await bar.getAttribute('aria-valuenow').catch(() => null);
      if (now) seen.add(now);
    }
    // The bar moved while the page stayed put: live updates, no reload.
    expect(seen.size, `values seen: ${[...seen].join(', ')}`).toBeGreaterThanOrEqual(2);
    await shot('dashboard-live-progress');

    await page.goto(`${BASE}/#/tasks/${taskId}`);
    await page.getByRole('button', { name: 'Cancel task…' }).click();
    await page.getByLabel(/Reason/).fill('ui e2e: wrong machine');
    await page.getByRole('dialog').getByRole('button', { name: /Cancel/ }).click();
    await expect.poll(async () => (await apiCall<{ state: string }>('GET', `/api/tasks/${taskId}`)).body.state, { timeout: 15_000 }).toBe('cancelled');
    expect((await client('/progress', { bytesDone: 700_000_000, bytesTotal: total, rateBytesPerSecond: 1, partition: 'part2' })).action).toBe('stop');
    await shot('task-cancelled');
  }, 120_000);

  it('finds the cancel in the history with who did it and why', async () => {
    await page.goto(`${BASE}/#/history?stream=task-${taskId}`);
    await expect.poll(() => page.locator('main').textContent(), { timeout: 15_000 }).toMatch(/TaskCancelled/);
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toMatch(/ui e2e: wrong machine/);
    // Who: the actor's user id is turned into a name once the users list arrives.
    const cancelRow = page.locator('main li.event-row').filter({ hasText: 'TaskCancelled' }).first();
    await expect.poll(() => cancelRow.textContent(), { timeout: 10_000 }).toMatch(/who\s*admin/);
    await shot('history');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${BASE}/#/dashboard`);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await shot('dashboard-phone');
  }, 60_000);

  it('goes back to sign-in when the session is signed out elsewhere (the live feed ends)', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${BASE}/#/dashboard`);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const session = (await page.context().cookies()).find((c) => c.name === 'brume_session');
    expect(session, 'the browser holds a session cookie').toBeDefined();
    // Another tab (or an admin) ends this session; the page learns it from its live feed, not from a click.
    const out = await fetch(`${BASE}/api/auth/logout`, { method: 'POST', headers: { cookie: `${session!.name}=${session!.value}` } });
    expect(out.status).toBeLessThan(300);
    await page.getByLabel('User name').waitFor({ timeout: 15_000 });
    await shot('signed-out-elsewhere');
  }, 60_000);
});
