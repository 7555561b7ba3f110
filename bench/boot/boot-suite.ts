import { chmod, copyFile, readFile } from 'node:fs/promises';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { BootFigure } from './boot-figures.ts';
import type { BootMachine } from './boot-report.ts';
import { startBrume } from './brume-process.ts';
import { dhcpBench, DHCP_DEFAULTS, type DhcpBenchOptions } from './dhcp-bench.ts';
import { withLab } from './lab.ts';
import { scriptBench } from './script-bench.ts';
import { tftpBench, TFTP_DEFAULTS, writeTftpFile, type TftpBenchOptions } from './tftp-bench.ts';
import { cannotRun, peerVersions, type BootMeasurement } from './tools.ts';
import { WRK_DEFAULTS, type WrkOptions } from './wrk.ts';

export interface BootSuiteOptions {
  dhcp: DhcpBenchOptions;
  tftp: TftpBenchOptions;
  wrk: WrkOptions;
  /** BRUME_TFTP_MAX_WINDOW for the brume under test. */
  maxWindow: number;
  /** Node flags for the brume under test (BENCH_BRUME_NODE_ARGS), e.g. --cpu-prof. */
  nodeArgs: string[];
}

export const BOOT_DEFAULTS: BootSuiteOptions = { dhcp: DHCP_DEFAULTS, tftp: TFTP_DEFAULTS, wrk: WRK_DEFAULTS, maxWindow: 16, nodeArgs: [] };

export interface BootSuiteResult {
  figures: BootFigure[];
  /** Measurements that could not run, with why. */
  skipped: string[];
  /** Things worth saying under the table: brume's warnings and errors during the run. */
  notes: string[];
  machine: BootMachine;
}

/** Lines brume prints that the bench causes on purpose: reads it cuts at the end of each load. */
const EXPECTED_COMPLAINT = /client ended the transfer: ERROR 0 bench over/;
/** iPXE binaries from Debian's `ipxe`, copied so brume finds the boot files it offers (it warns otherwise). */
const IPXE_FILES = ['undionly.kpxe', 'ipxe.efi', 'snponly.efi'];

type Log = (line: string) => void;

const load = () => loadavg().map((l) => l.toFixed(2)).join(', ');

/**
 * The boot responders against their peers, in a private network of
 * namespaces (lab.ts): one real `brume serve` for all measurements, the
 * peers started and stopped around their own. Measurements that cannot run
 * here (not root, a peer missing) are skipped with the reason.
 */
export async function bootSuite(which: readonly BootMeasurement[], log: Log, options: BootSuiteOptions = BOOT_DEFAULTS): Promise<BootSuiteResult> {
  const runnable: BootMeasurement[] = [];
  const skipped: string[] = [];
  for (const measurement of which) {
    const reason = cannotRun(measurement);
    if (reason) {
      skipped.push(`${measurement}: ${reason}`);
      log(`boot responders: skipping ${measurement}: ${reason}`);
    } else runnable.push(measurement);
  }
  const cpu = /^model name\s*:\s*(.+)$/m.exec(await readFile('/proc/cpuinfo', 'utf8').catch(() => ''))?.[1]?.trim() ?? 'unknown';
  const loadAtStart = load();
  const machine: BootMachine = {
    line: `${availableParallelism()} CPUs (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB memory, Linux ${release()}, Node ${process.version}, brume on PGlite in a temp directory`,
    peers: await peerVersions(runnable),
    load: '',
    date: new Date().toISOString().slice(0, 10),
  };
  const figures: BootFigure[] = [];
  const notes: string[] = [];
  if (runnable.length) {
    await withLab(async (lab) => {
      const filesDir = await lab.tempDir('files');
      await chmod(filesDir, 0o755);
      await writeTftpFile(filesDir);
      for (const file of IPXE_FILES) await copyFile(join('/usr/lib/ipxe', file), join(filesDir, file)).catch(() => {});
      const started = performance.now();
      const brume = await startBrume(lab, { filesDir, maxWindow: options.maxWindow, nodeArgs: options.nodeArgs });
      log(`boot responders: brume serve up in ${((performance.now() - started) / 1000).toFixed(1)} s (pid ${brume.process.pid})`);
      try {
        // DHCP first, while brume's lease table is empty, as dnsmasq's is.
        if (runnable.includes('dhcp')) {
          log('boot responders: DHCP, perfdhcp against brume and dnsmasq');
          figures.push(...(await dhcpBench(lab, brume, log, options.dhcp)));
        }
        if (runnable.includes('tftp')) {
          log('boot responders: TFTP, 1 MiB file from brume and tftpd-hpa');
          figures.push(...(await tftpBench(lab, brume, filesDir, log, options.tftp)));
        }
        if (runnable.includes('script')) {
          log('boot responders: iPXE script, wrk against brume and nginx');
          figures.push(...(await scriptBench(lab, brume, log, options.wrk)));
        }
        const status = await brume.status();
        if (status) {
          const counters = (name: string, c: unknown) => `${name}: ${JSON.stringify(c).replace(/"/g, '').replace(/,/g, ', ')}`;
          const parts = [status.dhcp && counters('DHCP', status.dhcp), status.tftp && counters('TFTP', status.tftp), status.activity && counters('boot stages', status.activity)];
          notes.push(`brume's own counters at the end (GET /api/boot/status), over every run above: ${parts.filter(Boolean).join('; ')}.`);
          log(`boot responders: ${notes.at(-1)}`);
        }
        if (brume.process.exitCode !== null || brume.process.signalCode !== null) {
          throw new Error(`brume serve exited during the bench (${brume.process.exitCode ?? brume.process.signalCode})`);
        }
      } finally {
        const complaints = brume.complaints().filter((line) => !EXPECTED_COMPLAINT.test(line));
        const stopping = performance.now();
        await brume.stop();
        log(`boot responders: brume stopped in ${((performance.now() - stopping) / 1000).toFixed(1)} s (exit ${brume.process.exitCode ?? brume.process.signalCode}), after printing ${brume.linesPrinted()} lines`);
        if (complaints.length) {
          log(`boot responders: brume printed ${complaints.length} warning/error line(s):\n    ${complaints.join('\n    ')}`);
          notes.push(`brume printed ${complaints.length} warning or error line(s) during the run, the first: ${complaints.slice(0, 3).map((c) => `\`${c.slice(0, 300)}\``).join('; ')}.`);
        }
      }
    });
  }
  machine.load = `load average ${loadAtStart} at the start, ${load()} at the end (1, 5, 15 min; other work shared the machine)`;
  return { figures, skipped, notes, machine };
}
