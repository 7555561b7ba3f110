import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BootLab } from '../boot/lab.ts';
import type { BrumeProcess } from '../boot/brume-process.ts';
import { bootMachine, checkInUntilGo, clientCall } from './bench-machines.ts';
import type { ClientLink } from './client-links.ts';
import { upload } from './curl-transfers.ts';
import type { ImagingFigure } from './imaging-figures.ts';
import { processCpu, processCpuSeconds } from './process-cpu.ts';

const run = promisify(execFile);

/** The name the image travels under (what the agent sends for partition 1). */
export const PART_NAME = 'part1.img.zst';
const TABLE_NAME = 'table.sfdisk';
const TABLE = Buffer.from('label: gpt\nunit: sectors\n/dev/vda1 : start=2048, size=4194304, type=0FC63DAF-8483-4772-8E79-3D69D845E477\n');

type Log = (line: string) => void;

export interface CaptureResult {
  figures: ImagingFigure[];
  /** The file's sha256, from sha256sum (brume answered the same). */
  sha256: string;
  /** The capture task whose revision is current at the end. */
  lastCaptureTaskId: string;
}

interface Sha256sumRun { seconds: number; cpuSeconds: number; sha256: string }
interface CaptureRun { seconds: number; cpuSeconds: number; systemSeconds: number; completeSeconds: number; completeCpuSeconds: number; clientCpuSeconds: number }

/** Pulls a file into the page cache (so every timed reader finds it there, not on the disk). */
export async function warm(file: string): Promise<number> {
  const started = performance.now();
  await run('sh', ['-c', 'cat "$1" > /dev/null', 'sh', file], { timeout: 300_000 });
  return (performance.now() - started) / 1000;
}

/**
 * `dd bs=1M conv=fsync` of the file to `target` (then removed): what the
 * disk takes to write the same bytes and flush them, the floor under an
 * ingest that ends with an fsync.
 */
async function ddWrite(file: string, target: string): Promise<number> {
  const started = performance.now();
  try {
    await run('dd', [`if=${file}`, `of=${target}`, 'bs=1M', 'conv=fsync', 'status=none'], { timeout: 300_000 });
    return (performance.now() - started) / 1000;
  } finally {
    await rm(target, { force: true });
  }
}

