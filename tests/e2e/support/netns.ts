import { spawn, execFile, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Every namespace a test run creates starts with this, so a crashed run's leftovers can be found and removed. */
export const NS_PREFIX = 'brume-e2e-';

/** Runs a command and returns its stdout; a failure says which command and what it printed. */
export async function sh(cmd: string, args: string[], timeoutMs = 30_000): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/**
 * A network namespace owned by one test: created with a unique name, its
 * loopback up, and destroyed with every process started in it.
 *
 * @example
 * const ns = await NetNamespace.create('dhcp');
 * await ns.exec('ip', ['addr']);
 * await ns.destroy();
 */
export class NetNamespace {
  private readonly children = new Set<ChildProcess>();

  private constructor(readonly name: string) {}

  static async create(label: string): Promise<NetNamespace> {
    const name = `${NS_PREFIX}${label}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`.slice(0, 60);
    await sh('ip', ['netns', 'add', name]);
    const ns = new NetNamespace(name);
    await ns.exec('ip', ['link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Runs a command inside the namespace to completion. */
  exec(cmd: string, args: string[], timeoutMs?: number): Promise<string> {
    return sh('ip', ['netns', 'exec', this.name, cmd, ...args], timeoutMs);
  }

  /** Starts a long-running process inside the namespace; destroy() ends it. */
  spawn(cmd: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Adds a tap device (for QEMU) with an address. */
  async addTap(device: string, cidr: string): Promise<void> {
    await this.exec('ip', ['tuntap', 'add', device, 'mode', 'tap']);
    await this.exec('ip', ['addr', 'add', cidr, 'dev', device]);
    await this.exec('ip', ['link', 'set', device, 'up']);
  }

  /** Ends every process it started (SIGTERM, then SIGKILL), then deletes the namespace. */
  async destroy(): Promise<void> {
    await Promise.all([...this.children].map((child) => stopProcess(child)));
    // Anything else still running inside (a daemon that forked) goes too.
    const pids = (await sh('ip', ['netns', 'pids', this.name]).catch(() => '')).split(/\s+/).filter(Boolean);
    for (const pid of pids) { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ } }
    await sh('ip', ['netns', 'del', this.name]).catch(() => {});
  }
}

/** Joins two namespaces with a veth pair and gives each end an address (CIDR). */
export async function connect(a: NetNamespace, aCidr: string, b: NetNamespace, bCidr: string, names = ['veth-a', 'veth-b']): Promise<{ aDevice: string; bDevice: string }> {
  const [aDevice, bDevice] = names as [string, string];
  const tmpA = `bv${Math.random().toString(36).slice(2, 9)}`;
  const tmpB = `bv${Math.random().toString(36).slice(2, 9)}`;
  await sh('ip', ['link', 'add', tmpA, 'type', 'veth', 'peer', 'name', tmpB]);
  await sh('ip', ['link', 'set', tmpA, 'netns', a.name]);
  await sh('ip', ['link', 'set', tmpB, 'netns', b.name]);
  await a.exec('ip', ['link', 'set', tmpA, 'name', aDevice]);
  await b.exec('ip', ['link', 'set', tmpB, 'name', bDevice]);
  if (aCidr) await a.exec('ip', ['addr', 'add', aCidr, 'dev', aDevice]);
  if (bCidr) await b.exec('ip', ['addr', 'add', bCidr, 'dev', bDevice]);
  await a.exec('ip', ['link', 'set', aDevice, 'up']);
  await b.exec('ip', ['link', 'set', bDevice, 'up']);
  return { aDevice, bDevice };
}

/** SIGTERM, then SIGKILL after a grace period; resolves when the process has exited. */
export function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}

/** Collects a child's output so a failing test can show it. */
export function captureOutput(child: ChildProcess): { text(): string } {
  let out = '';
  child.stdout?.on('data', (d) => { out += d; });
  child.stderr?.on('data', (d) => { out += d; });
  return { text: () => out };
}

/** Waits until `predicate` holds, polling; fails with `what` after the timeout. */
export async function waitUntil(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 30_000, everyMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
