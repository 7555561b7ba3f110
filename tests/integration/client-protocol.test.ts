import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BOOT_HTTP_CONFIG } from '../../adapters/http/routes/boot.ts';
import { openApiHarness, type ApiClient, type ApiHarness } from '../../adapters/http/testing.ts';
import { loadKernelSend } from '../../adapters/image-store/kernel-send.ts';
import { imagingConfigFromEnv } from '../../adapters/imaging/imaging-config.ts';
import { DeadlineWatcher } from '../../adapters/runtime/deadline-watcher.ts';
import { BACKENDS, freshDatabase } from '../support/databases.ts';

const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const MAC = (n: number) => `52:54:00:c1:00:${n.toString(16).padStart(2, '0')}`;

/** A booted client as the agent is: its task, token and MAC, talking to the client API. */
class Client {
  constructor(private readonly api: ApiHarness, readonly taskId: string, readonly token: string, readonly mac: string) {}

  private headers(extra: Record<string, string> = {}) {
    return { authorization: `Bearer ${this.token}`, 'x-brume-mac': this.mac, ...extra };
  }

  async call(method: string, path: string, body?: unknown) {
    const url = `/api/client/v1/tasks/${this.taskId}${path}`;
    const response = await this.api.app.inject({
      method: method as 'POST', url, headers: this.headers(body === undefined || Buffer.isBuffer(body) ? {} : { 'content-type': 'application/json' }),
      ...(body === undefined ? {} : { payload: Buffer.isBuffer(body) ? body : JSON.stringify(body) }),
    });
    let json: any;
    try { json = JSON.parse(response.body); } catch { json = undefined; }
    return { status: response.statusCode, body: json, raw: response.rawPayload, headers: response.headers };
  }

  async getRange(name: string, range: string) {
    return this.api.app.inject({ method: 'GET', url: `/api/client/v1/tasks/${this.taskId}/image/files/${name}`, headers: this.headers({ range }) });
  }
}

const kernel = loadKernelSend();
if (!kernel.ok) console.warn(`SKIPPED: the client protocol with deploy files sent by sendfile: ${kernel.reason}`);
/** Deploy files go out by sendfile (the default) on both backends, and once through a file sender process, the fallback. */
const CASES = [
  ...BACKENDS.map((b) => ({ ...b, skip: b.skip || !kernel.ok, sending: 'sendfile' as const })),
  { backend: 'pglite' as const, skip: false, sending: 'a file sender' as const },
];

