import { waitUntil } from '../../tests/e2e/support/netns.ts';
import type { BootFigure } from './boot-figures.ts';
import { BRUME_HTTP_PORT, type BrumeProcess } from './brume-process.ts';
import type { BootLab } from './lab.ts';
import { startNginx } from './peers.ts';
import { wrk, WRK_DEFAULTS, type WrkOptions, type WrkRun } from './wrk.ts';

/** The registered machine whose script is requested (a locally administered MAC). */
export const BENCH_MAC = '02:be:0c:00:00:01';
const QUERY = `/boot/ipxe?mac=${BENCH_MAC}&arch=x86_64&platform=efi`;
const SCRIPT_P99_TARGET_MS = 5;
/** wrk runs per server, alternating. */
const RUNS = 2;

type Log = (line: string) => void;

/**
 * iPXE script requests: brume's GET /boot/ipxe for a registered host with no
 * task (its menu: no boot token is issued per request) against nginx serving
 * the same bytes as a static file, both loaded by wrk from the client
 * namespace. brume records each request as a boot-stage sighting in memory;
 * an event is written at most once a minute for the MAC.
 */
export async function scriptBench(lab: BootLab, brume: BrumeProcess, log: Log, options: WrkOptions = WRK_DEFAULTS): Promise<BootFigure[]> {
  const registered = await brume.api('POST', '/api/hosts', { name: 'bench-pc-001', macs: [BENCH_MAC] });
  if (registered.status >= 300) throw new Error(`cannot register the bench host: ${registered.status} ${registered.text}`);
  const brumeUrl = `http://${lab.brume.address}:${BRUME_HTTP_PORT}${QUERY}`;
  // The boot index follows the event log: wait until the host's menu replaces the registration menu.
  let script = '';
  await waitUntil('brume to serve the registered host its menu', async () => {
    script = await lab.client.exec('curl', ['-sS', '--max-time', '10', brumeUrl]).catch(() => '');
    return script.startsWith('#!ipxe') && !script.includes('registration menu');
  }, 30_000, 200);
  const bytes = Buffer.byteLength(script);
  log(`  brume's script for ${BENCH_MAC}: ${bytes} bytes, ${script.split('\n').length} lines`);
  const nginx = await startNginx(lab, BRUME_HTTP_PORT, script);
  try {
    const nginxUrl = `http://${lab.peer.address}:${BRUME_HTTP_PORT}${QUERY}`;
    const served = await lab.client.exec('curl', ['-sS', '--max-time', '10', nginxUrl]);
    if (served !== script) throw new Error(`nginx does not serve the same ${bytes} bytes as brume`);
    const targets = [{ name: 'nginx', url: nginxUrl, side: lab.peer }, { name: 'brume', url: brumeUrl, side: lab.brume }] as const;
    // Warm-up: connections, JIT, caches.
    for (const t of targets) await wrk(lab.clientCpu, t.url, { ...options, seconds: 2 });
    const runs: Record<'brume' | 'nginx', Measured[]> = { brume: [], nginx: [] };
    // A B B A: both see the same drift in the machine's load.
    for (let i = 0; i < RUNS; i++) {
      for (const t of i % 2 === 0 ? targets : [...targets].reverse()) {
        const before = [await t.side.cpu.seconds(), await lab.clientCpu.seconds()];
        const run = await wrk(lab.clientCpu, t.url, options);
        const measured = { ...run, serverCpu: (await t.side.cpu.seconds()) - before[0]!, clientCpu: (await lab.clientCpu.seconds()) - before[1]! };
        runs[t.name].push(measured);
        log(`  ${t.name}: ${describe(measured, options.seconds)}`);
      }
    }
    return scriptFigures(runs.brume, runs.nginx, bytes, options);
  } finally {
    await nginx.stop();
  }
}

type Measured = WrkRun & { serverCpu: number; clientCpu: number };

const describe = (run: Measured, seconds: number) =>
  `${Math.round(run.requestsPerSecond)} requests/s, p50 ${run.latencyMs.p50.toFixed(2)} ms, p90 ${run.latencyMs.p90.toFixed(2)} ms, `
  + `p99 ${run.latencyMs.p99.toFixed(2)} ms, CPU: server ${Math.round((100 * run.serverCpu) / seconds)}%, wrk ${Math.round((100 * run.clientCpu) / seconds)}% of a core`
  + `${run.non2xx ? `, ${run.non2xx} non-2xx answers` : ''}${run.socketErrors ? `, ${run.socketErrors} socket errors` : ''}`;

const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

function scriptFigures(brume: Measured[], nginx: Measured[], bytes: number, options: WrkOptions): BootFigure[] {
  const load = `wrk -t${options.threads} -c${options.connections} -d${options.seconds}s --latency`;
  const each = (runs: Measured[]) => runs.map((r) => describe(r, options.seconds)).join('; ');
  const notes = `mean of ${RUNS} runs each, alternating. brume: ${each(brume)}. nginx: ${each(nginx)}.`;
  const rps = (runs: Measured[]) => mean(runs.map((r) => r.requestsPerSecond));
  const p99 = (runs: Measured[]) => mean(runs.map((r) => r.latencyMs.p99));
  return [
    {
      measurement: 'script', label: `iPXE script (${bytes} bytes, host menu), ${load}: requests/s`, unit: 'requests/s',
      brume: rps(brume), peer: { name: 'nginx, static file', value: rps(nginx) }, better: 'higher', note: notes,
    },
    {
      measurement: 'script', label: `iPXE script (${bytes} bytes, host menu), ${load}: p99 latency`, unit: 'ms',
      brume: p99(brume), peer: { name: 'nginx, static file', value: p99(nginx) }, better: 'lower',
      target: { on: 'value', op: '<', value: SCRIPT_P99_TARGET_MS },
    },
  ];
}
