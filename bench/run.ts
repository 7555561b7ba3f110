import { BACKEND_NAMES, DEFAULT_BENCH_URL, localUrl, pgliteDisk, pgliteMemory, postgres, adminQuery, type Backend, type BackendName } from './backends.ts';
import { FULL_DATASET } from './dataset.ts';
import { MEASUREMENTS, TABLE_HEADER, tableRows, textTable, type Figure, type Measurement } from './figures.ts';
import { describeMachine } from './machine.ts';
import { figuresSection, writeFigures, writeSection } from './report.ts';
import { appendsSuite, batchSuite, logSuite } from './suites.ts';
import { BOOT_TABLE_HEADER, bootTableRows } from './boot/boot-figures.ts';
import { BOOT_END, BOOT_START, bootFiguresSection } from './boot/boot-report.ts';
import { BOOT_DEFAULTS, bootSuite } from './boot/boot-suite.ts';
import { BOOT_MEASUREMENTS, type BootMeasurement } from './boot/tools.ts';
import { IMAGING_END, IMAGING_MEASUREMENTS, IMAGING_START, IMAGING_TABLE_HEADER, imagingFiguresSection, imagingTableRows, type ImagingMeasurement } from './imaging/imaging-figures.ts';
import { IMAGING_DEFAULTS, imagingSuite } from './imaging/imaging-suite.ts';
import { firstPaintBench, UI_DEFAULTS } from './ui/first-paint.ts';
import { existsSync } from 'node:fs';

const USAGE = `npm run bench [-- --only=appends,batch,rebuild,search,dhcp,tftp,script,imaging,ui] [--backends=pglite-memory,pglite-disk,postgres] [--write]

  --only       measurements to run (default: all)
  --backends   where to run the event-store measurements (default: all; postgres is skipped when unreachable)
  --write      rewrite the figures sections of docs/benchmarks.md for the measurements that ran
PostgreSQL: BENCH_DATABASE_URL (default ${DEFAULT_BENCH_URL}); it must be on 127.0.0.1.
Each measurement runs in a scratch database (PostgreSQL: created and dropped; PGlite: in memory or under /tmp).

Boot responders (dhcp, tftp, script) need root: they run a real \`brume serve\` and its peers (perfdhcp and
dnsmasq, tftpd-hpa, nginx and wrk) in network namespaces the bench creates and removes, on 198.18.0.0/15.
Without root, or without a peer's package, they are skipped and say what to install.
  --dhcp-clients=N     known PXE clients perfdhcp cycles through (default ${BOOT_DEFAULTS.dhcp.clients})
  --tftp-window=N      windowsize the windowed TFTP reads ask for, and brume's cap (default ${BOOT_DEFAULTS.maxWindow})
  --tftp-processes=N   client processes sharing the concurrent TFTP reads (default ${BOOT_DEFAULTS.tftp.processes})

Imaging (imaging) needs root too: a real \`brume serve\` takes a capture of a ${IMAGING_DEFAULTS.bytes / 2 ** 30} GiB file (made once in
${IMAGING_DEFAULTS.file} and reused) through its client API against sha256sum, then serves it to 1 and
10 deploying clients (curl) against nginx serving the same file, in the same kind of namespaces.
  --imaging-captures=N  capture runs (default ${IMAGING_DEFAULTS.captures})
  --imaging-rounds=N    rounds of the concurrent deploy, each running brume and nginx; one client gets twice as many (default ${IMAGING_DEFAULTS.deploy.loads[1]!.rounds})
  --imaging-clients=N   clients of the concurrent deploy (default ${IMAGING_DEFAULTS.deploy.loads[1]!.clients})
  BENCH_BRUME_NODE_ARGS node flags for the brume under test, e.g. "--cpu-prof --cpu-prof-dir=/tmp/brume-prof"

The dashboard (ui) builds 50,000 hosts and 1,000,000 events on the embedded database (~3 minutes), serves them
with \`brume serve\` and opens the dashboard in Debian's chromium (cold each run): first paint, panels loaded.
  --ui-runs=N          dashboard openings (default ${UI_DEFAULTS.runs})
  --ui-events=N        events in the log (default ${UI_DEFAULTS.events})`;

