import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { stopProcess, type NetNamespace } from '../../tests/e2e/support/netns.ts';
import type { BootFigure } from './boot-figures.ts';
import type { BrumeProcess } from './brume-process.ts';
import type { BootLab, ServerSide } from './lab.ts';
import { startTftpdHpa } from './peers.ts';
import type { LoadPlan, LoadResult } from './tftp-load.ts';
import { median, percentile } from '../stats.ts';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const LOAD_SCRIPT = join(REPO, 'bench', 'boot', 'tftp-load.ts');

export const TFTP_FILE = 'bench-1mib.bin';
export const TFTP_FILE_SIZE = 1 << 20;

export interface TftpBenchOptions {
  /** Measured seconds per server and load, split into slices that alternate between the servers. */
  seconds: number;
  /** Slices for one client (short reads: many short slices ride out bursts of other work on the machine). */
  slices: number;
  /** Slices for concurrent reads: fewer and longer, so that reads complete within a slice. */
  concurrentSlices: number;
  /** Concurrent reads to measure (1 and 100). */
  concurrencies: number[];
  /** The windowsize the windowed reads ask for (brume grants up to BRUME_TFTP_MAX_WINDOW). */
  windowsize: number;
  /** Client processes for the concurrent loads (the reads are split between them). */
  processes: number;
}

export const TFTP_DEFAULTS: TftpBenchOptions = { seconds: 9, slices: 6, concurrentSlices: 3, concurrencies: [1, 100], windowsize: 16, processes: 1 };

interface Mode {
  label: string;
  plan: Pick<LoadPlan, 'blksize' | 'windowsize' | 'tsize'>;
  windowed: boolean;
}

const modes = (windowsize: number): Mode[] => [
  { label: 'lock-step, 512-byte blocks (plain RFC 1350 read)', plan: {}, windowed: false },
  { label: 'lock-step, blksize 1432 + tsize (as iPXE asks)', plan: { blksize: 1432, tsize: true }, windowed: false },
  { label: `windowsize ${windowsize}, blksize 1432 + tsize`, plan: { blksize: 1432, tsize: true, windowsize }, windowed: true },
];

/** What one server did in one slice, summed over the client processes. */
interface Measured {
  mbPerSecond: number;
  load: LoadResult;
  clientCpu: number;
  serverCpu: number;
}

type Log = (line: string) => void;

/** Writes the 1 MiB file of random bytes both servers serve; returns its path. */
export async function writeTftpFile(filesDir: string): Promise<string> {
  const path = join(filesDir, TFTP_FILE);
  await writeFile(path, randomBytes(TFTP_FILE_SIZE), { mode: 0o644 });
  return path;
}

/**
 * Client processes (tftp-load.ts) loading one server: started once, then
 * told to run one measured slice at a time, so slices against the two
 * servers can alternate without Node's start-up in between.
 */
class LoadRunner {
  private constructor(
    private readonly server: ServerSide,
    private readonly children: ChildProcess[],
    private readonly next: (() => Promise<LoadResult>)[],
    private readonly seconds: number,
  ) {}

  static async start(client: NetNamespace, server: ServerSide, plan: LoadPlan, processes: number): Promise<LoadRunner> {
    const n = Math.min(processes, plan.concurrency);
    const counts = Array.from({ length: n }, (_, i) => Math.floor(plan.concurrency / n) + (i < plan.concurrency % n ? 1 : 0));
    const children = counts.map((concurrency) =>
      client.spawn('node', ['--import', 'tsx', LOAD_SCRIPT, JSON.stringify({ ...plan, concurrency })], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] }));
    const next = children.map((child) => {
      let errors = '';
      child.stderr?.on('data', (d) => { errors += d; });
      const waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => waiting.shift()?.resolve(line));
      child.once('exit', (code) => {
        for (const w of waiting.splice(0)) w.reject(new Error(`TFTP load process exited (${code}): ${errors}`));
      });
      return () => new Promise<string>((resolve, reject) => waiting.push({ resolve, reject }));
    });
    try {
      const ready = await Promise.all(next.map((line) => line()));
      if (ready.some((line) => line !== 'ready')) throw new Error(`TFTP load process said: ${ready.join(', ')}`);
    } catch (error) {
      await Promise.all(children.map((child) => stopProcess(child)));
      throw error;
    }
    const results = next.map((line) => async () => JSON.parse(await line()) as LoadResult);
    return new LoadRunner(server, children, results, plan.seconds);
  }

  /** One measured slice, all processes at once; the server's CPU is read around it. */
  async slice(): Promise<Measured> {
    const before = await this.server.cpu.seconds();
    const pending = this.next.map((result) => result());
    for (const child of this.children) child.stdin!.write('go\n');
    const results = await Promise.all(pending);
    const serverCpu = (await this.server.cpu.seconds()) - before;
    const summed: LoadResult = {
      bytes: 0, seconds: this.seconds, completed: 0, failed: 0, failures: {}, timeouts: 0, transferMs: [], granted: null, cpuSeconds: 0,
    };
    for (const r of results) {
      summed.bytes += r.bytes;
      summed.completed += r.completed;
      summed.failed += r.failed;
      summed.timeouts += r.timeouts;
      summed.cpuSeconds += r.cpuSeconds;
      summed.transferMs.push(...r.transferMs);
      summed.granted ??= r.granted;
      for (const [reason, n] of Object.entries(r.failures)) summed.failures[reason] = (summed.failures[reason] ?? 0) + n;
    }
    return { mbPerSecond: summed.bytes / this.seconds / 1e6, load: summed, clientCpu: summed.cpuSeconds, serverCpu };
  }

  /** Ends stdin; the processes exit once their cut reads have told the server (at most a second or so). */
  async close(): Promise<void> {
    for (const child of this.children) child.stdin?.end();
    const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null
      || new Promise<boolean>((resolve) => { child.once('exit', () => resolve(true)); setTimeout(() => resolve(false), 3000); });
    for (const child of this.children) if (!(await exited(child))) await stopProcess(child);
  }
}

