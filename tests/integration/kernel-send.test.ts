import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageFileReader, ImageStoreError } from '../../adapters/image-store/image-store.ts';
import { loadKernelSend, type KernelSend } from '../../adapters/image-store/kernel-send.ts';

const kernel = loadKernelSend();
if (!kernel.ok) console.warn(`SKIPPED: deploy files sent by sendfile: ${kernel.reason}`);

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const openFds = () => readdirSync('/proc/self/fd').length;

/** A raw HTTP/1.1 exchange: the whole answer as bytes, read as slowly as `pauseMs` says after the first bytes. */
function fetchRaw(port: number, requests: string[], options: { pauseMs?: number; hangUpAfter?: number } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let received = 0;
    let paused = false;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (options.hangUpAfter !== undefined && received >= options.hangUpAfter) socket.destroy();
      if (options.pauseMs && !paused) {
        // Stop reading: the socket's buffers fill and sendfile has to wait for room.
        paused = true;
        socket.pause();
        setTimeout(() => socket.resume(), options.pauseMs);
      }
    });
    // Resolved once the client's descriptor is closed too, so that tests counting descriptors see it gone.
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
    socket.write(requests.join(''));
  });
}

/** Splits a raw answer into its head and body (one answer of `content-length` bytes). */
function splitAnswer(raw: Buffer): { head: string; body: Buffer; rest: Buffer } {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end).toString('latin1');
  const length = Number(/content-length: (\d+)/i.exec(head)?.[1]);
  return { head, body: raw.subarray(end + 4, end + 4 + length), rest: raw.subarray(end + 4 + length) };
}

describe.skipIf(!kernel.ok)('deploy files sent by sendfile over real connections', () => {
  const send = kernel.ok ? kernel.send : (null as unknown as KernelSend);
  let dir: string;
  let path: string;
  let data: Buffer;
  let server: Server;
  let port: number;
  /** What the last transfer's writeTo ended with. */
  let outcomes: Promise<unknown>[] = [];
  /** Set by a test to change the file between its opening and its sending. */
  let beforeSend: (() => void) | null = null;

  /** Waits until the server has closed every connection (the last test's may still be closing). */
  async function noConnections() {
    for (let i = 0; i < 100; i++) {
      const count = await new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n)));
      if (count === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('the server still has connections open');
  }

  async function answer(range: { start: number; end: number }, res: ServerResponse) {
    const handle = await open(path, 'r');
    const reader = new ImageFileReader(handle, { name: 'part1.img.zst', sizeBytes: data.length, sha256: sha(data) }, path, range.start, range.end, send);
    beforeSend?.();
    const outcome = reader.writeTo(res, () => res.writeHead(range.start === 0 ? 200 : 206, { 'content-length': reader.length, 'content-type': 'application/octet-stream' }))
      .then(() => 'sent', (error: unknown) => {
        res.destroy();
        return error;
      })
      .finally(() => reader.close());
    outcomes.push(outcome);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'brume-kernel-send-'));
    path = join(dir, 'part1.img.zst');
    // Larger than the socket buffers many times over, so the thread waits for room again and again.
    data = randomBytes(24 * 1024 * 1024 + 13);
    writeFileSync(path, data);
    server = createServer((req, res) => {
      const from = /bytes=(\d+)-/.exec(req.headers.range ?? '');
      void answer({ start: from ? Number(from[1]) : 0, end: data.length - 1 }, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('given a client that reads slowly, when it asks twice on one connection, then both answers are whole and in order', async () => {
    outcomes = [];
    const get = (range?: string) => `GET /f HTTP/1.1\r\nhost: x\r\n${range ? `range: ${range}\r\n` : ''}\r\n`;
    const raw = await fetchRaw(port, [get(), get('bytes=5000000-'), 'GET /f HTTP/1.1\r\nhost: x\r\nconnection: close\r\nrange: bytes=100-\r\n\r\n'], { pauseMs: 300 });
    const first = splitAnswer(raw);
    expect(first.head).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(first.head).toMatch(/keep-alive/i);
    expect(sha(first.body)).toBe(sha(data));
    const second = splitAnswer(first.rest);
    expect(second.head).toMatch(/^HTTP\/1\.1 206/);
    expect(Buffer.compare(second.body, data.subarray(5_000_000))).toBe(0);
    const third = splitAnswer(second.rest);
    expect(Buffer.compare(third.body, data.subarray(100))).toBe(0);
    expect(third.rest.length).toBe(0);
    expect(await Promise.all(outcomes)).toEqual(['sent', 'sent', 'sent']);
  });

  it('given a client that hangs up mid-file, then the transfer ends as aborted and leaves no descriptor open', async () => {
    outcomes = [];
    await noConnections();
    const before = openFds();
    const raw = await fetchRaw(port, ['GET /f HTTP/1.1\r\nhost: x\r\n\r\n'], { hangUpAfter: 3 * 1024 * 1024 });
    expect(raw.length).toBeLessThan(data.length);
    const [outcome] = await Promise.all(outcomes);
    expect(outcome).toBeInstanceOf(ImageStoreError);
    expect((outcome as ImageStoreError).code).toBe('aborted');
    // The thread closed its duplicates, the reader its file, Node the socket.
    await noConnections();
    expect(openFds()).toBe(before);
  });

  it('given a client that stops reading and never hangs up, when the server closes the connection, then the thread stops', async () => {
    outcomes = [];
    const socket = connect(port, '127.0.0.1');
    socket.write('GET /f HTTP/1.1\r\nhost: x\r\n\r\n');
    socket.pause();
    await new Promise((resolve) => setTimeout(resolve, 200));
    // What a server timeout does: Node destroys its socket; the thread's duplicate must not keep the connection alive.
    server.closeAllConnections();
    const [outcome] = await Promise.all(outcomes);
    expect((outcome as ImageStoreError).code).toBe('aborted');
    const ended = await new Promise<boolean>((resolve) => {
      socket.on('close', () => resolve(true));
      socket.resume();
      setTimeout(() => resolve(false), 5000);
    });
    expect(ended).toBe(true);
  });

  it('given a file cut short after it was opened, then the transfer fails as a mismatch and the client gets fewer bytes', async () => {
    outcomes = [];
    beforeSend = () => truncateSync(path, 1_000_000);
    try {
      const raw = await fetchRaw(port, ['GET /f HTTP/1.1\r\nhost: x\r\n\r\n']);
      expect(splitAnswer(raw).body.length).toBe(1_000_000);
      const [outcome] = await Promise.all(outcomes);
      expect((outcome as ImageStoreError).code).toBe('mismatch');
      expect((outcome as Error).message).toMatch(/ended at byte 1000000, before byte 25165837/);
    } finally {
      beforeSend = null;
      writeFileSync(path, data);
    }
  });

  it('given bad arguments, then the addon refuses them with a message instead of crashing', async () => {
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    try {
      const handle = await open(path, 'r');
      await expect(send.send(socket, handle.fd, -1, 10)).rejects.toThrow(/non-negative integers/);
      await handle.close();
    } finally {
      socket.destroy();
    }
  });
});
