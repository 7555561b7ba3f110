import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * The disk half of the boot environment's agent (infra/boot-env/agent),
 * without a server: its own functions, sourced from bash, capture a GPT
 * disk on a loop device (a raw partition and an ext4 one, shrunk for the
 * capture and grown back) into files, and deploy them to a smaller loop
 * disk, where every file must come back byte for byte. Real partclone,
 * zstd, sfdisk and e2fsprogs; loop devices and mounts are undone in
 * afterAll whatever happened.
 */

const AGENT = fileURLToPath(new URL('../../infra/boot-env/agent', import.meta.url));
const PATH = `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
const MiB = 1024 * 1024;

/** The programs these tests drive, and the Debian package each comes from. */
const TOOLS: [string, string][] = [
  ['partclone.ext4', 'partclone'], ['partclone.dd', 'partclone'], ['partclone.restore', 'partclone'], ['zstd', 'zstd'],
  ['sfdisk', 'fdisk'], ['sgdisk', 'gdisk'], ['mkfs.ext4', 'e2fsprogs'], ['resize2fs', 'e2fsprogs'], ['jq', 'jq'],
  ['losetup', 'mount'], ['partx', 'util-linux'],
];

interface Run { code: number; stdout: string; stderr: string }

/** Runs a program to completion; a non-zero exit is a result here, not an exception. */
function run(cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 180_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 << 20, env: { ...process.env, PATH, LC_ALL: 'C', ...env } }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Runs a program that must succeed; returns its stdout. */
async function must(cmd: string, args: string[]): Promise<string> {
  const result = await run(cmd, args);
  if (result.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${result.code}): ${result.stderr || result.stdout}`);
  return result.stdout;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Sources the agent's libraries and runs one of its disk functions; FAILED lines carry its failure report. */
const DRIVER = `#!/bin/bash
set -o pipefail
for lib in log steps protocol progress disk layout capture deploy; do . "$AGENT_DIR/$lib.sh" || exit 2; done
work_init "$WORK_DIR" || exit 2
case $1 in
  capture) capture_disk "$2" "$3" 3 sink_dir "$IMAGE_DIR/manifest.json" ;;
  deploy) deploy_disk "$3" "$2" source_dir ;;
  *) echo "driver: capture DISK TYPE | deploy DISK MANIFEST" >&2; exit 2 ;;
esac
rc=$?
if ((rc != 0)); then
  printf 'FAILED: %s\\nCOMMAND: %s\\nOUTPUT:\\n%s\\n' "$FAIL_REASON" "$FAIL_COMMAND" "$FAIL_OUTPUT" >&2
fi
exit "$rc"
`;

/** The partition sizes sfdisk --dump reports, by number. */
function partitionsOf(dump: string): Map<number, { start: number; size: number }> {
  const parts = new Map<number, { start: number; size: number }>();
  for (const m of dump.matchAll(/^\S*?(\d+)\s*:\s*start=\s*(\d+),\s*size=\s*(\d+)/gm)) {
    parts.set(Number(m[1]), { start: Number(m[2]), size: Number(m[3]) });
  }
  return parts;
}

/** An ext filesystem's size in bytes (dumpe2fs). */
async function extBytes(device: string): Promise<number> {
  const header = await must('dumpe2fs', ['-h', device]);
  const count = Number(/^Block count:\s+(\d+)/m.exec(header)?.[1]);
  const size = Number(/^Block size:\s+(\d+)/m.exec(header)?.[1]);
  return count * size;
}


/** A scratch directory with the loop devices and mounts of one suite; cleanup() undoes them all. */
class Lab {
  readonly loops: string[] = [];
  readonly mounts: string[] = [];
  imageDir = '';
  private driver = '';
  private runs = 0;

  private constructor(readonly dir: string) {}

