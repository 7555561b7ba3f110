import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrume, type BrumeServer } from './support/brume-server.ts';
import { NetNamespace, waitUntil } from './support/netns.ts';
import { bootVm, type Vm } from './support/qemu.ts';

/**
 * The client boot environment (infra/boot-env/build.sh): built from Debian
 * packages, then booted in QEMU (TCG) straight from its kernel and initramfs,
 * twice: a virtio disk and NIC, then a SATA disk on AHCI and an Intel e1000
 * NIC, the NIC on a tap in a namespace where brume serves full DHCP. In
 * `brume.mode=self-check` /init loads the drivers, gets an address, lists the
 * disks, runs `brume-agent --self-check` (the imaging tools' versions) and
 * powers off; the serial console says how each step went.
 *
 * The build is cached in BRUME_E2E_BOOT_ENV_DIR (default
 * /var/cache/brume-test/boot-env): the first run downloads ~80 packages and
 * builds (~1 min), later runs find it up to date in a second or two unless
 * infra/boot-env/ or the Debian versions changed. BRUME_E2E_AGENT_DIR builds
 * with another agent directory than infra/boot-env/agent.
 */

const REPO = resolve(import.meta.dirname, '../..');
const BUILD = join(REPO, 'infra', 'boot-env', 'build.sh');
const OUT = process.env.BRUME_E2E_BOOT_ENV_DIR ?? '/var/cache/brume-test/boot-env';
const AGENT_DIR = process.env.BRUME_E2E_AGENT_DIR;

const TAP = 'tap0';
const SERVER = '192.0.2.1';
const PORT = 8080;
const POOL_FIRST = 100;
const POOL_LAST = 150;
const MAC = '52:54:00:b0:07:e1';
const MAC_E1000 = '52:54:00:b0:07:e2';
const DISK_MIB = 256;

/** A cold build downloads ~100 MB of packages and compresses ~50 MB with zstd -19. */
const BUILD_TIMEOUT_MS = 20 * 60_000;
/** Under TCG a self-check boot takes ~10-15 s from QEMU's start to its power-off; much slower when the machine is busy. */
const BOOT_TIMEOUT_MS = 150_000;

/** The tools `brume-agent --self-check` reports on (docs/boot-environment.md). */
const SELF_CHECK_TOOLS = ['partclone', 'zstd', 'sfdisk', 'sgdisk', 'e2fsck', 'ntfsresize', 'dmidecode', 'curl', 'udp-receiver', 'jq'];

interface BuildInfo {
  inputsHash: string;
  kernelVersion: string;
  packages: Record<string, string>;
  modules: string[];
  sizes: Record<string, number>;
  buildSeconds: number;
  builtAt: string;
}

interface EventView {
  type: string;
  data: { stage?: string; detail?: Record<string, string> };
}

/** Runs build.sh to completion; resolves with what it printed and how long it took (never rejects). */
function runBuild(): Promise<{ code: number | null; output: string; seconds: number }> {
  const args = ['--out', OUT];
  if (AGENT_DIR) args.push('--agent-dir', AGENT_DIR);
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(BUILD, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const timer = setTimeout(() => child.kill('SIGTERM'), BUILD_TIMEOUT_MS - 10_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output, seconds: (Date.now() - started) / 1000 });
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      done({ code: -1, output: `${output}\n${error.message}`, seconds: 0 });
    });
  });
}

const tail = (text: string, n: number) => text.trim().split('\n').slice(-n).join('\n') || '(nothing)';
const exited = (vm: Vm) => vm.process.exitCode !== null || vm.process.signalCode !== null;