const STORE_MEASUREMENTS: readonly Measurement[] = MEASUREMENTS;
type AnyMeasurement = Measurement | BootMeasurement | ImagingMeasurement | 'ui';
const ALL_MEASUREMENTS: readonly AnyMeasurement[] = [...MEASUREMENTS, ...BOOT_MEASUREMENTS, ...IMAGING_MEASUREMENTS, 'ui'];

function numberOption(args: string[], name: string, fallback: number, min: number, max: number): number {
  const raw = args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  return value;
}

function listOption<T extends string>(args: string[], name: string, allowed: readonly T[]): T[] {
  const raw = args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (!raw) return [...allowed];
  const values = raw.split(',').map((v) => v.trim()).filter(Boolean);
  const unknown = values.filter((v) => !allowed.includes(v as T));
  if (unknown.length) throw new Error(`unknown --${name} value(s): ${unknown.join(', ')} (known: ${allowed.join(', ')})`);
  return values as T[];
}

async function main(args: string[]): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) return console.log(USAGE);
  const only = listOption<AnyMeasurement>(args, 'only', ALL_MEASUREMENTS);
  const storeOnly = only.filter((m): m is Measurement => STORE_MEASUREMENTS.includes(m as Measurement));
  const bootOnly = only.filter((m): m is BootMeasurement => BOOT_MEASUREMENTS.includes(m as BootMeasurement));
  const imagingOnly = only.some((m) => IMAGING_MEASUREMENTS.includes(m as ImagingMeasurement));
  const backendNames = listOption<BackendName>(args, 'backends', BACKEND_NAMES);
  const brumeNodeArgs = (process.env.BENCH_BRUME_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const bootOptions = {
    ...BOOT_DEFAULTS,
    dhcp: { ...BOOT_DEFAULTS.dhcp, clients: numberOption(args, 'dhcp-clients', BOOT_DEFAULTS.dhcp.clients, 1, 60_000) },
    tftp: { ...BOOT_DEFAULTS.tftp, processes: numberOption(args, 'tftp-processes', BOOT_DEFAULTS.tftp.processes, 1, 16) },
    maxWindow: numberOption(args, 'tftp-window', BOOT_DEFAULTS.maxWindow, 1, 1024),
    nodeArgs: brumeNodeArgs,
  };
  bootOptions.tftp.windowsize = bootOptions.maxWindow;
  const command = ['npm run bench --', ...args].join(' ');
  const started = performance.now();
  const log = (line: string) => console.log(line);

  if (storeOnly.length) {
    const adminUrl = localUrl(process.env.BENCH_DATABASE_URL ?? DEFAULT_BENCH_URL);
    const reachable = await adminQuery(adminUrl, 'SELECT 1').then(() => true, (e: Error) => {
      console.warn(`PostgreSQL at ${adminUrl.host} is unreachable (${e.message}): skipping it.`);
      return false;
    });
    // PostgreSQL first: it writes the shared log fastest (see logSuite).
    const backends: Backend[] = [];
    if (backendNames.includes('postgres') && reachable) backends.push(postgres(adminUrl));
    if (backendNames.includes('pglite-memory')) backends.push(pgliteMemory());
    if (backendNames.includes('pglite-disk')) backends.push(pgliteDisk());
    const machine = await describeMachine(reachable ? adminUrl : undefined);
    console.log(`${machine.nproc} CPUs (${machine.cpu}), ${machine.memoryGiB} GiB, ${machine.postgres}, Node ${machine.node}, ${machine.date}`);

    const figures: Figure[] = [];
    const shared = {};
    for (const backend of backends) {
      if (storeOnly.includes('appends')) {
        log(`${backend.name}: single appends`);
        figures.push(...(await appendsSuite(backend, log)));
      }
      if (storeOnly.includes('batch')) {
        log(`${backend.name}: batched appends`);
        figures.push(...(await batchSuite(backend, log)));
      }
      if (storeOnly.includes('rebuild') || storeOnly.includes('search')) {
        log(`${backend.name}: realistic log (${storeOnly.filter((m) => m === 'rebuild' || m === 'search').join(', ')})`);
        figures.push(...(await logSuite(backend, FULL_DATASET, storeOnly, shared, log)));
      }
    }
    console.log(`\n${textTable([[...TABLE_HEADER], ...tableRows(figures)])}\n`);
    if (args.includes('--write')) {
      await writeFigures(figuresSection(command, machine, figures));
      console.log('docs/benchmarks.md: event-store figures rewritten');
    }
  }

  if (bootOnly.length) {
    const boot = await bootSuite(bootOnly, log, bootOptions);
    if (boot.figures.length) {
      console.log(`\n${textTable([[...BOOT_TABLE_HEADER], ...bootTableRows(boot.figures)])}\n`);
      if (args.includes('--write')) {
        await writeSection(BOOT_START, BOOT_END, bootFiguresSection(command, boot.machine, boot.figures, boot.notes));
        console.log('docs/benchmarks.md: boot-responder figures rewritten');
      }
    } else if (boot.skipped.length) {
      console.log('boot responders: nothing measured (see above)');
    }
  }
  if (imagingOnly) {
    log('imaging: capture ingest and deploy throughput');
    const clients = numberOption(args, 'imaging-clients', IMAGING_DEFAULTS.deploy.loads[1]!.clients, 2, 50);
    const rounds = numberOption(args, 'imaging-rounds', IMAGING_DEFAULTS.deploy.loads[1]!.rounds, 1, 10);
    const imaging = await imagingSuite(log, {
      ...IMAGING_DEFAULTS,
      captures: numberOption(args, 'imaging-captures', IMAGING_DEFAULTS.captures, 1, 10),
      deploy: { loads: [{ clients: 1, rounds: 2 * rounds }, { clients, rounds }] },
      nodeArgs: brumeNodeArgs,
    });
    if (imaging.figures.length) {
      console.log(`\n${textTable([[...IMAGING_TABLE_HEADER], ...imagingTableRows(imaging.figures)])}\n`);
      if (args.includes('--write')) {
        await writeSection(IMAGING_START, IMAGING_END, imagingFiguresSection(command, imaging.machine, imaging.figures, imaging.notes));
        console.log('docs/benchmarks.md: imaging figures rewritten');
      }
    } else if (imaging.skipped.length) {
      console.log('imaging: nothing measured (see above)');
    }
  }
  if (only.includes('ui')) {
    if (!existsSync('/usr/bin/chromium')) console.log('ui: skipped, /usr/bin/chromium is missing (sudo infra/test-peers/install.sh)');
    else {
      log('ui: dashboard first paint with 50,000 hosts and 1,000,000 events');
      const table = await firstPaintBench({
        runs: numberOption(args, 'ui-runs', UI_DEFAULTS.runs, 1, 50), events: numberOption(args, 'ui-events', UI_DEFAULTS.events, 1, 10_000_000),
      });
      if (args.includes('--write')) {
        await writeSection(UI_START, UI_END, `${table}\n\nCommand: \`${command}\`.`);
        console.log('docs/benchmarks.md: dashboard figures rewritten');
      }
    }
  }
  console.log(`bench took ${Math.round((performance.now() - started) / 1000)} s`);
}

const UI_START = '<!-- ui-figures:start (written by `npm run bench -- --only=ui --write`; edit the text around it, not inside) -->';
const UI_END = '<!-- ui-figures:end -->';

main(process.argv.slice(2)).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