  static async create(label: string): Promise<Lab> {
    const lab = new Lab(await mkdtemp(join(tmpdir(), `brume-agent-${label}-`)));
    lab.imageDir = join(lab.dir, 'image');
    await mkdir(lab.imageDir);
    lab.driver = join(lab.dir, 'driver.sh');
    await writeFile(lab.driver, DRIVER, { mode: 0o755 });
    return lab;
  }

  /** A sparse file of `bytes` on a loop device with partition scanning. */
  async attach(name: string, bytes: number): Promise<string> {
    const file = join(this.dir, name);
    await writeFile(file, '');
    await must('truncate', ['-s', String(bytes), file]);
    const device = (await must('losetup', ['-fP', '--show', file])).trim();
    this.loops.push(device);
    return device;
  }

  /** Writes a partition table (sfdisk script) and waits for the partitions' nodes. */
  async partition(device: string, script: string, count: number): Promise<void> {
    await writeFile(join(this.dir, 'table.in'), script);
    await must('sh', ['-c', `sfdisk -q --no-reread ${device} < ${join(this.dir, 'table.in')}`]);
    await partitionNodes(device, count);
  }

  async mount(device: string, options: string[] = []): Promise<string> {
    const point = join(this.dir, `mnt-${this.mounts.length}-${randomBytes(2).toString('hex')}`);
    await mkdir(point, { recursive: true });
    await must('mount', [...options, device, point]);
    this.mounts.push(point);
    return point;
  }

  async unmount(point: string): Promise<void> {
    await must('umount', [point]);
    this.mounts.splice(this.mounts.indexOf(point), 1);
  }

  /** Runs the agent's capture_disk or deploy_disk through the driver. */
  agent(...args: string[]): Promise<Run> {
    this.runs += 1;
    return run('bash', [this.driver, ...args], { AGENT_DIR: AGENT, WORK_DIR: join(this.dir, `work-${this.runs}`), IMAGE_DIR: this.imageDir });
  }

  async manifest(): Promise<any> {
    return JSON.parse(await readFile(join(this.imageDir, 'manifest.json'), 'utf8'));
  }

