import { createHash } from 'node:crypto';
import { chmod, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BootLab } from '../boot/lab.ts';
import type { BrumeProcess } from '../boot/brume-process.ts';
import { BRUME_HTTP_PORT } from '../boot/brume-process.ts';
import { bootMachine, checkInUntilGo, type BenchMachine } from './bench-machines.ts';
import { PART_NAME, warm } from './capture-bench.ts';
import type { ClientLink } from './client-links.ts';
import { parallelDownloads, type TransferRun } from './curl-transfers.ts';
import { NGINX_FILES_PATH, startFileNginx } from './file-nginx.ts';
import type { ImagingFigure } from './imaging-figures.ts';
import { childPids, cpuOf, threadCpu, type CpuTime } from './process-cpu.ts';

/** 1 GbE line rate as a TCP payload rate, in MB/s (10^6 bytes). */
export const LINE_RATE_MB = 117;
const NGINX_RATIO_TARGET = 0.9;

export interface DeployOptions {
  /** How many clients download at once, and in how many rounds; each round runs both servers, the order alternating (A B, B A). */
  loads: { clients: number; rounds: number }[];
}

/** One client's runs take a second or two, so short load bursts on a shared machine move them most: twice as many rounds. */
export const DEPLOY_DEFAULTS: DeployOptions = { loads: [{ clients: 1, rounds: 4 }, { clients: 10, rounds: 2 }] };

type Log = (line: string) => void;
type Server = 'brume' | 'nginx';

interface DeployRun {
  server: Server;
  clients: number;
  run: TransferRun;
  /** utime + stime of the server's processes during the run, and the part of it in the kernel. */
  serverCpu: number;
  serverSystem: number;
  clientCpu: number;
  /** Share of the machine's CPU time (all cores) that was idle during the run. */
  idle: number;
  /** brume's main thread (the event loop); the rest is libuv's file reads and V8's helpers. */
  mainThreadCpu: number | null;
}

/** Busy and total jiffies of all CPUs, from /proc/stat. */
async function cpuTimes(): Promise<{ idle: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is inside user).
  const total = values.slice(0, 8).reduce((sum, v) => sum + v, 0);
  return { idle: values[3]! + values[4]!, total };
}

const mb = (bytes: number, seconds: number) => bytes / seconds / 1e6;
const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
const aggregate = (r: DeployRun) => mb(r.run.totalBytes, r.run.wallSeconds);
const perClient = (r: DeployRun) => r.run.transfers.map((t) => mb(t.bytes, t.seconds));
const cpuPerGb = (r: DeployRun) => r.serverCpu / (r.run.totalBytes / 1e9);
const totalCpuPerGb = (r: DeployRun) => (r.serverCpu + r.clientCpu) / (r.run.totalBytes / 1e9);

/** sha256 of `length` bytes of `file` from `offset`, to check both servers hand out the file's own bytes. */
async function sliceDigest(file: string, offset: number, length: number): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, offset);
    return createHash('sha256').update(buffer).digest('hex');
  } finally {
    await handle.close();
  }
}

/**
 * Deploy throughput: as many hosts as the largest load with a deploy task each,
 * booted from their own device (own MAC and address) so each has its own
 * token, all checked in and told to go; then 1 and 10 of them GET the
 * image file at once from brume's client API, and the same curls GET the
 * same file (brume's stored revision itself) from nginx. The file is in
 * the page cache for both.
 */
