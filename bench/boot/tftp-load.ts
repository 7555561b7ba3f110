/*
 * One TFTP load process, started by tftp-bench.ts inside the client
 * namespace. It prints "ready" once loaded; then each line "go" on stdin
 * starts one measured slice: `concurrency` reads of the same file kept
 * going for `seconds` (a new read starts as each one ends), after which the
 * reads still running are cut and the slice's figures are printed as one
 * JSON line. It exits when stdin closes. Several slices per process let the
 * bench alternate servers without paying Node's start-up each time.
 *
 * node --import tsx bench/boot/tftp-load.ts '<LoadPlan JSON>'
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { TftpTransfer, type TftpCounters, type TftpRead } from './tftp-client.ts';

export interface LoadPlan {
  host: string;
  port: number;
  file: string;
  /** Local copy of the file, to check every block against. */
  expectedPath: string;
  blksize?: number;
  windowsize?: number;
  tsize?: boolean;
  concurrency: number;
  seconds: number;
}

export interface LoadResult {
  /** Verified bytes received during the measured seconds (reads still running at the end count what they had). */
  bytes: number;
  seconds: number;
  completed: number;
  failed: number;
  /** Why reads failed, with counts (reads cut at the end are not failures). */
  failures: Record<string, number>;
  timeouts: number;
  /** Milliseconds of each completed read. */
  transferMs: number[];
  /** What the server granted, from the first completed read. */
  granted: { blksize: number; windowsize: number } | null;
  /** This process's CPU seconds (user + system) during the measured seconds. */
  cpuSeconds: number;
}

/** Sockets of reads cut short that still wait to tell their server; the process waits for them before it exits. */
const closing = new Set<Promise<void>>();

/** One measured slice. */
async function slice(plan: LoadPlan, read: TftpRead): Promise<LoadResult> {
  const counters: TftpCounters = { bytes: 0, timeouts: 0 };
  const running = new Set<TftpTransfer>();
  const result: LoadResult = {
    bytes: 0, seconds: plan.seconds, completed: 0, failed: 0, failures: {}, timeouts: 0, transferMs: [], granted: null, cpuSeconds: 0,
  };
  let stopping = false;
  const launch = () => {
    const transfer = new TftpTransfer(read, counters);
    running.add(transfer);
    void transfer.done.then((outcome) => {
      running.delete(transfer);
      if (stopping) return;
      if (outcome.ok) {
        result.completed++;
        result.transferMs.push(outcome.ms);
        result.granted ??= { blksize: outcome.blksize, windowsize: outcome.windowsize };
      } else {
        result.failed++;
        const reason = (outcome.error ?? 'unknown').replace(/\d+/g, 'N');
        result.failures[reason] = (result.failures[reason] ?? 0) + 1;
      }
      launch();
    });
  };
  const cpu = process.cpuUsage();
  for (let i = 0; i < plan.concurrency; i++) launch();
  await new Promise((resolve) => setTimeout(resolve, plan.seconds * 1000));
  stopping = true;
  result.bytes = counters.bytes;
  result.timeouts = counters.timeouts;
  const used = process.cpuUsage(cpu);
  result.cpuSeconds = (used.user + used.system) / 1e6;
  // Reads cut short tell their server, which then stops sending.
  for (const transfer of running) {
    transfer.abort('bench over');
    const closed = transfer.closed.then(() => { closing.delete(closed); });
    closing.add(closed);
  }
  await Promise.all([...running].map((t) => t.done));
  return result;
}

async function main(plan: LoadPlan): Promise<void> {
  const expected = await readFile(plan.expectedPath);
  const read: TftpRead = {
    host: plan.host, port: plan.port, file: plan.file, expected,
    ...(plan.blksize !== undefined && { blksize: plan.blksize }),
    ...(plan.windowsize !== undefined && { windowsize: plan.windowsize }),
    ...(plan.tsize && { tsize: true }),
  };
  console.log('ready');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== 'go') continue;
    console.log(JSON.stringify(await slice(plan, read)));
  }
  await Promise.all(closing);
}

main(JSON.parse(process.argv[2] ?? '{}') as LoadPlan).then(() => process.exit(0), (error: Error) => {
  console.error(error.stack ?? error.message);
  process.exit(1);
});