  async cleanup(): Promise<void> {
    for (const point of [...this.mounts].reverse()) await run('umount', ['-l', point]);
    for (const device of this.loops) await run('losetup', ['-d', device]);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The kernel's partitions of a loop device: partx tells it when the table re-read did not. */
async function partitionNodes(device: string, count: number): Promise<void> {
  await run('partx', ['-u', device]);
  for (let i = 1; i <= count; i++) {
    const node = `${device}p${i}`;
    for (let tries = 0; ; tries++) {
      try { await stat(node); break; } catch { /* not yet */ }
      if (tries > 40) throw new Error(`no ${node} after writing the table`);
      if (tries % 10 === 9) await run('partx', ['-a', device]);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Every file under a directory with its sha256. */
async function digests(root: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    found.set(relative(root, path), sha256(await readFile(path)));
  }
  return found;
}

async function missingTools(tools: [string, string][]): Promise<void> {
  const missing = new Set<string>();
  for (const [tool, pkg] of tools) if ((await run('sh', ['-c', `command -v ${tool}`])).code !== 0) missing.add(pkg);
  if (missing.size) {
    throw new Error(`the agent's disk tests need these Debian packages: ${[...missing].join(' ')}. Install them with: sudo infra/test-peers/install.sh`);
  }
}

describe('the agent images disks (capture to files, deploy to smaller and bigger disks)', () => {
  let lab: Lab | undefined;
  let source = '';
  /** sha256 of every file written to the ext4 partition, by path inside it. */
  const files = new Map<string, string>();
  let rawDigest = '';
  const RAW_BYTES = 16 * MiB;

  /** The deployed disk holds the raw partition byte for byte and every file, its ext4 grown to fill its partition. */
  async function deployedIntact(device: string): Promise<void> {
    const parts = partitionsOf(await must('sfdisk', ['--dump', device]));
    const rawCopy = await must('sh', ['-c', `head -c ${RAW_BYTES} ${device}p1 | sha256sum`]);
    expect(rawCopy.split(' ')[0]).toBe(rawDigest);
    expect(await extBytes(`${device}p2`)).toBeGreaterThan((parts.get(2)!.size * 512) - 4 * MiB);
    const fsck = await run('e2fsck', ['-fn', `${device}p2`]);
    expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0);
    const point = await lab!.mount(`${device}p2`, ['-o', 'ro']);
    try {
      const found = await digests(point);
      expect(Object.fromEntries(found)).toEqual(Object.fromEntries(files));
    } finally {
      await lab!.unmount(point);
    }
  }

  beforeAll(async () => {
    await missingTools(TOOLS);
    lab = await Lab.create('disk');
    // The source: a 256 MB GPT disk with a 16 MiB raw partition and an ext4 one filling the rest.
    source = await lab.attach('source.img', 256 * MiB);
    await lab.partition(source, 'label: gpt\nsize=16MiB, type=L, name="raw"\ntype=L, name="data"\n', 2);
    const raw = randomBytes(RAW_BYTES);
    rawDigest = sha256(raw);
    await writeFile(join(lab.dir, 'raw.bin'), raw);
    await must('dd', [`if=${join(lab.dir, 'raw.bin')}`, `of=${source}p1`, 'bs=1M', 'conv=fsync', 'status=none']);
    await must('mkfs.ext4', ['-q', '-L', 'data', `${source}p2`]);
    const point = await lab.mount(`${source}p2`);
    await rm(join(point, 'lost+found'), { recursive: true });
    await mkdir(join(point, 'dir', 'deeper'), { recursive: true });
    const sizes: [string, number][] = [['small.txt', 13], ['dir/a.bin', 3 * MiB + 17], ['dir/b.bin', 9 * MiB], ['dir/deeper/c.bin', 21 * MiB + 5], ['empty', 0]];
    for (const [name, size] of sizes) {
      const data = randomBytes(size);
      await writeFile(join(point, name), data);
      files.set(name, sha256(data));
    }
    await lab.unmount(point);
  });

  afterAll(async () => {
    await lab?.cleanup();
  });

  it('captures each partition into a file and leaves the source disk as it was', async () => {
    const sourceBefore = await extBytes(`${source}p2`);
    const result = await lab!.agent('capture', source, 'n');
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout).toMatch(/state=captured partitions=2/);

    const manifest = await lab!.manifest();
    expect(manifest).toMatchObject({ format: 'brume-image/1', imageType: 'n', partitionTable: 'table.sfdisk' });
    expect(manifest.disk).toEqual({ sizeBytes: 256 * MiB, sectorSize: 512, label: 'gpt' });
    const [rawPart, extPart] = manifest.partitions;
    expect(rawPart).toMatchObject({ number: 1, filesystem: 'raw', tool: 'partclone.dd', file: 'part1.img.zst', imageBytes: RAW_BYTES, resizable: false, minSizeBytes: null });
    expect(extPart).toMatchObject({ number: 2, filesystem: 'ext4', tool: 'partclone.ext4', file: 'part2.img.zst', resizable: true });
    // Shrunk for the capture: the image says how small the partition may get.
    expect(extPart.minSizeBytes).toBeGreaterThan(0);
    expect(extPart.minSizeBytes).toBeLessThan(extPart.sizeSectors * 512);

    // Every file listed with the size and digest of what was written.
    expect(manifest.files.map((f: { name: string }) => f.name)).toEqual(['table.sfdisk', 'part1.img.zst', 'part2.img.zst']);
    for (const listed of manifest.files) {
      const data = await readFile(join(lab!.imageDir, listed.name));
      expect(listed.sizeBytes).toBe(data.length);
      expect(listed.sha256).toBe(sha256(data));
    }
    expect(await readFile(join(lab!.imageDir, 'table.sfdisk'), 'utf8')).toMatch(/^label: gpt$/m);

    // The source's filesystem was grown back to its partition and is intact.
    expect(await extBytes(`${source}p2`)).toBe(sourceBefore);
    const fsck = await run('e2fsck', ['-fn', `${source}p2`]);
    expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0);
  });

  it('deploys the image to a smaller disk: the ext4 partition shrinks, every file comes back', async () => {
    const smaller = await lab!.attach('smaller.img', 160 * MiB);
    const result = await lab!.agent('deploy', smaller, join(lab!.imageDir, 'manifest.json'));
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout).toMatch(/state=deployed/);
    expect(result.stdout).toMatch(/sha256 verified/);
    await partitionNodes(smaller, 2);

    const sourceParts = partitionsOf(await must('sfdisk', ['--dump', source]));
    const parts = partitionsOf(await must('sfdisk', ['--dump', smaller]));
    expect(parts.get(1)).toEqual(sourceParts.get(1));
    expect(parts.get(2)!.start).toBe(sourceParts.get(2)!.start);
    expect(parts.get(2)!.size).toBeLessThan(sourceParts.get(2)!.size);
    // The backup GPT sits at the end of this disk, not where the source's was.
    expect(await must('sgdisk', ['-v', smaller])).toMatch(/No problems found/);
    await deployedIntact(smaller);
  });

  it('deploys the image to a bigger disk: the ext4 partition grows to use it', async () => {
    const bigger = await lab!.attach('bigger.img', 384 * MiB);
    const result = await lab!.agent('deploy', bigger, join(lab!.imageDir, 'manifest.json'));
    expect(result.code, result.stderr + result.stdout).toBe(0);
    await partitionNodes(bigger, 2);
    const sourceParts = partitionsOf(await must('sfdisk', ['--dump', source]));
    const parts = partitionsOf(await must('sfdisk', ['--dump', bigger]));
    expect(parts.get(2)!.size).toBe(sourceParts.get(2)!.size + (128 * MiB) / 512);
    expect(await must('sgdisk', ['-v', bigger])).toMatch(/No problems found/);
    await deployedIntact(bigger);
  });

  it('refuses a disk the image does not fit on, naming needed and available bytes, without touching it', async () => {
    const tiny = await lab!.attach('tiny.img', 40 * MiB);
    const result = await lab!.agent('deploy', tiny, join(lab!.imageDir, 'manifest.json'));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/FAILED: the image does not fit on \/dev\/loop\d+: it needs at least \d+ bytes \([\d.]+ MB\), \/dev\/loop\d+ has 41943040 bytes/);
    const needed = Number(/needs at least (\d+) bytes/.exec(result.stderr)?.[1]);
    const manifest = await lab!.manifest();
    // At least the raw partition and the ext4 filesystem's minimum; less than the source disk.
    expect(needed).toBeGreaterThan(RAW_BYTES + manifest.partitions[1].minSizeBytes);
    expect(needed).toBeLessThan(160 * MiB);
    // Checked before anything was written: still no partition table.
    expect((await run('sfdisk', ['--dump', tiny])).code).not.toBe(0);
  });