export async function deployBench(
  lab: BootLab, brume: BrumeProcess, imagesDir: string, imageId: string, brumeLinks: ClientLink[], nginxLinks: ClientLink[],
  sha256: string, bytes: number, log: Log, options: DeployOptions = DEPLOY_DEFAULTS,
): Promise<{ figures: ImagingFigure[]; notes: string[] }> {
  const count = Math.max(...options.loads.map((l) => l.clients));
  const machines: BenchMachine[] = [];
  let capturedByTaskId: string | undefined;
  for (const link of brumeLinks.slice(0, count)) {
    const machine = await bootMachine(lab.client, brume, link, `bench-deploy-${machines.length + 1}`, 'deploy', imageId);
    const go = await checkInUntilGo(lab.client, machine);
    const revision = go.image?.capturedByTaskId as string | undefined;
    if (!revision || (capturedByTaskId && revision !== capturedByTaskId)) throw new Error(`deploy ${machine.taskId} got ${JSON.stringify(go.image)}`);
    capturedByTaskId = revision;
    machines.push(machine);
  }
  log(`  ${machines.length} deploy tasks checked in and told to go`);
  const revisionDir = join(imagesDir, imageId, capturedByTaskId!);
  const file = join(revisionDir, PART_NAME);
  // nginx's workers run as nobody.
  for (const dir of [imagesDir, join(imagesDir, imageId), revisionDir]) await chmod(dir, 0o755);
  await chmod(file, 0o644);

  const nginx = await startFileNginx(lab, BRUME_HTTP_PORT, revisionDir);
  try {
    const brumeUrl = (m: BenchMachine) => `${m.base}/image/files/${PART_NAME}`;
    const nginxUrl = `http://${lab.peer.address}:${BRUME_HTTP_PORT}${NGINX_FILES_PATH}/${PART_NAME}`;
    // Both hand out the file's bytes: a 1 MiB slice from the middle, and brume's digest header.
    const offset = Math.floor(bytes / 2);
    const expected = await sliceDigest(file, offset, 1 << 20);
    const sliceFile = join(await lab.tempDir('slice'), 'slice.bin');
    const first = machines[0]!;
    for (const [name, device, url, headers] of [['brume', first.link.device, brumeUrl(first), first.headers], ['nginx', nginxLinks[0]!.device, nginxUrl, []]] as const) {
      await lab.client.exec('curl', ['-sS', '--fail-with-body', '--interface', `if!${device}`, '-o', sliceFile, '-r', `${offset}-${offset + (1 << 20) - 1}`, ...headers.flatMap((h) => ['-H', h]), url]);
      const got = createHash('sha256').update(await readFile(sliceFile)).digest('hex');
      if (got !== expected) throw new Error(`${name} does not serve the image's bytes at ${offset}`);
    }
    const head = await lab.client.exec('curl', ['-sS', '--interface', `if!${first.link.device}`, '-o', '/dev/null', '-D', '-', '-r', '0-0', ...first.headers.flatMap((h) => ['-H', h]), brumeUrl(first)]);
    if (!head.toLowerCase().includes(`x-brume-sha256: ${sha256}`)) throw new Error(`brume's X-Brume-Sha256 is not ${sha256}:\n${head}`);
    const warmSeconds = await warm(file);
    log(`  same bytes from both servers; ${file} read into the page cache again in ${warmSeconds.toFixed(1)} s; nginx master pid ${nginx.masterPid}`);

    const serverCpu = async (server: Server): Promise<CpuTime> =>
      // Both servers with their children: nginx's workers, brume's file senders.
      cpuOf(server === 'brume' ? [brume.process.pid!, ...(await childPids(brume.process.pid!))] : [nginx.masterPid, ...(await childPids(nginx.masterPid))]);
    const clientsFor = (server: Server, n: number) => (server === 'brume'
      ? machines.slice(0, n).map((m) => ({ device: m.link.device, url: brumeUrl(m), headers: m.headers }))
      : nginxLinks.slice(0, n).map((l, i) => ({ device: l.device, url: nginxUrl, headers: machines[i]!.headers })));
    const measure = async (server: Server, n: number): Promise<DeployRun> => {
      const cpu0 = await serverCpu(server);
      const client0 = await lab.clientCpu.seconds();
      const times0 = await cpuTimes();
      const threads0 = server === 'brume' ? await threadCpu(brume.process.pid!) : null;
      const run = await parallelDownloads(lab.clientCpu, clientsFor(server, n));
      const threads1 = server === 'brume' ? await threadCpu(brume.process.pid!) : null;
      const times1 = await cpuTimes();
      const cpu1 = await serverCpu(server);
      const result = {
        server, clients: n, run, serverCpu: cpu1.user + cpu1.system - cpu0.user - cpu0.system, serverSystem: cpu1.system - cpu0.system,
        clientCpu: (await lab.clientCpu.seconds()) - client0,
        idle: (times1.idle - times0.idle) / Math.max(1, times1.total - times0.total),
        mainThreadCpu: threads0 && threads1 ? (threads1.get('main') ?? 0) - (threads0.get('main') ?? 0) : null,
      };
      for (const t of run.transfers) if (t.bytes !== bytes) throw new Error(`${server} sent ${t.bytes} of ${bytes} bytes`);
      return result;
    };
    // Warm-up (JIT, connections): one whole download from each.
    for (const server of ['nginx', 'brume'] as const) await measure(server, 1);

    const runs: DeployRun[] = [];
    for (const { clients: n, rounds } of options.loads) {
      for (let round = 0; round < rounds; round++) {
        for (const server of round % 2 === 0 ? (['nginx', 'brume'] as const) : (['brume', 'nginx'] as const)) {
          const r = await measure(server, n);
          runs.push(r);
          log(`  ${describe(r)}`);
        }
      }
    }
    return deployFigures(runs, options);
  } finally {
    await nginx.stop();
  }
}

