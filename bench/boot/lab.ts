import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, NetNamespace, sh } from '../../tests/e2e/support/netns.ts';

/** One side of the lab: a server namespace joined to the client namespace by its own veth pair. */
export interface ServerSide {
  ns: NetNamespace;
  /** The server's device and address (inside `ns`). */
  device: string;
  address: string;
  /** The client's device and address on this link (inside the client namespace). */
  clientDevice: string;
  clientAddress: string;
  /** The addresses a DHCP server hands out on this link. */
  pool: { first: string; last: string; netmask: string };
  /** CPU used by everything in `ns`. */
  cpu: CpuAccount;
}

/**
 * The bench's private network: three namespaces, no route out of them.
 *
 *   brume ns  bench0 198.18.0.1/16 --veth-- to-brume 198.18.0.2/16 \
 *                                                                   client ns (perfdhcp, TFTP client, wrk)
 *   peer ns   bench0 198.19.0.1/16 --veth-- to-peer  198.19.0.2/16 /
 *
 * brume and the peer (dnsmasq, in.tftpd, nginx) each sit alone in their own
 * namespace behind an identical link, so both can run at once (DHCP port 67
 * and TFTP port 69 in each) and their runs can be interleaved. Every
 * address is in 198.18.0.0/15, the benchmark range (RFC 2544).
 */
export class BootLab {
  private readonly dirs: string[] = [];
  private destroyed = false;

  private constructor(
    readonly client: NetNamespace,
    readonly clientCpu: CpuAccount,
    readonly brume: ServerSide,
    readonly peer: ServerSide,
    private readonly all: NetNamespace[],
    private readonly accounts: CpuAccount[],
  ) {}

  static async create(): Promise<BootLab> {
    const made: NetNamespace[] = [];
    const accounts: CpuAccount[] = [];
    try {
      const client = await NetNamespace.create('bench-client');
      made.push(client);
      const brumeNs = await NetNamespace.create('bench-brume');
      made.push(brumeNs);
      const peerNs = await NetNamespace.create('bench-peer');
      made.push(peerNs);
      await connect(brumeNs, '198.18.0.1/16', client, '198.18.0.2/16', ['bench0', 'to-brume']);
      await connect(peerNs, '198.19.0.1/16', client, '198.19.0.2/16', ['bench0', 'to-peer']);
      for (const ns of made) accounts.push(await CpuAccount.create(ns));
      const side = (ns: NetNamespace, cpu: CpuAccount, net: string, clientDevice: string): ServerSide => ({
        ns, device: 'bench0', address: `${net}.0.1`, clientDevice, clientAddress: `${net}.0.2`,
        pool: { first: `${net}.1.1`, last: `${net}.255.254`, netmask: '255.255.0.0' }, cpu,
      });
      return new BootLab(client, accounts[0]!, side(brumeNs, accounts[1]!, '198.18', 'to-brume'),
        side(peerNs, accounts[2]!, '198.19', 'to-peer'), made, accounts);
    } catch (error) {
      for (const ns of made) await ns.destroy();
      for (const account of accounts) await account.remove();
      throw error;
    }
  }

  /** A temporary directory removed with the lab. */
  async tempDir(label: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), `brume-bench-${label}-`));
    this.dirs.push(dir);
    return dir;
  }

  /** Ends every process started in the namespaces, deletes them (and their veth pairs) and the temp dirs. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const ns of this.all) await ns.destroy().catch(() => {});
    for (const account of this.accounts) await account.remove();
    for (const dir of this.dirs) await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

/**
 * Runs `work` with a lab, and removes the lab afterwards: on success, on
 * error, and on Ctrl-C or SIGTERM (then the process exits with 130).
 */
export async function withLab<T>(work: (lab: BootLab) => Promise<T>): Promise<T> {
  const lab = await BootLab.create();
  let stopping = false;
  const interrupted = (signal: NodeJS.Signals) => {
    stopping = true;
    console.error(`\n${signal}: removing the bench namespaces and their processes...`);
    void lab.destroy().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    return await work(lab);
  } catch (error) {
    // Interrupted: the work failed because its processes were stopped; wait for the handler to exit instead of reporting it.
    if (stopping) await new Promise(() => {});
    throw error;
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await lab.destroy();
  }
}

const CPUACCT = '/sys/fs/cgroup/cpuacct';

/**
 * CPU time of everything running in one namespace, children included.
 * tftpd-hpa forks a process per transfer and ignores SIGCHLD, so its
 * children's time never reaches its own /proc counters: each namespace's
 * processes are therefore put in a cpuacct cgroup of their own (cgroup v1,
 * a hierarchy nothing else here uses), whose usage counts every task that
 * ran in it. Without cpuacct, the /proc counters of the processes alive at
 * the time are summed instead.
 */
export class CpuAccount {
  private constructor(private readonly ns: NetNamespace, private readonly dir: string | null) {}

  static async create(ns: NetNamespace): Promise<CpuAccount> {
    const dir = join(CPUACCT, ns.name);
    try {
      await mkdir(dir);
      return new CpuAccount(ns, dir);
    } catch {
      return new CpuAccount(ns, null);
    }
  }

  /**
   * Runs `cmd args` in the namespace to completion, counted from its first
   * instruction: it waits on stdin until its pid has joined the group, so
   * nothing it forks escapes. (It cannot join by itself: `ip netns exec`
   * mounts a fresh /sys, without the cgroup file systems.) Resolves with its
   * exit code and everything it printed; rejects only when it cannot run or
   * runs past `timeoutMs`.
   */
  run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
    const child = spawn('ip', ['netns', 'exec', this.ns.name, 'sh', '-c', 'read _ && exec "$@"', 'sh', cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const joined = this.dir && child.pid ? writeFile(join(this.dir, 'cgroup.procs'), String(child.pid)).catch(() => {}) : Promise.resolve();
    void joined.then(() => child.stdin.end('go\n'));
    return new Promise((resolve, reject) => {
      child.once('error', (error) => { clearTimeout(timer); reject(error); });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        if (signal === 'SIGKILL') reject(new Error(`${cmd} ${args.join(' ')} ran past ${timeoutMs} ms:\n${output}`));
        else resolve({ code, output });
      });
    });
  }

  /** CPU seconds used so far; the namespace's current processes join the group first (their children follow them). */
  async seconds(): Promise<number> {
    const pids = (await sh('ip', ['netns', 'pids', this.ns.name]).catch(() => '')).split(/\s+/).filter(Boolean);
    if (this.dir) {
      for (const pid of pids) await writeFile(join(this.dir, 'cgroup.procs'), pid).catch(() => {});
      return Number(await readFile(join(this.dir, 'cpuacct.usage'), 'utf8')) / 1e9;
    }
    let ticks = 0;
    for (const pid of pids) {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      // Fields after the command name: state is field 3, utime..cstime are 14..17.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      for (let i = 11; i <= 14; i++) ticks += Number(fields[i] ?? 0);
    }
    return ticks / CLOCK_TICKS;
  }

  /** Hands any process left back to the root group and removes the group (call once the namespace is empty). */
  async remove(): Promise<void> {
    if (!this.dir) return;
    const left = (await readFile(join(this.dir, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
    for (const pid of left) await writeFile(join(CPUACCT, 'cgroup.procs'), pid).catch(() => {});
    // Killed tasks leave the group once reaped: try for a moment.
    for (let i = 0; i < 20; i++) {
      if (await rmdir(this.dir).then(() => true, () => false)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;