describe('the client boot environment (Debian kernel + initramfs, booted in QEMU under TCG)', () => {
  let build: { code: number | null; output: string; seconds: number };
  let ns: NetNamespace | undefined;
  let brume: BrumeServer | undefined;
  let scratch: string | undefined;

  beforeAll(async () => {
    build = await runBuild();
    console.log(`boot-env build: ${build.seconds.toFixed(1)} s, exit ${build.code}\n${tail(build.output, 20)}`);
    if (build.code !== 0) return; // the first test reports it
    scratch = await mkdtemp(join(tmpdir(), 'brume-boot-env-'));
    ns = await NetNamespace.create('bootenv');
    await ns.addTap(TAP, `${SERVER}/24`);
    brume = await startBrume({ ns, address: SERVER, httpPort: PORT, device: TAP, dhcpMode: 'full', pool: `192.0.2.${POOL_FIRST}-192.0.2.${POOL_LAST}` });
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await brume?.stop();
    await ns?.destroy();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('builds vmlinuz and initrd.img from Debian packages and describes them in build-info.json', async () => {
    expect(build.code, `infra/boot-env/build.sh --out ${OUT} failed:\n${tail(build.output, 40)}`).toBe(0);
    const vmlinuz = join(OUT, 'vmlinuz');
    const initrd = join(OUT, 'initrd.img');
    const info = JSON.parse(readFileSync(join(OUT, 'build-info.json'), 'utf8')) as BuildInfo;

    expect(info.inputsHash).toMatch(/^[0-9a-f]{64}$/);
    expect(info.kernelVersion).toMatch(/^\d+\.\d+\.\d+-\d+-amd64$/);
    expect(info.sizes.vmlinuz).toBe(statSync(vmlinuz).size);
    expect(info.sizes['initrd.img']).toBe(statSync(initrd).size);
    expect(info.sizes.vmlinuz).toBeGreaterThan(4 << 20);
    // Small enough to fetch in a boot storm; large enough to hold the tools.
    expect(info.sizes['initrd.img']).toBeGreaterThan(5 << 20);
    expect(info.sizes['initrd.img']).toBeLessThan(40 << 20);
    expect(info.buildSeconds).toBeGreaterThanOrEqual(0);
    expect(Number.isNaN(Date.parse(info.builtAt))).toBe(false);
    for (const pkg of ['busybox-static', 'partclone', 'zstd', 'fdisk', 'gdisk', 'e2fsprogs', 'ntfs-3g', 'dmidecode', 'curl', 'udpcast', 'bash', 'jq', 'libc6']) {
      expect(info.packages[pkg], `${pkg} in build-info.json packages`).toMatch(/^\S+$/);
    }
    expect(Object.keys(info.packages).some((p) => p === `linux-image-${info.kernelVersion}`)).toBe(true);
    for (const module of ['virtio_net', 'virtio_blk', 'virtio_pci', 'e1000e', 'ahci', 'nvme', 'ext4']) expect(info.modules).toContain(module);
    console.log(`boot-env: kernel ${info.kernelVersion}, vmlinuz ${info.sizes.vmlinuz} bytes, initrd.img ${info.sizes['initrd.img']} bytes, `
      + `built in ${info.buildSeconds} s at ${info.builtAt}`);

    // Same inputs: the second run only checks the hash and leaves the files alone.
    const builtAt = statSync(initrd).mtimeMs;
    const again = await runBuild();
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain(`boot environment up to date (hash ${info.inputsHash.slice(0, 16)}`);
    expect(again.seconds).toBeLessThan(30);
    expect(statSync(initrd).mtimeMs).toBe(builtAt);
  }, BUILD_TIMEOUT_MS);

  /** What one self-check boot showed on its serial console. */
  interface SelfCheckBoot {
    serial: string;
    /** The serial console's tail, for failure messages. */
    shown: string;
    modules: string[];
    ip: string;
    seconds: number;
  }

  /**
   * Boots the environment in `brume.mode=self-check` with one NIC (on the
   * tap, MAC `mac`) and one 256 MiB disk, waits for it to power off, and
   * checks what every such boot must show: the banner, a lease from brume's
   * pool, the self-check's report on each tool, the power-off.
   */
  async function selfCheckBoot(label: string, mac: string, nic: 'virtio' | 'e1000', diskArgs: (file: string) => string[]): Promise<SelfCheckBoot> {
    const dir = join(scratch!, label);
    await mkdir(dir);
    const disk = join(dir, 'disk.img');
    await writeFile(disk, '');
    await truncate(disk, DISK_MIB << 20);
    const append = ['console=ttyS0', 'brume.mode=self-check', `brume.server=http://${SERVER}:${PORT}`, `brume.mac=${mac}`].join(' ');
    const vm = await bootVm({
      ns: ns!, tap: TAP, mac, nic, firmware: 'bios', romfile: '', memoryMb: 512, dir,
      maxLifetimeSeconds: Math.ceil(BOOT_TIMEOUT_MS / 1000) + 30,
      extraArgs: ['-kernel', join(OUT, 'vmlinuz'), '-initrd', join(OUT, 'initrd.img'), '-append', append, ...diskArgs(disk)],
    });
    try {
      try {
        await waitUntil(`the ${label} VM to run the self-check and power off`, () => exited(vm), BOOT_TIMEOUT_MS, 250);
      } catch (error) {
        throw new Error(`${(error as Error).message}\n--- serial console (last 60 lines) ---\n${tail(vm.serial(), 60)}\n--- QEMU ---\n${tail(vm.output(), 20)}`);
      }
      const seconds = (Date.now() - vm.startedAt) / 1000;
      const serial = vm.serial();
      const shown = `\n--- ${label}: serial console (last 80 lines) ---\n${tail(serial, 80)}`;
      console.log(`boot-env ${label}: QEMU powered off ${seconds.toFixed(1)} s after it started\n`
        + serial.split('\n').filter((l) => l.startsWith('brume:')).join('\n'));

      expect(serial, shown).toContain('brume client boot environment');
      const modules = /^brume: modules loaded: (.*)$/m.exec(serial)?.[1]?.split(/\s+/) ?? [];

      // An address from brume's pool on the NIC with the VM's MAC.
      const lease = new RegExp(`^brume: network: (\\S+) \\(${mac}\\) got 192\\.0\\.2\\.(\\d+)/24.* from ${SERVER.replace(/\./g, '\\.')}`, 'm').exec(serial);
      expect(lease, `no lease line for ${mac}${shown}`).not.toBeNull();
      const host = Number(lease![2]);
      expect(host).toBeGreaterThanOrEqual(POOL_FIRST);
      expect(host).toBeLessThanOrEqual(POOL_LAST);

      // The self-check ran to the end and named every tool.
      const from = serial.indexOf('brume: running brume-agent --self-check');
      const end = serial.indexOf('brume: self-check finished with status');
      expect(from, `the self-check did not start${shown}`).toBeGreaterThanOrEqual(0);
      expect(end, `the self-check did not finish${shown}`).toBeGreaterThan(from);
      expect(serial, shown).toContain('brume: self-check finished with status 0');
      const report = serial.slice(from, end);
      for (const tool of SELF_CHECK_TOOLS) expect(report, `the self-check says nothing about ${tool}${shown}`).toContain(tool);

      // Then /init powered the machine off (QEMU exits on ACPI power-off).
      expect(serial, shown).toContain('brume: powering off');
      expect(vm.process.exitCode, `QEMU ${vm.process.exitCode ?? vm.process.signalCode}${shown}`).toBe(0);
      return { serial, shown, modules, ip: `192.0.2.${host}`, seconds };
    } finally {
      await vm.stop();
    }
  }

  it('boots in QEMU (virtio NIC and disk): drivers load, brume\'s DHCP gives an address, the disk shows, brume-agent --self-check runs, it powers off', async () => {
    expect(build.code, 'the build failed (see the first test)').toBe(0);
    const boot = await selfCheckBoot('virtio', MAC, 'virtio', (file) => ['-drive', `file=${file},if=virtio,format=raw`]);
    for (const module of ['virtio_pci', 'virtio_net', 'virtio_blk', 'ext4']) expect(boot.modules, `${module} loaded${boot.shown}`).toContain(module);
    expect(boot.serial, boot.shown).toMatch(new RegExp(`^brume: disk /dev/vda: ${DISK_MIB} MiB`, 'm'));

    // brume saw the boot environment's DHCP exchange (udhcpc) and acknowledged the address the VM reported.
    let stages: EventView[] = [];
    await waitUntil('brume to record the DHCP stage for the VM', async () => {
      const answer = await brume!.api<{ events: EventView[] }>('GET', `/api/events?stream=${encodeURIComponent(`boot-${MAC}`)}&limit=100`);
      stages = answer.status === 200 ? answer.body.events : [];
      return stages.some((e) => e.type === 'BootStageObserved' && e.data.stage === 'dhcp' && e.data.detail?.ip === boot.ip);
    }, 15_000, 250).catch(() => {
      throw new Error(`no DHCP stage with ip ${boot.ip} for ${MAC}: ${JSON.stringify(stages.map((e) => e.data))}`);
    });
  }, BOOT_TIMEOUT_MS + 60_000);

  it('boots on common PC hardware too (Intel e1000 NIC, SATA disk on AHCI)', async () => {
    expect(build.code, 'the build failed (see the first test)').toBe(0);
    const boot = await selfCheckBoot('e1000-ahci', MAC_E1000, 'e1000', (file) => [
      '-device', 'ahci,id=ahci0', '-drive', `file=${file},if=none,id=disk0,format=raw`, '-device', 'ide-hd,drive=disk0,bus=ahci0.0',
    ]);
    for (const module of ['e1000', 'ahci', 'libata', 'sd_mod']) expect(boot.modules, `${module} loaded${boot.shown}`).toContain(module);
    expect(boot.serial, boot.shown).toMatch(new RegExp(`^brume: disk /dev/sda: ${DISK_MIB} MiB`, 'm'));
  }, BOOT_TIMEOUT_MS + 60_000);
});