/** The slices of one server under one load, as one: the median rate, everything else summed. */
function combine(slices: Measured[]): Measured & { rates: number[] } {
  const rates = slices.map((m) => m.mbPerSecond);
  const load: LoadResult = {
    bytes: 0, seconds: 0, completed: 0, failed: 0, failures: {}, timeouts: 0, transferMs: [], granted: null, cpuSeconds: 0,
  };
  let serverCpu = 0;
  for (const m of slices) {
    load.bytes += m.load.bytes;
    load.seconds += m.load.seconds;
    load.completed += m.load.completed;
    load.failed += m.load.failed;
    load.timeouts += m.load.timeouts;
    load.cpuSeconds += m.load.cpuSeconds;
    load.transferMs.push(...m.load.transferMs);
    load.granted ??= m.load.granted;
    for (const [reason, n] of Object.entries(m.load.failures)) load.failures[reason] = (load.failures[reason] ?? 0) + n;
    serverCpu += m.serverCpu;
  }
  return { mbPerSecond: median(rates), load, clientCpu: load.cpuSeconds, serverCpu, rates };
}

const summary = (m: Measured & { rates: number[] }) => {
  const ms = m.load.transferMs;
  const failures = Object.entries(m.load.failures).map(([why, n]) => `${n} x ${why}`).join(', ');
  return `${m.mbPerSecond.toFixed(1)} MB/s (slices: ${m.rates.map((r) => r.toFixed(1)).join(', ')}), ${m.load.completed} reads`
    + `${ms.length ? ` (median ${median(ms).toFixed(0)} ms, p95 ${percentile(ms, 95).toFixed(0)} ms)` : ''}`
    + `${m.load.failed ? `, ${m.load.failed} failed (${failures})` : ''}${m.load.timeouts ? `, ${m.load.timeouts} client timeouts` : ''}`
    + `, granted ${m.load.granted ? `blksize ${m.load.granted.blksize} windowsize ${m.load.granted.windowsize}` : 'nothing completed'}`
    + `, CPU: server ${Math.round((100 * m.serverCpu) / m.load.seconds)}%, client ${Math.round((100 * m.clientCpu) / m.load.seconds)}% of a core`;
};

/** brume's own TFTP counters over one load (warm-up included): the ones that show trouble, when not zero. */
function tftpCounters(before: Record<string, number>, after: Record<string, number>): string {
  const keys = ['timeouts', 'retransmittedBlocks', 'goBacks', 'duplicateAcks', 'duplicateRequests', 'busy', 'strays'];
  const changed = keys.map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)] as const).filter(([, n]) => n > 0);
  return changed.length ? changed.map(([k, n]) => `${n} ${k}`).join(', ') : 'no timeouts, retransmissions or duplicates';
}

/** Median seconds of `times` curl downloads, after checking curl gets the same bytes. */
async function curlSeconds(client: NetNamespace, url: string, blksize: number | null, expected: Buffer, outDir: string, times = 5): Promise<number> {
  const out = join(outDir, 'curl.out');
  const args = ['-sS', '--max-time', '30', ...(blksize ? ['--tftp-blksize', String(blksize)] : []), '-o', out, '-w', '%{time_total}', url];
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    samples.push(Number(await client.exec('curl', args, 40_000)));
    if (i === 0 && !(await readFile(out)).equals(expected)) throw new Error(`curl ${url} did not get the file's bytes`);
  }
  return median(samples);
}