/** `sha256sum file`, timed here; its CPU from the shell's `times` (user + system of its children). */
async function sha256sum(file: string): Promise<Sha256sumRun> {
  const started = performance.now();
  const { stdout } = await run('sh', ['-c', 'sha256sum "$1" && times', 'sh', file], { timeout: 300_000 });
  const seconds = (performance.now() - started) / 1000;
  const sha256 = stdout.split(/\s/)[0]!;
  const times = [...stdout.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  // `times` prints the shell's user and system time, then its children's.
  const cpuSeconds = (times[2] ?? NaN) + (times[3] ?? NaN);
  return { seconds, cpuSeconds, sha256 };
}

const manifestFor = (sha256: string, bytes: number) => ({
  format: 'brume-image/1', imageType: 'n',
  disk: { sizeBytes: 4 * 1024 ** 3, sectorSize: 512, label: 'gpt' },
  partitionTable: TABLE_NAME,
  partitions: [{ number: 1, device: 'p1', startSector: 2048, sizeSectors: 4194304, filesystem: 'ext4', tool: 'partclone.ext4', file: PART_NAME, imageBytes: bytes, minSizeBytes: null, resizable: false }],
  files: [
    { name: TABLE_NAME, sizeBytes: TABLE.length, sha256: createHash('sha256').update(TABLE).digest('hex') },
    { name: PART_NAME, sizeBytes: bytes, sha256 },
  ],
});

const mb = (bytes: number, seconds: number) => bytes / seconds / 1e6;
const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

/**
 * Capture ingest: a capture task per run, booted from its own device; the
 * 2 GiB file PUT with curl -T through the client API (brume hashes it,
 * writes it and fsyncs it before answering), then POST /complete with the
 * manifest, which commits the revision. sha256sum reads the same file
 * before the first and after the last capture, and dd writes it to the
 * same file system with an fsync (S D C C D S), so all see the machine's
 * load drift alike. The file is read into the page cache first:
 * curl and sha256sum both read it from memory, and the figure is about
 * the server's path, with brume's write to the disk (and its fsync)
 * included.
 */
export async function captureBench(lab: BootLab, brume: BrumeProcess, imageId: string, links: ClientLink[], file: string, bytes: number, log: Log): Promise<CaptureResult> {
  const warmSeconds = await warm(file);
  log(`  ${file} read into the page cache in ${warmSeconds.toFixed(1)} s`);
  const scratch = await lab.tempDir('capture');
  const tableFile = join(scratch, TABLE_NAME);
  const dds: number[] = [];
  const ddOnce = async () => {
    dds.push(await ddWrite(file, join(scratch, 'dd.bin')));
    log(`  dd conv=fsync to the same file system: ${mb(bytes, dds.at(-1)!).toFixed(0)} MB/s (${dds.at(-1)!.toFixed(2)} s)`);
  };
  await writeFile(tableFile, TABLE);
  const sums: Sha256sumRun[] = [];
  const captures: CaptureRun[] = [];
  const pid = brume.process.pid!;
  const say = (s: Sha256sumRun) => log(`  sha256sum: ${mb(bytes, s.seconds).toFixed(0)} MB/s (${s.seconds.toFixed(2)} s, CPU ${s.cpuSeconds.toFixed(2)} s)`);
  sums.push(await sha256sum(file));
  say(sums[0]!);
  await ddOnce();
  const sha256 = sums[0]!.sha256;
  let lastCaptureTaskId = '';
  for (const [i, link] of links.entries()) {
    const machine = await bootMachine(lab.client, brume, link, `bench-capture-${i + 1}`, 'capture', imageId);
    await checkInUntilGo(lab.client, machine);
    const table = await upload(lab.clientCpu, link.device, `${machine.base}/capture/files/${TABLE_NAME}`, tableFile, machine.headers);
    if (table.status !== 200) throw new Error(`PUT ${TABLE_NAME} answered ${table.status}: ${table.body}`);

    const before = await processCpu(pid);
    const cpu0 = before.user + before.system;
    const client0 = await lab.clientCpu.seconds();
    const put = await upload(lab.clientCpu, link.device, `${machine.base}/capture/files/${PART_NAME}`, file, machine.headers);
    const after = await processCpu(pid);
    const cpu1 = after.user + after.system;
    const client1 = await lab.clientCpu.seconds();
    if (put.status !== 200) throw new Error(`PUT ${PART_NAME} answered ${put.status}: ${put.body}`);
    const answer = JSON.parse(put.body) as { sizeBytes: number; sha256: string };
    if (answer.sizeBytes !== bytes || answer.sha256 !== sha256) throw new Error(`brume received ${answer.sizeBytes} bytes with sha256 ${answer.sha256}; sent ${bytes}, ${sha256}`);

    const completeStarted = performance.now();
    const complete = await clientCall(lab.client, machine, 'POST', '/complete', { manifest: manifestFor(sha256, bytes) });
    const completeSeconds = (performance.now() - completeStarted) / 1000;
    const cpu2 = await processCpuSeconds(pid);
    if (complete.status !== 200) throw new Error(`POST /complete answered ${complete.status}: ${complete.text}`);
    const capture = { seconds: put.seconds, cpuSeconds: cpu1 - cpu0, systemSeconds: after.system - before.system, completeSeconds, completeCpuSeconds: cpu2 - cpu1, clientCpuSeconds: client1 - client0 };
    captures.push(capture);
    lastCaptureTaskId = machine.taskId;
    log(`  capture ${i + 1}: PUT ${mb(bytes, capture.seconds).toFixed(0)} MB/s (${capture.seconds.toFixed(2)} s, brume CPU ${capture.cpuSeconds.toFixed(2)} s of which ${capture.systemSeconds.toFixed(2)} s in the kernel, curl ${capture.clientCpuSeconds.toFixed(2)} s), `
      + `complete ${(completeSeconds * 1000).toFixed(0)} ms (CPU ${capture.completeCpuSeconds.toFixed(2)} s)`);
  }
  await ddOnce();
  sums.push(await sha256sum(file));
  say(sums[1]!);
  if (sums[1]!.sha256 !== sha256) throw new Error('sha256sum gave two digests for the same file');

  const gb = bytes / 1e9;
  const ingest = mean(captures.map((c) => mb(bytes, c.seconds)));
  const hashing = mean(sums.map((s) => mb(bytes, s.seconds)));
  const each = (values: number[], digits = 0) => values.map((v) => v.toFixed(digits)).join(', ');
  return {
    sha256,
    lastCaptureTaskId,
    figures: [
      {
        label: `capture ingest: PUT of a 2 GiB file with curl -T (brume hashes, writes and fsyncs it), source in the page cache`,
        unit: 'MB/s', brume: ingest, peer: { name: 'sha256sum of the same file', value: hashing }, better: 'higher',
        note: `mean of ${captures.length} captures (${each(captures.map((c) => mb(bytes, c.seconds)))} MB/s: curl's time_total, from connecting to brume's answer, which comes after the fsync) `
          + `and ${sums.length} sha256sum runs (${each(sums.map((s) => mb(bytes, s.seconds)))} MB/s), in the order ${['sha256sum', 'dd', ...captures.map(() => 'capture'), 'dd', 'sha256sum'].join(', ')}. `
          + `The disk for comparison: dd bs=1M conv=fsync of the same file to the same file system wrote ${each(dds.map((d) => mb(bytes, d)))} MB/s. `
          + `The file was read into the page cache first (cat, ${warmSeconds.toFixed(1)} s), so curl and sha256sum read it from memory; caches were not dropped. `
          + `POST /complete (manifest check, fsync, rename, the commit event) took ${each(captures.map((c) => c.completeSeconds * 1000))} ms and is not in the rate. `
          + `curl used ${each(captures.map((c) => c.clientCpuSeconds), 2)} s of CPU per capture.`,
      },
      {
        label: 'capture: server CPU seconds per GB ingested (utime + stime)',
        unit: 'CPU-s/GB', brume: mean(captures.map((c) => c.cpuSeconds / gb)), peer: { name: 'sha256sum', value: mean(sums.map((s) => s.cpuSeconds / gb)) }, better: 'lower',
        note: `brume ${each(captures.map((c) => c.cpuSeconds), 2)} s per capture (${each(captures.map((c) => c.systemSeconds), 2)} s of it in the kernel) of ${gb.toFixed(2)} GB (${each(captures.map((c) => (100 * c.cpuSeconds) / c.seconds))}% of a core during the PUT), `
          + `sha256sum ${each(sums.map((s) => s.cpuSeconds), 2)} s; /complete added ${each(captures.map((c) => c.completeCpuSeconds), 2)} s to brume.`,
      },
    ],
  };
}