describe.each(CASES)('the booted client\'s protocol on $backend, deploy files sent by $sending', ({ backend, skip, sending }) => {
  let api: ApiHarness;
  let operator: ApiClient;
  let imagesDir: string;
  let imageId: string;
  const table = Buffer.from('label: gpt\nunit: sectors\n/dev/vda1 : start=2048, size=204800, type=0FC63DAF-8483-4772-8E79-3D69D845E477\n');
  const part = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < part.length; i++) part[i] = (i * 7919) % 251;

  const manifest = (files: { name: string; data: Buffer }[]) => ({
    format: 'brume-image/1', imageType: 'n',
    disk: { sizeBytes: 256 * 1024 * 1024, sectorSize: 512, label: 'gpt' },
    partitionTable: 'table.sfdisk',
    partitions: [{ number: 1, device: 'p1', startSector: 2048, sizeSectors: 204800, filesystem: 'ext4', tool: 'partclone.ext4', file: 'part1.img.zst', imageBytes: 5_000_000, minSizeBytes: 40_000_000, resizable: true }],
    files: files.map((f) => ({ name: f.name, sizeBytes: f.data.length, sha256: sha(f.data) })),
  });

  /** Registers a host with a task and boots it: the token comes from its iPXE script, as on a real machine. */
  async function bootWithTask(n: number, type: string, options: Record<string, unknown> = {}): Promise<Client> {
    const host = await operator.post('/api/hosts', { name: `client-${n}`, macs: [MAC(n)], imageId });
    expect(host.status, host.text).toBe(201);
    const task = await operator.post('/api/tasks', { type, hostId: host.body.id, options });
    expect(task.status, task.text).toBe(201);
    const taskId = task.body.id ?? task.body.taskId;
    const script = await api.as('anonymous').get('/boot/ipxe', { mac: MAC(n), arch: 'x86_64', platform: 'efi' });
    const token = /brume\.token=(\S+)/.exec(script.text)?.[1];
    expect(token, script.text).toBeDefined();
    return new Client(api, taskId, token!, MAC(n));
  }

  async function taskView(taskId: string) {
    await api.brume.readModels.catchUp();
    return (await operator.get(`/api/tasks/${taskId}`)).body;
  }

  beforeAll(async () => {
    if (skip) return;
    imagesDir = mkdtempSync(join(tmpdir(), 'brume-images-'));
    api = await openApiHarness({
      ...(backend === 'postgres' ? await freshDatabase('postgres') : {}),
      http: { boot: { ...DEFAULT_BOOT_HTTP_CONFIG, httpBaseUrl: 'http://192.0.2.1:8080' } },
      // Without sendfile, every file over a real connection goes through a sender process (localFileTransfers 0).
      imaging: {
        ...imagingConfigFromEnv({}, imagesDir), imagesDir, defaultMaxClients: 2, progressEventSeconds: 3600,
        ...(sending === 'sendfile' ? { sendfile: true } : { sendfile: false, fileSenders: 1, localFileTransfers: 0 }),
      },
    });
    operator = api.as('operator');
    const image = await api.as('admin').post('/api/images', { name: 'lab-image' });
    expect(image.status, image.text).toBe(201);
    imageId = image.body.id;
  });
  afterAll(async () => {
    await api?.close();
    if (imagesDir) rmSync(imagesDir, { recursive: true, force: true });
  });

  it.skipIf(skip)('given a client without the task\'s token or from another MAC, when it calls, then it is refused with 401 or 403', async () => {
    const client = await bootWithTask(1, 'inventory');
    const stranger = new Client(api, client.taskId, 'not-the-token-at-all', client.mac);
    expect((await stranger.call('POST', '/check-in', {})).status).toBe(401);
    const otherTask = new Client(api, 'no-such-task', client.token, client.mac);
    expect((await otherTask.call('POST', '/check-in', {})).status).toBe(401);
    const otherMac = new Client(api, client.taskId, client.token, MAC(99));
    const refused = await otherMac.call('POST', '/check-in', {});
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/is not a MAC of task/);
    // The rightful client gets in, sends its inventory and completes.
    expect((await client.call('POST', '/check-in', {})).body).toMatchObject({ action: 'go', task: { type: 'inventory', direction: null } });
    expect((await client.call('POST', '/inventory', { sysManufacturer: 'QEMU', memory: '2 GiB', disks: ['vda 64 GB'] })).status).toBe(200);
    expect((await client.call('POST', '/complete', {})).body).toEqual({ afterTask: 'reboot' });
    expect((await taskView(client.taskId)).state).toBe('complete');
    // The token died with its task: a later call is told the task is over, not let in.
    expect((await client.call('POST', '/check-in', {})).body).toMatchObject({ action: 'stop' });
  });

  it.skipIf(skip)('given a capture, when the client sends its files and manifest, then the revision is committed only if every digest matches', async () => {
    const client = await bootWithTask(2, 'capture');
    const go = await client.call('POST', '/check-in', {});
    expect(go.body).toMatchObject({ action: 'go', task: { type: 'capture', direction: 'up', imageId, imageType: 'n', compression: 6 } });
    expect((await client.call('PUT', '/capture/files/table.sfdisk', table)).body).toEqual({ name: 'table.sfdisk', sizeBytes: table.length, sha256: sha(table) });
    expect((await client.call('PUT', '/capture/files/part1.img.zst', part)).body).toMatchObject({ sizeBytes: part.length, sha256: sha(part) });
    expect((await client.call('PUT', '/capture/files/..%2fescape', table)).status).toBe(400);

    const wrong = manifest([{ name: 'table.sfdisk', data: table }, { name: 'part1.img.zst', data: Buffer.from('other bytes') }]);
    const refused = await client.call("POST", "/complete", { manifest: wrong });
    expect(refused.status).toBe(422);
    expect(refused.body.message).toMatch(/part1\.img\.zst/);
    expect((await api.as('admin').get(`/api/images/${imageId}`)).body.currentRevision ?? null).toBeNull();

    const right = await client.call('POST', '/complete', { manifest: manifest([{ name: 'table.sfdisk', data: table }, { name: 'part1.img.zst', data: part }]) });
    expect(right.status, JSON.stringify(right.body)).toBe(200);
    await api.brume.readModels.catchUp();
    const image = (await api.as('admin').get(`/api/images/${imageId}`)).body;
    expect(image).toMatchObject({ currentRevision: 1, sizeBytes: table.length + part.length });
    expect(readdirSync(join(imagesDir, imageId))).toEqual([client.taskId]);
    expect((await taskView(client.taskId)).state).toBe('complete');
  });

  it.skipIf(skip)('given a capture upload cut off half-way on a real socket, then nothing of it is kept under its name', async () => {
    const client = await bootWithTask(4, 'capture');
    expect((await client.call('POST', '/check-in', {})).body.action).toBe('go');
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = api.app.server.address() as AddressInfo;
    for (const framing of ['chunked', 'length'] as const) {
      const socket = connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      const head = [`PUT /api/client/v1/tasks/${client.taskId}/capture/files/part9.img.zst HTTP/1.1`, 'Host: x',
        `Authorization: Bearer ${client.token}`, `X-Brume-Mac: ${client.mac}`, 'Content-Type: application/octet-stream',
        framing === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${part.length}`, '', ''].join('\r\n');
      socket.write(head);
      const half = part.subarray(0, 1_000_000);
      socket.write(framing === 'chunked' ? Buffer.concat([Buffer.from(`${half.length.toString(16)}\r\n`), half, Buffer.from('\r\n')]) : half);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const incoming = join(imagesDir, imageId, `${client.taskId}.incoming`);
      const partial = () => readdirSync(incoming).filter((n) => n.includes('part9'));
      expect(partial(), 'the upload is under way').toEqual(['.part9.img.zst.part']);
      socket.end(); // the machine went away: a clean FIN, no terminating chunk, fewer bytes than announced
      for (let i = 0; i < 50 && partial().length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
      socket.destroy();
      expect(partial(), framing).toEqual([]);
    }
    // Its report frees the slot and drops what it had sent.
    expect((await client.call('POST', '/fail', { reason: 'upload cut off', command: 'curl -T -', output: 'connection reset' })).status).toBe(200);
    expect(readdirSync(join(imagesDir, imageId)).filter((n) => n.endsWith('.incoming'))).toEqual([]);
  });

  it.skipIf(skip)('given a capture cancelled mid-transfer, then its client is told to stop, its files are swept and the current revision stays', async () => {
    const client = await bootWithTask(5, 'capture');
    expect((await client.call('POST', '/check-in', {})).body.action).toBe('go');
    expect((await client.call('PUT', '/capture/files/table.sfdisk', table)).status).toBe(200);
    expect((await operator.post(`/api/tasks/${client.taskId}/cancel`, { reason: 'captured the wrong machine' })).status).toBe(200);
    await api.brume.readModels.catchUp();
    expect((await client.call('POST', '/progress', { bytesDone: 1, bytesTotal: 2, rateBytesPerSecond: 1, partition: 'part1' })).body)
      .toMatchObject({ action: 'stop', reason: 'task is cancelled' });
    expect((await client.call('PUT', '/capture/files/part1.img.zst', part)).status).toBe(409);
    expect((await client.call('POST', '/complete', { manifest: manifest([{ name: 'table.sfdisk', data: table }]) })).status).toBe(409);
    await new DeadlineWatcher(api.brume, 60_000).tick();
    expect(readdirSync(join(imagesDir, imageId)).filter((n) => n.endsWith('.incoming'))).toEqual([]);
    expect((await api.as('admin').get(`/api/images/${imageId}`)).body.currentRevision).toBe(1);
  });

  it.skipIf(skip)('given a committed image, when a client deploys it, then it gets the pinned manifest and the files, whole or from a byte offset', async () => {
    const client = await bootWithTask(3, 'deploy');
    const go = await client.call('POST', '/check-in', {});
    expect(go.body).toMatchObject({ action: 'go', task: { direction: 'down', imageRevision: 1 }, image: { revision: 1, partitionTable: 'table.sfdisk' } });
    const whole = await client.call('GET', '/image/files/part1.img.zst');
    expect(whole.status).toBe(200);
    expect(whole.headers['x-brume-sha256']).toBe(sha(part));
    expect(sha(whole.raw)).toBe(sha(part));
    const tail = await client.getRange('part1.img.zst', 'bytes=1000000-');
    expect(tail.statusCode).toBe(206);
    expect(tail.headers['content-range']).toBe(`bytes 1000000-${part.length - 1}/${part.length}`);
    expect(Buffer.compare(tail.rawPayload, part.subarray(1_000_000))).toBe(0);
    expect((await client.getRange('part1.img.zst', `bytes=${part.length}-`)).statusCode).toBe(416);
    // Over a real connection the file goes out by sendfile or from a sender process: the same bytes, whole or from an offset.
    expect(api.brume.deploySending).toMatch(sending === 'sendfile' ? /^sent by the kernel/ : /^copied through Node/);
    await api.app.listen({ host: '127.0.0.1', port: 0 }).catch(() => undefined);
    const { port } = api.app.server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}/api/client/v1/tasks/${client.taskId}/image/files/part1.img.zst`;
    const auth = { authorization: `Bearer ${client.token}`, 'x-brume-mac': client.mac };
    const overSocket = await fetch(url, { headers: auth });
    expect(overSocket.status).toBe(200);
    expect(overSocket.headers.get('x-brume-sha256')).toBe(sha(part));
    expect(sha(Buffer.from(await overSocket.arrayBuffer()))).toBe(sha(part));
    const fromOffset = await fetch(url, { headers: { ...auth, range: 'bytes=2000000-' } });
    expect(fromOffset.status).toBe(206);
    expect(fromOffset.headers.get('content-range')).toBe(`bytes 2000000-${part.length - 1}/${part.length}`);
    expect(Buffer.compare(Buffer.from(await fromOffset.arrayBuffer()), part.subarray(2_000_000))).toBe(0);

    expect((await client.call('POST', '/progress', { bytesDone: 10, bytesTotal: 100, rateBytesPerSecond: 5, partition: 'part1' })).body).toEqual({ action: 'continue' });
    expect((await taskView(client.taskId)).progress).toMatchObject({ bytesDone: 10, bytesTotal: 100, etaSeconds: 18, partition: 'part1', live: true });
    // Reports between two TaskProgressed events are what the API shows: they are checked as strictly.
    const garbled = await client.call('POST', '/progress', { bytesDone: 'lots', bytesTotal: 100, rateBytesPerSecond: 5 });
    expect(garbled.status).toBe(400);
    expect(garbled.body).toMatchObject({ error: 'validation', field: 'bytesDone' });
    expect((await taskView(client.taskId)).progress).toMatchObject({ bytesDone: 10, live: true });
    expect((await client.call('POST', '/complete', {})).status).toBe(200);
    await api.brume.readModels.catchUp();
    const host = (await operator.get(`/api/hosts/${(await taskView(client.taskId)).hostId}`)).body;
    expect(host.deployed).toMatchObject({ imageId, revision: 1 });
    const events = await api.brume.store.readStream(`task-${client.taskId}`);
    expect(events.events.at(-1)).toMatchObject({ type: 'TaskCompleted', data: { imageId, imageRevision: 1 } });
  });

  it.skipIf(skip)('given two revisions, when an admin deletes the older one, then its files go and the current one cannot be deleted', async () => {
    const client = await bootWithTask(6, 'capture');
    expect((await client.call('POST', '/check-in', {})).body.action).toBe('go');
    for (const [name, data] of [['table.sfdisk', table], ['part1.img.zst', part]] as const) await client.call('PUT', `/capture/files/${name}`, data);
    expect((await client.call('POST', '/complete', { manifest: manifest([{ name: 'table.sfdisk', data: table }, { name: 'part1.img.zst', data: part }]) })).status).toBe(200);
    const admin = api.as('admin');
    const listed = (await admin.get(`/api/images/${imageId}/revisions`)).body;
    expect(listed.current).toBe(2);
    expect(listed.revisions.map((r: { revision: number }) => r.revision)).toEqual([1, 2]);
    const first = listed.revisions[0].capturedByTaskId as string;
    expect(readdirSync(join(imagesDir, imageId))).toContain(first);
    expect((await operator.delete(`/api/images/${imageId}/revisions/1`)).status).toBe(403);
    const current = await admin.delete(`/api/images/${imageId}/revisions/2`);
    expect(current.status).toBe(409);
    expect(current.body.message).toMatch(/current one/);
    expect((await admin.delete(`/api/images/${imageId}/revisions/1`)).status).toBe(204);
    expect(readdirSync(join(imagesDir, imageId))).not.toContain(first);
    expect((await admin.get(`/api/images/${imageId}/revisions`)).body.revisions.map((r: { revision: number }) => r.revision)).toEqual([2]);
    expect((await admin.delete(`/api/images/${imageId}/revisions/1`)).status).toBe(404);
  });

  it.skipIf(skip)('given more deploys than slots, when clients check in, then the first come get slots, the rest wait in order and go as slots free', async () => {
    const clients = [];
    for (const n of [10, 11, 12, 13]) clients.push(await bootWithTask(n, 'deploy'));
    const [a, b, c, d] = clients as [Client, Client, Client, Client];
    expect((await a.call('POST', '/check-in', {})).body.action).toBe('go');
    expect((await b.call('POST', '/check-in', {})).body.action).toBe('go');
    const cWaits = (await c.call('POST', '/check-in', {})).body;
    expect(cWaits).toMatchObject({ action: 'wait', ahead: 0, pollSeconds: 5 });
    expect(cWaits.message).toMatch(/No free slot on storage node brume \(2 of 2 in use\): 0 machines before you/);
    expect((await d.call('POST', '/check-in', {})).body).toMatchObject({ action: 'wait', ahead: 1 });
    // A slot frees when a task fails; the earliest waiting client takes it, the later one still waits.
    expect((await a.call('POST', '/fail', { reason: 'disk on fire', command: 'partclone.restore', output: 'I/O error' })).status).toBe(200);
    expect((await d.call('POST', '/check-in', {})).body).toMatchObject({ action: 'wait', ahead: 1 });
    expect((await c.call('POST', '/check-in', {})).body.action).toBe('go');
    // Cancelling a working client: its next report says stop, and its slot goes to the next in line.
    expect((await operator.post(`/api/tasks/${b.taskId}/cancel`, { reason: 'wrong room' })).status).toBe(200);
    expect((await b.call('POST', '/progress', { bytesDone: 1, bytesTotal: 2, rateBytesPerSecond: 1, partition: 'part1' })).body)
      .toMatchObject({ action: 'stop', reason: expect.stringMatching(/cancelled/) });
    expect((await d.call('POST', '/check-in', {})).body.action).toBe('go');
    const queue = await api.brume.store.readStream('slot-queue-default');
    const name = new Map([[a.taskId, 'a'], [b.taskId, 'b'], [c.taskId, 'c'], [d.taskId, 'd']]);
    expect(queue.events.filter((e) => name.has((e.data as { taskId: string }).taskId))
      .map((e) => `${e.type} ${name.get((e.data as { taskId: string }).taskId)}`)).toEqual([
      'SlotQueueJoined a', 'SlotGranted a', 'SlotQueueJoined b', 'SlotGranted b', 'SlotQueueJoined c', 'SlotQueueJoined d',
      'SlotReleased a', 'SlotGranted c', 'SlotReleased b', 'SlotGranted d',
    ]);
    expect((await taskView(a.taskId))).toMatchObject({ state: 'failed', reason: 'disk on fire' });
  });

  it.skipIf(skip)('given a waiting client that polls often, when it polls, then the log gains no event per poll', async () => {
    const blockers = [await bootWithTask(20, 'deploy'), await bootWithTask(21, 'deploy')];
    for (const blocker of blockers) await blocker.call('POST', '/check-in', {});
    const waiting = await bootWithTask(22, 'deploy');
    await waiting.call('POST', '/check-in', {});
    const before = (await api.brume.store.readStream(`task-${waiting.taskId}`)).version;
    for (let i = 0; i < 5; i++) expect((await waiting.call('POST', '/check-in', {})).body.action).toBe('wait');
    expect((await api.brume.store.readStream(`task-${waiting.taskId}`)).version).toBe(before);
    // It stops polling: past its deadline it loses its place and the task waits for a new check-in.
    await api.brume.readModels.catchUp();
    const later = new Date(Date.now() + 11 * 60_000);
    expect(await new DeadlineWatcher(api.brume, 60_000, () => later).tick()).toBeGreaterThanOrEqual(1);
    expect((await taskView(waiting.taskId)).state).toBe('queued');
    const queue = await api.brume.store.readStream('slot-queue-default');
    expect(queue.events.filter((e) => (e.data as { taskId: string }).taskId === waiting.taskId).map((e) => e.type))
      .toEqual(['SlotQueueJoined', 'SlotQueueLeft']);
    // Polling again puts it back in line, at the end.
    expect((await waiting.call('POST', '/check-in', {})).body).toMatchObject({ action: 'wait' });
  });
});