/** One run in a line; `named` puts the server and client count first (the log), the notes group runs by them. */
function describe(r: DeployRun, named = true): string {
  const rates = perClient(r);
  return `${named ? `${r.server}, ${r.clients} client(s): ` : ''}${aggregate(r).toFixed(0)} MB/s in ${r.run.wallSeconds.toFixed(2)} s`
    + `${r.clients > 1 ? ` (per client ${Math.min(...rates).toFixed(0)} to ${Math.max(...rates).toFixed(0)} MB/s)` : ''}, `
    + `CPU: server ${r.serverCpu.toFixed(2)} s (${r.serverSystem.toFixed(2)} s of it in the kernel${r.mainThreadCpu === null ? '' : `, ${r.mainThreadCpu.toFixed(2)} s in the main thread`}; `
    + `${Math.round((100 * r.serverCpu) / r.run.wallSeconds)}% of a core, ${cpuPerGb(r).toFixed(2)} s/GB), `
    + `curl ${Math.round((100 * r.clientCpu) / r.run.wallSeconds)}% of a core, machine ${Math.round(100 * r.idle)}% idle`;
}

function deployFigures(runs: DeployRun[], options: DeployOptions): { figures: ImagingFigure[]; notes: string[] } {
  const figures: ImagingFigure[] = [];
  const of = (server: Server, n: number) => runs.filter((r) => r.server === server && r.clients === n);
  const details = (n: number) => `brume: ${of('brume', n).map((r) => describe(r, false)).join('; ')}. nginx: ${of('nginx', n).map((r) => describe(r, false)).join('; ')}.`;
  for (const { clients: n, rounds } of options.loads) {
    const [b, x] = [of('brume', n), of('nginx', n)];
    const many = n > 1;
    figures.push({
      label: many ? `deploy, ${n} clients at once (${n} hosts, ${n} tasks, ${n} tokens): aggregate` : 'deploy, 1 client',
      unit: 'MB/s', brume: mean(b.map(aggregate)), peer: { name: 'nginx', value: mean(x.map(aggregate)) }, better: 'higher',
      targets: many ? [{ on: 'ratio', op: '>=', value: NGINX_RATIO_TARGET }] : [{ on: 'ratio', op: '>=', value: NGINX_RATIO_TARGET }, { on: 'value', op: '>=', value: LINE_RATE_MB }],
      note: `mean of ${rounds} runs each, alternating; total bytes over the time from starting the first curl to the end of the last. ${details(n)}`,
    });
    if (many) {
      figures.push({
        label: `deploy, ${n} clients at once: slowest client`, unit: 'MB/s',
        brume: mean(b.map((r) => Math.min(...perClient(r)))), peer: { name: 'nginx', value: mean(x.map((r) => Math.min(...perClient(r)))) }, better: 'higher',
        targets: [{ on: 'value', op: '>=', value: LINE_RATE_MB }],
        note: `each client's rate is its bytes over its own curl time_total; mean per client: brume ${mean(b.flatMap(perClient)).toFixed(0)} MB/s, nginx ${mean(x.flatMap(perClient)).toFixed(0)} MB/s.`,
      });
    }
    figures.push({
      label: `deploy, ${n} client${many ? 's' : ''}: server CPU seconds per GB served (utime + stime)`, unit: 'CPU-s/GB',
      brume: mean(b.map(cpuPerGb)), peer: { name: `nginx (master + workers)`, value: mean(x.map(cpuPerGb)) }, better: 'lower',
      note: `server CPU as a share of one core during the runs: brume ${b.map((r) => `${Math.round((100 * r.serverCpu) / r.run.wallSeconds)}%`).join(', ')}, `
        + `nginx ${x.map((r) => `${Math.round((100 * r.serverCpu) / r.run.wallSeconds)}%`).join(', ')}; the curls: brume runs ${b.map((r) => `${Math.round((100 * r.clientCpu) / r.run.wallSeconds)}%`).join(', ')}, `
        + `nginx runs ${x.map((r) => `${Math.round((100 * r.clientCpu) / r.run.wallSeconds)}%`).join(', ')}; whole machine idle: brume runs ${b.map((r) => `${Math.round(100 * r.idle)}%`).join(', ')}, nginx runs ${x.map((r) => `${Math.round(100 * r.idle)}%`).join(', ')}. `
        + `Server and curls together: brume ${mean(b.map(totalCpuPerGb)).toFixed(2)} CPU-s/GB, nginx ${mean(x.map(totalCpuPerGb)).toFixed(2)} `
        + `(on a veth link much of the network stack's work runs in whichever process's context triggers it, often the receiving curl's, so the server's own figure flatters sendfile).`,
    });
  }
  return { figures, notes: [] };
}