  it('fails a deploy whose file does not match the manifest\'s sha256', async () => {
    const target = await lab!.attach('tampered.img', 160 * MiB);
    const manifest = await lab!.manifest();
    const listed = manifest.files.find((f: { name: string }) => f.name === 'part1.img.zst');
    const genuine = listed.sha256;
    listed.sha256 = genuine.replace(/^./, (c: string) => (c === '0' ? '1' : '0'));
    const tampered = join(lab!.dir, 'tampered.json');
    await writeFile(tampered, JSON.stringify(manifest));
    const result = await lab!.agent('deploy', target, tampered);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`FAILED: part1: part1.img.zst: sha256 of the received bytes is ${genuine}, the manifest says ${listed.sha256}`);
  });
});

/*
 * A Windows-like disk: a large NTFS volume followed by a recovery
 * partition (NTFS too, Windows RE type). The volume is shrunk with
 * ntfsresize for the capture and grown back; on a smaller disk it shrinks
 * while the recovery partition keeps its size and moves (its boot sector
 * learns its new start).
 */
describe('the agent images a Windows-like NTFS disk', () => {
  let lab: Lab | undefined;
  let source = '';
  const WINDOWS_RE = 'DE94BBA4-06D1-4D40-A16A-BFD50179D6AC';
  const BASIC_DATA = 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7';
  const files = new Map<string, string>();

  async function ntfsBytes(device: string): Promise<number> {
    const info = await must('ntfsresize', ['--info', '--force', '--no-progress-bar', device]);
    return Number(/Current volume size: (\d+) bytes/.exec(info)?.[1]);
  }

  beforeAll(async () => {
    await missingTools([...TOOLS, ['mkntfs', 'ntfs-3g'], ['ntfsresize', 'ntfs-3g'], ['ntfs-3g', 'ntfs-3g'], ['partclone.ntfs', 'partclone']]);
    lab = await Lab.create('ntfs');
    source = await lab.attach('windows.img', 320 * MiB);
    await lab.partition(source, `label: gpt\nsize=256MiB, type=${BASIC_DATA}, name="Windows"\ntype=${WINDOWS_RE}, name="Recovery"\n`, 2);
    for (const [part, name, size] of [[1, 'windows.bin', 24 * MiB], [2, 'winre.bin', 2 * MiB]] as const) {
      await must('mkntfs', ['-Q', '-q', `${source}p${part}`]);
      const point = await lab.mount(`${source}p${part}`, ['-t', 'ntfs-3g']);
      const data = randomBytes(size);
      await writeFile(join(point, name), data);
      files.set(name, sha256(data));
      await lab.unmount(point);
    }
  });

  afterAll(async () => {
    await lab?.cleanup();
  });

  it('captures the NTFS volume shrunk and deploys it to a smaller disk, recovery partition moved and intact', async () => {
    const before = await ntfsBytes(`${source}p1`);
    const captured = await lab!.agent('capture', source, 'n');
    expect(captured.code, captured.stderr + captured.stdout).toBe(0);
    const manifest = await lab!.manifest();
    expect(manifest.partitions[0]).toMatchObject({ filesystem: 'ntfs', tool: 'partclone.ntfs', resizable: true });
    expect(manifest.partitions[0].minSizeBytes).toBeLessThan(200 * MiB);
    expect(manifest.partitions[1]).toMatchObject({ filesystem: 'ntfs', resizable: false, minSizeBytes: null });
    // Grown back, and not left marked for a check.
    expect(await ntfsBytes(`${source}p1`)).toBe(before);

    const smaller = await lab!.attach('smaller.img', 200 * MiB);
    const deployed = await lab!.agent('deploy', smaller, join(lab!.imageDir, 'manifest.json'));
    expect(deployed.code, deployed.stderr + deployed.stdout).toBe(0);
    await partitionNodes(smaller, 2);
    const sourceParts = partitionsOf(await must('sfdisk', ['--dump', source]));
    const parts = partitionsOf(await must('sfdisk', ['--dump', smaller]));
    expect(parts.get(1)!.size).toBeLessThan(sourceParts.get(1)!.size);
    expect(parts.get(2)!.size).toBe(sourceParts.get(2)!.size);
    expect(parts.get(2)!.start).toBeLessThan(sourceParts.get(2)!.start);
    // The volume fills its smaller partition (NTFS keeps its last sector for the backup boot sector).
    expect(await ntfsBytes(`${smaller}p1`)).toBeGreaterThan(parts.get(1)!.size * 512 - MiB);
    for (const [part, name] of [[1, 'windows.bin'], [2, 'winre.bin']] as const) {
      const point = await lab!.mount(`${smaller}p${part}`, ['-t', 'ntfs-3g', '-o', 'ro']);
      try {
        expect(sha256(await readFile(join(point, name)))).toBe(files.get(name));
      } finally {
        await lab!.unmount(point);
      }
    }
  });
});
