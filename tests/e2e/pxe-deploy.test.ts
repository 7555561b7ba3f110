import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrume, type BrumeServer } from './support/brume-server.ts';
import { DiskLab, goldenDisk, runAgent, taskWithToken, type Disk } from './support/imaging-lab.ts';
import { connect, NetNamespace, sh, waitUntil } from './support/netns.ts';
import { bootVm, type Vm } from './support/qemu.ts';

/**
 * The real client: a QEMU VM (SeaBIOS + iPXE ROM, TCG) with a blank
 * virtio disk PXE-boots from `brume serve` (DHCP, TFTP, the iPXE script),
 * fetches the boot environment's kernel and initramfs over HTTP, and its
 * agent deploys an image to the disk, then powers the VM off. The image is
 * first captured by the agent from a loop disk with known files (a second
 * namespace, another MAC); after the VM is gone the test reads its disk.
 *
 * The boot environment comes from infra/boot-env/build.sh, cached in
 * BRUME_E2E_BOOT_ENV_DIR (default /var/cache/brume-test/boot-env, shared
 * with boot-env.test.ts).
 */

const REPO = resolve(import.meta.dirname, '../..');
const BOOT_ENV = process.env.BRUME_E2E_BOOT_ENV_DIR ?? '/var/cache/brume-test/boot-env';
const TAP = 'tap0';
const SERVER = '192.0.2.1';
const GOLDEN_SERVER = '198.18.0.1';
const GOLDEN_CLIENT = '198.18.0.2';
const GOLDEN_MAC = '52:54:00:d0:00:01';
const VM_MAC = '52:54:00:d0:00:02';

/** TCG: iPXE fetches its script ~18 s after start, the kernel boots in ~10 s more, the deploy itself takes seconds. */
const DEPLOY_TIMEOUT_MS = 300_000;

function buildBootEnv(): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(join(REPO, 'infra/boot-env/build.sh'), ['--out', BOOT_ENV], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('close', (code) => (code === 0 ? done(output) : fail(new Error(`build.sh exited ${code}:\n${output}`))));
  });
}

