import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrume, type BrumeServer } from './support/brume-server.ts';
import {
  DiskLab, goldenDisk, runAgent as runAgentIn, taskWithToken as newTask, type Disk,
} from './support/imaging-lab.ts';
import { connect, NetNamespace, sh, waitUntil } from './support/netns.ts';

/**
 * Capture and deploy through the real agent (infra/boot-env/agent) against
 * the real server, in two namespaces joined by a veth pair: the client side
 * carries the host's MAC, so the server's neighbour check sees the machine
 * it expects. Disks are loop devices over sparse files: a 256 MB source with
 * a raw partition and an ext4 filesystem of known files, and a smaller
 * 160 MB target. Then the failures: an upload cut half-way, a cancel during
 * a deploy, and the server killed mid-deploy and restarted.
 */

const MAC = '52:54:00:4b:00:01';
const SERVER = '192.0.2.1';
const CLIENT = '192.0.2.10';

describe('capture and deploy through the agent', () => {
  let lab: DiskLab;
  let serverNs: NetNamespace;
  let clientNs: NetNamespace;
  let brume: BrumeServer;
  let dataDir: string;
  let adminPassword: string;
  let source: Disk;
  /** Relative path -> sha256 of every file written to the source filesystem. */
  let files = new Map<string, string>();
  let rawSha: string | null = null;
  let hostId = '';
  let imageId = '';

  const makeDisk = (name: string, megabytes: number) => lab.makeDisk(name, megabytes);
  const sourceFilesMatch = async (device: string) => expect(await lab.filesOn(device)).toEqual(files);
  const taskWithToken = (type: string) => newTask(brume, hostId, MAC, type);
  const runAgent = (task: { taskId: string; token: string }, disk: Disk) =>
    runAgentIn(clientNs, `http://${SERVER}:8080`, MAC, task, disk, join(lab.dir, `after-${task.taskId}`));

  async function startServer(reuse = false): Promise<void> {
    brume = await startBrume({
      ns: serverNs, address: SERVER, dhcpMode: 'off', tftp: false,
      ...(reuse ? { dataDir, adminPassword } : {}),
      env: { BRUME_LOG_LEVEL: 'warn', BRUME_PROGRESS_EVENT_SECONDS: '2', BRUME_STALE_TASK_MINUTES: '1' },
    });
    dataDir = brume.dataDir;
    adminPassword = brume.adminPassword;
  }

  async function taskOf(taskId: string) {
    return (await brume.api<{ state: string; reason: string | null; progress: { bytesDone: number } | null }>('GET', `/api/tasks/${taskId}`)).body;
  }

  /** Limits the link both ways (uploads leave the client, downloads the server) so a transfer lasts long enough to interrupt. */
  async function throttle(rate: string | null): Promise<void> {
    for (const [ns, device] of [[clientNs, 'veth-b'], [serverNs, 'veth-a']] as const) {
      await ns.exec('tc', ['qdisc', 'del', 'dev', device, 'root']).catch(() => '');
      if (rate) await ns.exec('tc', ['qdisc', 'add', 'dev', device, 'root', 'tbf', 'rate', rate, 'burst', '64kb', 'latency', '400ms']);
    }
  }

  beforeAll(async () => {
    serverNs = await NetNamespace.create('img-srv');
    clientNs = await NetNamespace.create('img-cli');
    await connect(serverNs, `${SERVER}/24`, clientNs, `${CLIENT}/24`);
    await clientNs.exec('ip', ['link', 'set', 'veth-b', 'down']);
    await clientNs.exec('ip', ['link', 'set', 'veth-b', 'address', MAC]);
    await clientNs.exec('ip', ['link', 'set', 'veth-b', 'up']);
    await startServer();

    // The source disk: a raw partition (unknown to partclone: saved with partclone.dd) and ext4 with known files.
    lab = await DiskLab.create();
    source = await lab.makeDisk('source', 256);
    ({ files, rawSha } = await goldenDisk(lab, source, { rawMegabytes: 8, count: 24 }));

    const image = await brume.api<{ id: string }>('POST', '/api/images', { name: 'e2e-image', type: 'n', compression: 3 });
    expect(image.status, image.text).toBe(201);
    imageId = image.body.id;
  }, 120_000);

  afterAll(async () => {
    await lab?.cleanup();
    await brume?.stop().catch(() => {});
    await clientNs?.destroy();
    await serverNs?.destroy();
    if (dataDir) await sh('rm', ['-rf', dataDir]).catch(() => '');
  }, 60_000);

  /** The agent in a boot-menu mode (no task, no token) as the client machine. */
  function runMenuMode(mode: 'quick-register' | 'inventory') {
    return runAgentIn(clientNs, `http://${SERVER}:8080`, MAC, { taskId: '', token: '' }, source, join(lab.dir, `after-${mode}`), ['--mode', mode]);
  }

  it('registers the unknown machine from the boot menu (quick registration), with its inventory', async () => {
    const agent = runMenuMode('quick-register');
    expect(await agent.exit, agent.output()).toBe(0);
    expect(agent.output()).toMatch(/state=registered host=pc-5254004b0001/);
    const hosts = await brume.api<{ items: { id: string; name: string; inventory: Record<string, unknown> | null }[] }>('GET', `/api/hosts?q=${MAC}`);
    expect(hosts.body.items).toHaveLength(1);
    expect(hosts.body.items[0]).toMatchObject({ name: 'pc-5254004b0001', inventory: { memory: expect.any(String) } });
    hostId = hosts.body.items[0]!.id;
    const withImage = await brume.api('PATCH', `/api/hosts/${hostId}`, { imageId });
    expect(withImage.status, withImage.text).toBe(200);
    // Registered now: the menu's inventory entry reports again; registering twice is refused with the host's name.
    const inventory = runMenuMode('inventory');
    expect(await inventory.exit, inventory.output()).toBe(0);
    const again = runMenuMode('quick-register');
    expect(await again.exit).toBe(1);
    expect(again.output()).toMatch(/already registered as pc-5254004b0001/);
  }, 120_000);

  it('captures the source disk into a new revision and leaves the disk as it was', async () => {
    const task = await taskWithToken('capture');
    const agent = runAgent(task, source);
    const code = await agent.exit;
    expect(code, agent.output()).toBe(0);
    expect(await taskOf(task.taskId)).toMatchObject({ state: 'complete' });
    const image = await brume.api<{ currentRevision: number; sizeBytes: number }>('GET', `/api/images/${imageId}`);
    expect(image.body.currentRevision).toBe(1);
    await sourceFilesMatch(`${source.device}p2`);
    expect(await sh('cat', [join(lab.dir, `after-${task.taskId}`)])).toBe('stay\n');
  }, 300_000);

  it('deploys the image to a smaller blank disk, every file intact', async () => {
    const target = await makeDisk('target', 160);
    const task = await taskWithToken('deploy');
    const agent = runAgent(task, target);
    const code = await agent.exit;
    expect(code, agent.output()).toBe(0);
    expect(await taskOf(task.taskId)).toMatchObject({ state: 'complete' });
    await sh('partx', ['-u', target.device]).catch(() => '');
    await sourceFilesMatch(`${target.device}p2`);
    const raw = await sh('sh', ['-c', `head -c 1048576 ${target.device}p1 | sha256sum`]);
    expect(raw.split(' ')[0]).toBe(rawSha);
    const host = await brume.api<{ deployed: { revision: number } }>('GET', `/api/hosts/${hostId}`);
    expect(host.body.deployed).toMatchObject({ imageId, revision: 1 });
  }, 300_000);

  it('deploys from the boot menu\'s "deploy an image" entry: an operator signs in, the agent makes the task and runs it', async () => {
    const target = await makeDisk('menu-deploy', 160);
    const agent = runAgentIn(clientNs, `http://${SERVER}:8080`, MAC, { taskId: '', token: '' }, target, join(lab.dir, 'after-menu-deploy'),
      ['--mode', 'deploy-image', '--image', imageId], { BRUME_USERNAME: 'admin', BRUME_PASSWORD: adminPassword });
    expect(await agent.exit, agent.output()).toBe(0);
    const taskId = /state=task-created task=(\S+)/.exec(agent.output())?.[1];
    expect(taskId, agent.output()).toBeDefined();
    const task = (await brume.api<{ state: string; createdBy: string }>('GET', `/api/tasks/${taskId}`)).body;
    expect(task.state).toBe('complete');
    await sh('partx', ['-u', target.device]).catch(() => '');
    await sourceFilesMatch(`${target.device}p2`);
    const wrong = runAgentIn(clientNs, `http://${SERVER}:8080`, MAC, { taskId: '', token: '' }, target, join(lab.dir, 'after-menu-deploy-2'),
      ['--mode', 'deploy-image', '--image', imageId], { BRUME_USERNAME: 'admin', BRUME_PASSWORD: 'not-the-password' });
    expect(await wrong.exit).toBe(1);
    expect(wrong.output()).toMatch(/sign-in refused \(HTTP 401\)/);
  }, 300_000);

  it('says clearly when the image does not fit the disk, and fails the task', async () => {
    const tiny = await makeDisk('tiny', 24);
    const task = await taskWithToken('deploy');
    const agent = runAgent(task, tiny);
    expect(await agent.exit).toBe(1);
    expect(agent.output()).toMatch(/does not fit|too small/i);
    expect(await taskOf(task.taskId)).toMatchObject({ state: 'failed', reason: expect.stringMatching(/fit|small/i) });
  }, 120_000);

  it('fails a capture cut off half-way (the machine died mid-upload) and keeps the current revision intact', async () => {
    const task = await taskWithToken('capture');
    await throttle('16mbit');
    const agent = runAgent(task, source);
    try {
      // Power cut during the upload of the ext4 partition: every process of the client dies at once.
      await waitUntil('the agent to upload the ext4 partition', async () => {
        const pids = (await sh('ip', ['netns', 'pids', clientNs.name])).split(/\s+/).filter(Boolean);
        const commands = await Promise.all(pids.map(async (pid) => [pid, await sh('cat', [`/proc/${pid}/cmdline`]).catch(() => '')] as const));
        if (!commands.some(([, cmd]) => cmd.startsWith('curl') && cmd.includes('capture/files/part2'))) return false;
        for (const [pid] of commands) { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ } }
        return true;
      }, 120_000, 200);
      await agent.exit;
    } finally {
      await throttle(null);
    }
    const incoming = join(dataDir, 'images', imageId, `${task.taskId}.incoming`);
    const arrived = await readdir(incoming).catch(() => [] as string[]);
    expect(arrived, 'a cut-off file never appears under its own name').not.toContain('part2.img.zst');
    // Nobody reports for the task any more: the server fails it (BRUME_STALE_TASK_MINUTES=1) and sweeps the partial capture.
    await waitUntil('the silent capture to fail', async () => (await taskOf(task.taskId)).state === 'failed', 150_000, 2000);
    expect((await taskOf(task.taskId)).reason).toMatch(/stopped reporting.*last: upload of part2\.img\.zst was cut off/);
    await waitUntil('the partial capture to be swept', async () => !(await readdir(join(dataDir, 'images', imageId))).some((n) => n.endsWith('.incoming')), 30_000, 1000);
    const image = await brume.api<{ currentRevision: number }>('GET', `/api/images/${imageId}`);
    expect(image.body.currentRevision).toBe(1);
    await sourceFilesMatch(`${source.device}p2`);
  }, 300_000);

  it('stops a deploy cancelled mid-transfer and frees its slot', async () => {
    const target = await makeDisk('cancelled', 160);
    const task = await taskWithToken('deploy');
    await throttle('16mbit');
    const agent = runAgent(task, target);
    try {
      await waitUntil('the deploy to report progress', async () => ((await taskOf(task.taskId)).progress?.bytesDone ?? 0) > 0, 120_000, 500);
      const cancel = await brume.api('POST', `/api/tasks/${task.taskId}/cancel`, { reason: 'e2e: wrong machine' });
      expect(cancel.status, cancel.text).toBe(200);
      expect(await agent.exit, agent.output()).toBe(3);
    } finally {
      await throttle(null);
    }
    expect(await taskOf(task.taskId)).toMatchObject({ state: 'cancelled', reason: 'e2e: wrong machine' });
    const queue = await brume.api<{ events: { type: string; data: { taskId: string } }[] }>('GET', '/api/events?stream=slot-queue-default&limit=500');
    expect(queue.body.events.filter((e) => e.data.taskId === task.taskId).map((e) => e.type)).toEqual(['SlotQueueJoined', 'SlotGranted', 'SlotReleased']);
  }, 300_000);

  it('survives the server being killed mid-deploy: the agent resumes after the restart and the disk is intact', async () => {
    const target = await makeDisk('restart', 160);
    const task = await taskWithToken('deploy');
    await throttle('24mbit');
    const agent = runAgent(task, target);
    try {
      await waitUntil('the deploy to report progress', async () => ((await taskOf(task.taskId)).progress?.bytesDone ?? 0) > 0, 120_000, 500);
      type Events = { events: { globalPosition: number }[] };
      const before = await brume.api<Events>('GET', `/api/events?stream=task-${task.taskId}&limit=500`);
      await brume.kill();
      await new Promise((r) => setTimeout(r, 3000));
      await startServer(true);
      // Nothing the first server acknowledged is lost.
      const after = await brume.api<Events>('GET', `/api/events?stream=task-${task.taskId}&limit=500`);
      expect(before.body.events.length).toBeGreaterThan(1);
      expect(after.body.events.slice(0, before.body.events.length)).toEqual(before.body.events);
      const code = await agent.exit;
      expect(code, agent.output()).toBe(0);
    } finally {
      await throttle(null);
    }
    expect(await taskOf(task.taskId)).toMatchObject({ state: 'complete' });
    await sh('partx', ['-u', target.device]).catch(() => '');
    await sourceFilesMatch(`${target.device}p2`);
  }, 400_000);
});