/**
 * TFTP throughput of one 1 MiB file from brume and from tftpd-hpa, with
 * the same client (tftp-client.ts), single and concurrent, lock-step and
 * windowed. Each figure is the median of several slices per server,
 * alternating between the servers (after one warm-up slice each).
 * tftpd-hpa has no windowsize: asked for one, it answers without it and the
 * read runs lock-step, so windowed brume is compared with what the same
 * request gets from tftpd-hpa.
 */
export async function tftpBench(lab: BootLab, brume: BrumeProcess, filesDir: string, log: Log, options: TftpBenchOptions = TFTP_DEFAULTS): Promise<BootFigure[]> {
  const expectedPath = join(filesDir, TFTP_FILE);
  const expected = await readFile(expectedPath);
  const tftpd = await startTftpdHpa(lab, filesDir);
  const figures: BootFigure[] = [];
  try {
    const sides = [{ name: 'tftpd-hpa', side: lab.peer }, { name: 'brume', side: lab.brume }] as const;
    const planFor = (side: ServerSide, mode: Mode, concurrency: number, seconds: number): LoadPlan => ({
      host: side.address, port: 69, file: TFTP_FILE, expectedPath, concurrency, seconds, ...mode.plan,
    });
    // Cross-check with another client: curl gets the same bytes from both, and its lock-step times.
    const curl: Record<string, string> = {};
    for (const { name, side } of sides) {
      const url = `tftp://${side.address}/${TFTP_FILE}`;
      const plain = await curlSeconds(lab.client, url, null, expected, await lab.tempDir('curl'));
      const big = await curlSeconds(lab.client, url, 1432, expected, await lab.tempDir('curl'));
      curl[name] = `${(plain * 1000).toFixed(0)} ms at 512 bytes, ${(big * 1000).toFixed(0)} ms at blksize 1432`;
      log(`  curl from ${name}: ${curl[name]} (median of 5)`);
    }
    const all = modes(options.windowsize);
    for (const mode of all) {
      for (const concurrency of options.concurrencies) {
        const processes = concurrency > 1 ? options.processes : 1;
        const sliceCount = concurrency > 1 ? options.concurrentSlices : options.slices;
        const countersBefore = (await brume.status())?.tftp;
        const runners: Partial<Record<'brume' | 'tftpd-hpa', LoadRunner>> = {};
        const slices: Record<'brume' | 'tftpd-hpa', Measured[]> = { brume: [], 'tftpd-hpa': [] };
        try {
          for (const { name, side } of sides) {
            runners[name] = await LoadRunner.start(lab.client, side, planFor(side, mode, concurrency, options.seconds / sliceCount), processes);
            await runners[name]!.slice(); // warm-up: caches, JIT, the server's first read of the file
          }
          // A B B A A B B A...: both servers see the same drift in the machine's load.
          for (let i = 0; i < sliceCount; i++) {
            for (const { name } of i % 2 === 0 ? sides : [...sides].reverse()) {
              slices[name].push(await runners[name]!.slice());
              await new Promise((r) => setTimeout(r, 200));
            }
          }
        } finally {
          for (const runner of Object.values(runners)) await runner.close();
        }
        const countersAfter = (await brume.status())?.tftp;
        const b = combine(slices.brume);
        const t = combine(slices['tftpd-hpa']);
        const counted = countersBefore && countersAfter ? `; brume counted ${tftpCounters(countersBefore, countersAfter)}` : '';
        for (const [name, m] of [['tftpd-hpa', t], ['brume', b]] as const) {
          log(`  ${name}, ${mode.label}, ${concurrency} client(s): ${summary(m)}${name === 'brume' ? counted : ''}`);
        }
        const grantedWindow = t.load.granted?.windowsize ?? 1;
        figures.push({
          measurement: 'tftp',
          label: `TFTP 1 MiB file, ${mode.label}, ${concurrency} client${concurrency > 1 ? 's at once' : ''}`,
          unit: 'MB/s', brume: b.mbPerSecond, better: 'higher',
          peer: { name: mode.windowed && grantedWindow === 1 ? 'tftpd-hpa (no windowsize: lock-step)' : 'tftpd-hpa', value: t.mbPerSecond },
          target: { on: 'ratio', op: '>=', value: mode.windowed ? 3 : 1 },
          note: `brume: ${summary(b)}${counted}. tftpd-hpa: ${summary(t)}.`
            + (mode === all[0] && concurrency === options.concurrencies[0]
              ? ` curl as the client (median of 5 reads): brume ${curl.brume}; tftpd-hpa ${curl['tftpd-hpa']}.` : ''),
        });
      }
    }
  } finally {
    await tftpd.stop();
  }
  return figures;
}
