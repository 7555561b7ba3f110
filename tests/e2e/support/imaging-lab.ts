import { createHash, randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrumeServer } from './brume-server.ts';
import { NetNamespace, sh, waitUntil } from './netns.ts';

/** What the imaging tests share: loop disks with known files, the agent, and tasks with their boot tokens. */

const REPO = new URL('../../..', import.meta.url).pathname;
export const AGENT = join(REPO, 'infra/boot-env/agent/brume-agent');

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export interface Disk {
  file: string;
  device: string;
}

export interface AgentRun {
  child: ChildProcess;
  output(): string;
  exit: Promise<number>;
}

/**
 * Loop disks over sparse files in a scratch directory, and their mounts;
 * `cleanup()` undoes every one, even after a failure.
 *
 * @example
 * const lab = await DiskLab.create();
 * const disk = await lab.makeDisk('source', 256);
 */
export class DiskLab {
  private readonly disks: Disk[] = [];
  private readonly mounts: string[] = [];

  private constructor(readonly dir: string) {}

  static async create(): Promise<DiskLab> {
    return new DiskLab(await mkdtemp(join(tmpdir(), 'brume-e2e-imaging-')));
  }

  async makeDisk(name: string, megabytes: number): Promise<Disk> {
    const file = join(this.dir, `${name}.img`);
    await sh('truncate', ['-s', `${megabytes}M`, file]);
    return this.attach(file);
  }

  /** Attaches an existing image file (a VM's disk after the VM is gone) with its partitions. */
  async attach(file: string): Promise<Disk> {
    const device = (await sh('losetup', ['-fP', '--show', file])).trim();
    const disk = { file, device };
    this.disks.push(disk);
    return disk;
  }

  async mount(device: string): Promise<string> {
    const dir = join(this.dir, `mnt-${randomBytes(3).toString('hex')}`);
    await sh('mkdir', ['-p', dir]);
    await sh('mount', [device, dir]);
    this.mounts.push(dir);
    return dir;
  }

  async unmount(dir: string): Promise<void> {
    await sh('umount', [dir]);
    this.mounts.splice(this.mounts.indexOf(dir), 1);
  }

  /** sha256 of every file under `data/` of the filesystem on `device`. */
  async filesOn(device: string): Promise<Map<string, string>> {
    const dir = await this.mount(device);
    try {
      const seen = new Map<string, string>();
      for (const name of (await readdir(join(dir, 'data'))).sort()) seen.set(`data/${name}`, sha256(await readFile(join(dir, 'data', name))));
      return seen;
    } finally {
      await this.unmount(dir);
    }
  }

  async cleanup(): Promise<void> {
    for (const dir of [...this.mounts].reverse()) await sh('umount', ['-l', dir]).catch(() => '');
    for (const disk of this.disks) await sh('losetup', ['-d', disk.device]).catch(() => '');
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * A GPT disk like a real machine's: a raw partition of `rawMegabytes` (unknown to partclone) when asked,
 * then ext4 over the rest with `count` random files under data/. Returns the files' digests.
 */
export async function goldenDisk(lab: DiskLab, disk: Disk, options: { rawMegabytes?: number; count: number }): Promise<{ files: Map<string, string>; rawSha: string | null; ext4: string }> {
  const raw = options.rawMegabytes ? ['-n', `1:2048:+${options.rawMegabytes}M`, '-t', '1:8300'] : [];
  const ext = options.rawMegabytes ? 2 : 1;
  await sh('sgdisk', [...raw, '-n', `${ext}:0:0`, '-t', `${ext}:8300`, disk.device]);
  await sh('partx', ['-u', disk.device]).catch(() => '');
  await waitUntil('the partitions of the golden disk', async () => (await sh('lsblk', ['-rno', 'NAME', disk.device])).split('\n').filter(Boolean).length > ext);
  let rawSha: string | null = null;
  if (options.rawMegabytes) {
    const data = randomBytes(1024 * 1024);
    rawSha = sha256(data);
    const file = join(lab.dir, 'raw.bin');
    await writeFile(file, data);
    await sh('dd', [`if=${file}`, `of=${disk.device}p1`, 'bs=1M', 'conv=fsync', 'status=none']);
  }
  const ext4 = `${disk.device}p${ext}`;
  await sh('mkfs.ext4', ['-q', '-F', '-L', 'brume-test', ext4]);
  const dir = await lab.mount(ext4);
  const files = new Map<string, string>();
  try {
    await sh('mkdir', ['-p', join(dir, 'data')]);
    for (let i = 0; i < options.count; i++) {
      const data = randomBytes(256 * 1024 + i * 97_000);
      await writeFile(join(dir, 'data', `file-${String(i).padStart(2, '0')}.bin`), data);
      files.set(`data/file-${String(i).padStart(2, '0')}.bin`, sha256(data));
    }
  } finally {
    await lab.unmount(dir);
  }
  return { files, rawSha, ext4 };
}

/** Creates a task on the host and reads its token the way a machine gets it: from its iPXE script. */
export async function taskWithToken(
  brume: BrumeServer, hostId: string, mac: string, type: string, afterTask: 'stay' | 'shutdown' | 'reboot' = 'stay',
): Promise<{ taskId: string; token: string }> {
  const task = await brume.api<{ id: string }>('POST', '/api/tasks', { type, hostId, options: { afterTask } });
  if (task.status !== 201) throw new Error(`cannot create a ${type} task: ${task.status} ${task.text}`);
  const script = await brume.get(`/boot/ipxe?mac=${mac}&arch=x86_64&platform=efi`);
  const token = /brume\.token=(\S+)/.exec(script.body)?.[1];
  if (!token) throw new Error(`no token in the boot script:\n${script.body}`);
  return { taskId: task.body.id, token };
}

/** Runs the agent inside `ns` as the machine with `mac`, on `disk`; the token travels in the environment. */
export function runAgent(
  ns: NetNamespace, server: string, mac: string, task: { taskId: string; token: string }, disk: Disk, afterFile: string,
  extra: string[] = [], env: Record<string, string> = {},
): AgentRun {
  const taskArgs = task.taskId ? ['--task', task.taskId] : [];
  const child = ns.spawn('bash', [AGENT, '--server', server, '--mac', mac, ...taskArgs,
    '--disk', disk.device, '--after-file', afterFile, '--retry-seconds', '120', ...extra], {
    env: { ...process.env, BRUME_TOKEN: task.token, ...env },
  });
  let text = '';
  child.stdout?.on('data', (c: Buffer) => { text += c.toString(); });
  child.stderr?.on('data', (c: Buffer) => { text += c.toString(); });
  const exit = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : -1))));
  return { child, output: () => text, exit };
}