describe('a PXE-booted VM deploys an image from brume (QEMU under TCG)', () => {
  let ns: NetNamespace;
  let goldenNs: NetNamespace;
  let brume: BrumeServer;
  let lab: DiskLab;
  let vmDir: string;
  let vm: Vm | undefined;
  let files: Map<string, string>;
  let imageId = '';
  let vmHostId = '';

  beforeAll(async () => {
    await buildBootEnv();
    lab = await DiskLab.create();
    vmDir = await mkdtemp(join(tmpdir(), 'brume-e2e-vm-'));
    ns = await NetNamespace.create('pxe-dep');
    goldenNs = await NetNamespace.create('golden');
    await ns.addTap(TAP, `${SERVER}/24`);
    await connect(ns, `${GOLDEN_SERVER}/24`, goldenNs, `${GOLDEN_CLIENT}/24`);
    await goldenNs.exec('ip', ['link', 'set', 'veth-b', 'down']);
    await goldenNs.exec('ip', ['link', 'set', 'veth-b', 'address', GOLDEN_MAC]);
    await goldenNs.exec('ip', ['link', 'set', 'veth-b', 'up']);
    brume = await startBrume({
      ns, address: SERVER, device: TAP, dhcpMode: 'full',
      env: {
        BRUME_HTTP_HOST: '0.0.0.0', BRUME_BOOT_ENV_DIR: BOOT_ENV, BRUME_LOG_LEVEL: 'info',
        // The kernel and the agent print on the serial console, which the test keeps.
        BRUME_BOOT_KERNEL_ARGS: 'console=ttyS0,115200',
      },
    });

    // The golden machine: a loop disk with known files, captured by the agent into the image's first revision.
    const image = await brume.api<{ id: string }>('POST', '/api/images', { name: 'pxe-image', type: 'n', compression: 3 });
    expect(image.status, image.text).toBe(201);
    imageId = image.body.id;
    const golden = await brume.api<{ id: string }>('POST', '/api/hosts', { name: 'golden', macs: [GOLDEN_MAC], imageId });
    expect(golden.status, golden.text).toBe(201);
    const source = await lab.makeDisk('golden', 96);
    ({ files } = await goldenDisk(lab, source, { count: 12 }));
    const capture = await taskWithToken(brume, golden.body.id, GOLDEN_MAC, 'capture');
    const agent = runAgent(goldenNs, `http://${GOLDEN_SERVER}:8080`, GOLDEN_MAC, capture, source, join(lab.dir, 'after-capture'));
    expect(await agent.exit, agent.output()).toBe(0);

    const vmHost = await brume.api<{ id: string }>('POST', '/api/hosts', { name: 'pxe-vm', macs: [VM_MAC], imageId });
    expect(vmHost.status, vmHost.text).toBe(201);
    vmHostId = vmHost.body.id;
  }, 900_000);

  afterAll(async () => {
    await vm?.stop({ keepFiles: false }).catch(() => {});
    await lab?.cleanup();
    await brume?.stop().catch(() => {});
    await goldenNs?.destroy();
    await ns?.destroy();
    if (vmDir) await rm(vmDir, { recursive: true, force: true });
  }, 60_000);

  it('boots the boot environment over the network, deploys to the VM\'s disk and powers off; the disk holds every file', async () => {
    const task = await brume.api<{ id: string }>('POST', '/api/tasks', { type: 'deploy', hostId: vmHostId, options: { afterTask: 'shutdown' } });
    expect(task.status, task.text).toBe(201);
    const taskId = task.body.id;
    const diskFile = join(vmDir, 'vm-disk.img');
    await sh('truncate', ['-s', '128M', diskFile]);
    vm = await bootVm({
      ns, tap: TAP, mac: VM_MAC, firmware: 'bios', memoryMb: 1024, maxLifetimeSeconds: Math.ceil(DEPLOY_TIMEOUT_MS / 1000) + 60,
      extraArgs: ['-drive', `file=${diskFile},format=raw,if=virtio`],
    });
    const state = async () => (await brume.api<{ state: string; reason: string | null }>('GET', `/api/tasks/${taskId}`)).body;
    try {
      await waitUntil('the VM to deploy its image', async () => ['complete', 'failed', 'cancelled'].includes((await state()).state), DEPLOY_TIMEOUT_MS, 2000);
      expect(await state(), vm.serial().slice(-4000)).toMatchObject({ state: 'complete' });
      await waitUntil('the VM to power itself off (afterTask shutdown)', async () => vm!.process.exitCode !== null || vm!.process.signalCode !== null, 90_000, 500);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- serial console (end) ---\n${vm.serial().slice(-6000)}\n--- brume (end) ---\n${brume.output().slice(-3000)}`);
    }
    const served = brume.requests().filter((r) => r.url.startsWith('/boot/env/') || r.url.startsWith('/api/client/'));
    expect(served.map((r) => r.url.replace(/tasks\/[^/]+/, 'tasks/:id'))).toEqual(expect.arrayContaining([
      '/boot/env/vmlinuz', '/boot/env/initrd.img', '/api/client/v1/tasks/:id/check-in', '/api/client/v1/tasks/:id/complete',
    ]));
    const serial = vm.serial();
    expect(serial).toMatch(/brume-agent: state=deployed/);

    const disk: Disk = await lab.attach(diskFile);
    await sh('partx', ['-u', disk.device]).catch(() => '');
    expect(await lab.filesOn(`${disk.device}p1`)).toEqual(files);
    const host = await brume.api<{ deployed: { imageId: string; revision: number }; inventory: Record<string, unknown> | null }>('GET', `/api/hosts/${vmHostId}`);
    expect(host.body.deployed).toMatchObject({ imageId, revision: 1 });
    expect(host.body.inventory).toMatchObject({ sysManufacturer: expect.stringMatching(/QEMU/i) });
  }, DEPLOY_TIMEOUT_MS + 120_000);
});
