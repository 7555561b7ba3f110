import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { pgliteDisk } from '../backends.ts';
import { buildDataset, FULL_DATASET } from '../dataset.ts';
import { openBrume } from '../../adapters/runtime/brume.ts';
import type { StreamAppend } from '../../core/ports/event-store.ts';

/**
 * Issue 5's figure: the dashboard's first paint on the embedded database
 * with 50,000 hosts and 1,000,000 events. The log is the core bench's
 * realistic one (hosts from CSV, groups, group deploys and their clients'
 * reports), topped up to a million with boot-stage sightings of those hosts
 * appended through the store as the responders write them; then a real
 * `brume serve` on that data directory and Debian's chromium (cold profile
 * each run) opening the dashboard: first contentful paint, and the moment
 * every panel has its data. Also the hosts page's first page of 50,000.
 *
 *   npm run bench -- --only=ui [--ui-runs=5] [--ui-events=1000000]
 */

const BIN = fileURLToPath(new URL('../../bin/brume.js', import.meta.url));
const PORT = 18_555;
const BASE = `http://127.0.0.1:${PORT}`;
const PASSWORD = 'bench-ui-password';
const STAGES = ['dhcp', 'tftp', 'script', 'http-file'] as const;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function topUp(dataDir: string, macs: string[], target: number, have: number): Promise<number> {
  const brume = await openBrume({ dataDir, follow: false });
  let written = have;
  try {
    const perHost = Math.ceil((target - have) / macs.length);
    for (let i = 0; i < macs.length && written < target; i += 200) {
      const appends: StreamAppend[] = macs.slice(i, i + 200).map((mac) => ({
        streamId: `boot-${mac}`, streamType: 'boot', expectedVersion: 'any',
        events: Array.from({ length: perHost }, (_, n) => ({
          type: 'BootStageObserved',
          data: { mac, hostId: null, stage: STAGES[n % STAGES.length], at: new Date(Date.now() - (perHost - n) * 60_000).toISOString(), detail: {}, sightings: 1 },
        })),
      }));
      await brume.store.append(appends, { metadata: { actor: 'boot-client', commandId: `bench-boot-${i}`, correlationId: `bench-boot-${i}`, causationId: null } });
      written += appends.length * perHost;
    }
  } finally {
    await brume.close();
  }
  return written;
}

export const UI_DEFAULTS = { runs: 5, events: 1_000_000 };

/** Builds the dataset, serves it, opens the dashboard `runs` times; prints and returns the figures as a Markdown table. */
export async function firstPaintBench(options: { runs: number; events: number } = UI_DEFAULTS): Promise<string> {
  const { runs, events: targetEvents } = options;
  const scratch = await pgliteDisk().fresh();
  try {
    let started = performance.now();
    const dataset = await buildDataset(scratch, FULL_DATASET);
    await dataset.close();
    console.log(`dataset: ${dataset.hosts.length} hosts, ${dataset.events} events through the commands in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    started = performance.now();
    const events = await topUp(scratch.dataDir!, dataset.hosts.map((h) => h.mac), targetEvents, dataset.events);
    console.log(`topped up to ${events} events in ${((performance.now() - started) / 1000).toFixed(0)} s`);

    started = performance.now();
    const server = spawn(process.execPath, [BIN, 'serve'], {
      env: { ...process.env, DATABASE_URL: '', BRUME_DATA_DIR: scratch.dataDir!, BRUME_HTTP_HOST: '127.0.0.1', BRUME_HTTP_PORT: String(PORT), BRUME_ADMIN_PASSWORD: PASSWORD, BRUME_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    server.stdout.on('data', (d) => { output += d; });
    server.stderr.on('data', (d) => { output += d; });
    try {
      while (!output.includes('listening on')) {
        if (server.exitCode !== null) throw new Error(`brume serve exited:\n${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      console.log(`brume serve ready (read models projected) in ${((performance.now() - started) / 1000).toFixed(0)} s`);
      const login = await fetch(`${BASE}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
      const [name, value] = login.headers.get('set-cookie')!.split(';')[0]!.split('=') as [string, string];
      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
      const paints: number[] = [];
      const complete: number[] = [];
      const hostsPage: number[] = [];
      try {
        for (let run = 0; run < runs; run++) {
          const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
          await context.addCookies([{ name, value, url: BASE }]);
          const page = await context.newPage();
          const t0 = performance.now();
          await page.goto(`${BASE}/#/dashboard`);
          await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
          await page.waitForFunction(() => document.querySelectorAll('[aria-busy="true"]').length === 0);
          complete.push(performance.now() - t0);
          paints.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN));
          const t1 = performance.now();
          await page.goto(`${BASE}/#/hosts`);
          await page.locator('table tbody tr').first().waitFor();
          hostsPage.push(performance.now() - t1);
          await context.close();
        }
      } finally {
        await browser.close();
      }
      const ms = (v: number) => `${v.toFixed(0)} ms`;
      const table = [
        `| figure (${runs} cold runs, 1280x800, ${dataset.hosts.length} hosts, ${events} events, embedded PGlite) | median | worst |`, '|---|---|---|',
        `| dashboard first contentful paint | ${ms(median(paints))} | ${ms(Math.max(...paints))} |`,
        `| dashboard with every panel's data | ${ms(median(complete))} | ${ms(Math.max(...complete))} |`,
        `| hosts page, first 50 of ${dataset.hosts.length} | ${ms(median(hostsPage))} | ${ms(Math.max(...hostsPage))} |`,
      ].join('\n');
      console.log(`\n${table}\n`);
      return table;
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('close', r));
    }
  } finally {
    await scratch.dispose();
  }
}

