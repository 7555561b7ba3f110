import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseManifest, type ImageManifest, type ManifestFile } from '../../core/images/image-manifest.ts';
import { KernelSendError, socketFdOf, type KernelSend } from './kernel-send.ts';

/** File names a client may PUT: no separators, no dot files, no traversal. */
const FILE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const ID = /^[A-Za-z0-9_-]{1,80}$/;
const MANIFEST = 'manifest.json';
const INCOMING = '.incoming';

export class ImageStoreError extends Error {
  override name = 'ImageStoreError';
  constructor(readonly code: 'validation' | 'not-found' | 'mismatch' | 'aborted', message: string) {
    super(message);
  }
}

export interface ReceivedFile {
  name: string;
  sizeBytes: number;
  sha256: string;
}

export interface CommittedRevision {
  /** Sum of the revision's files. */
  sizeBytes: number;
  /** Digest of the manifest as stored, which names every file's digest. */
  sha256: string;
  files: number;
  manifest: ImageManifest;
}

/**
 * Image revisions on the local filesystem (`BRUME_IMAGES_DIR`):
 *
 *   <root>/<image id>/<capture task id>/manifest.json, table.sfdisk, part1.img.zst...
 *   <root>/<image id>/<capture task id>.incoming/   a capture still arriving
 *
 * A capture writes into its own `.incoming` directory, each file through a
 * `.part` name while it streams, with its size and sha256 computed on the
 * way; a cut-off upload never replaces a whole file. The revision appears
 * under its final name only when the client's manifest matches what
 * arrived, by one rename; the image's other revisions are never touched,
 * so a failed or cancelled capture leaves the current one intact.
 *
 * @example
 * const store = new ImageStore('/srv/brume/images', { kernelSend: loadKernelSend() });
 * await store.receive(imageId, taskId, 'part1.img.zst', request.raw);
 * const revision = await store.commit(imageId, taskId, manifestFromClient);
 */
export class ImageStore {
  /** Sends deploys with sendfile(2) when set (adapters/image-store/kernel-send.ts); copies them through Node otherwise. */
  readonly kernelSend: KernelSend | null;

  constructor(readonly root: string, options: { kernelSend?: KernelSend | null } = {}) {
    this.kernelSend = options.kernelSend ?? null;
  }

  /** Streams one capture file in; answers its size and digest. Throws `aborted` (and keeps nothing) if the body is cut off. */
  async receive(
    imageId: string, taskId: string, name: string, body: Readable, expectedBytes?: number, idleMs = 60_000,
  ): Promise<ReceivedFile> {
    checkName(name);
    const dir = this.incomingDir(imageId, taskId);
    await mkdir(dir, { recursive: true });
    const part = join(dir, `.${name}.part`);
    const hash = createHash('sha256');
    let sizeBytes = 0;
    // A machine that vanished sends nothing more, not even a FIN: an upload idle this long is cut off.
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => body.destroy(new Error(`no data for ${idleMs / 1000} s`)), idleMs);
    };
    armIdle();
    const digest = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        armIdle();
        hash.update(chunk);
        sizeBytes += chunk.length;
        done(null, chunk);
      },
    });
    const out = createWriteStream(part, { highWaterMark: 1 << 20 });
    try {
      await pipeline(body, digest, out).finally(() => clearTimeout(idle));
      if (expectedBytes !== undefined && sizeBytes !== expectedBytes) {
        throw new ImageStoreError('aborted', `upload of ${name} ended after ${sizeBytes} of ${expectedBytes} bytes`);
      }
      // The bytes must be on disk before the name says the file is whole.
      await syncFile(part);
    } catch (error) {
      await rm(part, { force: true });
      if (error instanceof ImageStoreError) throw error;
      throw new ImageStoreError('aborted', `upload of ${name} was cut off after ${sizeBytes} bytes: ${(error as Error).message}`);
    }
    const received: ReceivedFile = { name, sizeBytes, sha256: hash.digest('hex') };
    await rename(part, join(dir, name));
    await writeFile(join(dir, `.${name}.sha256`), JSON.stringify(received));
    return received;
  }

  /**
   * Makes the capture a revision: every file the manifest lists must have
   * arrived whole with the size and digest the client computed. Files that
   * arrived but are not listed are dropped. Nothing changes on a mismatch.
   */
  async commit(imageId: string, taskId: string, clientManifest: unknown): Promise<CommittedRevision> {
    const parsed = parseManifest(clientManifest);
    if (!parsed.ok) throw new ImageStoreError('validation', parsed.message);
    const manifest = parsed.manifest;
    const dir = this.incomingDir(imageId, taskId);
    const received = await this.receivedFiles(imageId, taskId);
    const problems: string[] = [];
    const files: ManifestFile[] = [];
    for (const listed of manifest.files) {
      const got = received.get(listed.name);
      if (!got) problems.push(`${listed.name} never arrived whole`);
      else if (got.sizeBytes !== listed.sizeBytes) problems.push(`${listed.name}: client sent ${listed.sizeBytes} bytes, server received ${got.sizeBytes}`);
      else if (got.sha256 !== listed.sha256) problems.push(`${listed.name}: sha256 differs (client ${listed.sha256}, server ${got.sha256})`);
      else files.push(got);
    }
    if (problems.length) throw new ImageStoreError('mismatch', `the capture does not match what arrived: ${problems.join('; ')}`);
    for (const name of received.keys()) {
      if (!files.some((f) => f.name === name)) await rm(join(dir, name), { force: true });
    }
    const stored: ImageManifest = { ...manifest, files };
    const text = `${JSON.stringify(stored, null, 2)}\n`;
    await writeFile(join(dir, MANIFEST), text);
    await syncFile(join(dir, MANIFEST));
    for (const name of await readdir(dir)) if (name.endsWith('.sha256') || name.endsWith('.part')) await rm(join(dir, name), { force: true });
    const final = this.revisionDir(imageId, taskId);
    await rm(final, { recursive: true, force: true }); // a revision left by a commit whose event never landed
    await rename(dir, final);
    await syncDir(join(this.root, imageId));
    return {
      sizeBytes: files.reduce((sum, f) => sum + f.sizeBytes, 0),
      sha256: createHash('sha256').update(text).digest('hex'),
      files: files.length,
      manifest: stored,
    };
  }

  /** Removes a deleted revision's files. */
  async removeRevision(imageId: string, capturedByTaskId: string): Promise<void> {
    await rm(this.revisionDir(imageId, capturedByTaskId), { recursive: true, force: true });
  }

  /** Drops a capture that will not complete (failed, cancelled, or its commit was refused). */
  async discard(imageId: string, taskId: string): Promise<void> {
    await rm(this.incomingDir(imageId, taskId), { recursive: true, force: true });
  }

  /** Removes captures still arriving for tasks that are no longer active (cancelled, failed, lost in a crash). */
  async sweep(isActive: (taskId: string) => boolean): Promise<number> {
    let removed = 0;
    for (const imageId of await readdir(this.root).catch(() => [] as string[])) {
      for (const name of await readdir(join(this.root, imageId)).catch(() => [] as string[])) {
        if (!name.endsWith(INCOMING)) continue;
        const taskId = name.slice(0, -INCOMING.length);
        if (isActive(taskId)) continue;
        await rm(join(this.root, imageId, name), { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }

  /** The manifest of a committed revision, by the capture that made it. */
  async manifest(imageId: string, capturedByTaskId: string): Promise<ImageManifest> {
    const path = join(this.revisionDir(imageId, capturedByTaskId), MANIFEST);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      throw new ImageStoreError('not-found', `image ${imageId}'s revision from task ${capturedByTaskId} is missing from ${this.root}`);
    }
    const parsed = parseManifest(JSON.parse(text));
    if (!parsed.ok) throw new ImageStoreError('validation', `stored manifest ${path} is damaged: ${parsed.message}`);
    return parsed.manifest;
  }

  /**
   * A file of a committed revision, opened for a deploy; `start`/`end` are
   * inclusive byte offsets (HTTP Range). The caller sends it with
   * `writeTo` and closes it.
   */
  async open(imageId: string, capturedByTaskId: string, name: string, range?: { start: number; end: number }): Promise<ImageFileReader> {
    checkName(name);
    const manifest = await this.manifest(imageId, capturedByTaskId);
    const file = manifest.files.find((f) => f.name === name);
    if (!file) throw new ImageStoreError('not-found', `the image has no file ${name}`);
    const path = join(this.revisionDir(imageId, capturedByTaskId), name);
    const { size } = await stat(path).catch(() => {
      throw new ImageStoreError('not-found', `${path} is missing from the image store`);
    });
    if (size !== file.sizeBytes) throw new ImageStoreError('mismatch', `${path} is ${size} bytes, the manifest says ${file.sizeBytes}`);
    const handle = await open(path, 'r');
    return new ImageFileReader(handle, file, path, range?.start ?? 0, range?.end ?? size - 1, this.kernelSend);
  }

  private async receivedFiles(imageId: string, taskId: string): Promise<Map<string, ReceivedFile>> {
    const dir = this.incomingDir(imageId, taskId);
    const names = await readdir(dir).catch(() => [] as string[]);
    const received = new Map<string, ReceivedFile>();
    for (const name of names) {
      const m = /^\.(.+)\.sha256$/.exec(name);
      if (!m) continue;
      received.set(m[1]!, JSON.parse(await readFile(join(dir, name), 'utf8')) as ReceivedFile);
    }
    return received;
  }

  private incomingDir(imageId: string, taskId: string): string {
    return `${this.revisionDir(imageId, taskId)}${INCOMING}`;
  }

  private revisionDir(imageId: string, taskId: string): string {
    if (!ID.test(imageId) || !ID.test(taskId)) throw new ImageStoreError('validation', 'image and task ids must be plain identifiers');
    return join(this.root, imageId, taskId);
  }
}

const EMPTY = Buffer.alloc(0);
/** How sendfile reports a client that went away. */
const CLOSED = new Set(['ECANCELED', 'EPIPE', 'ECONNRESET']);

/** Bytes per read of a file being deployed; each transfer reads into two such buffers, again and again. */
const READ_CHUNK = 1 << 20;

/**
 * A file of a committed revision, open for one deploy: bytes `start` to
 * `end` (inclusive). Given a `KernelSend` and an HTTP response on a plain
 * socket, `writeTo` has the kernel send the bytes (sendfile), as nginx
 * does. Otherwise it reads them into two buffers of its own and
 * refills a buffer only once the destination has taken its bytes (the
 * write callback), reading the next chunk while the last one is being
 * sent. A ReadStream allocates a new buffer for every chunk instead: 2,048
 * buffers of 1 MiB for a 2 GiB file, which cost fresh pages and frequent
 * garbage collections, and held ten deploys at once to a third of nginx's
 * rate (docs/benchmarks.md, Imaging).
 */
export class ImageFileReader {
  private closing: Promise<void> | null = null;

  constructor(
    private readonly handle: FileHandle, readonly file: ManifestFile, readonly path: string, readonly start: number, readonly end: number,
    private readonly kernelSend: KernelSend | null = null,
  ) {}

  /** How many bytes `writeTo` sends. */
  get length(): number {
    return this.end - this.start + 1;
  }

  /**
   * Writes the bytes to `out` and ends it. `begin` is called once the first
   * chunk has been read, before anything is written (the caller sends the
   * status and headers there), so a file that cannot be read fails before
   * the answer has started. Rejects with `aborted` when `out` closes before
   * it has taken every byte (the client went away), or with the read or
   * write error; it never destroys `out` itself.
   */
  async writeTo(out: Writable, begin: () => void): Promise<void> {
    const socket = out instanceof ServerResponse ? out.socket : null;
    if (this.kernelSend && socket && socketFdOf(socket) !== null && this.length > 0) {
      return this.sendByKernel(this.kernelSend, out as ServerResponse, socket, begin);
    }
    return this.copyTo(out, begin);
  }

  private async copyTo(out: Writable, begin: () => void): Promise<void> {
    const size = Math.min(READ_CHUNK, Math.max(1, this.length));
    const buffers = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
    let turn = 0;
    let position = this.start;
    let chunk = position <= this.end ? await this.read(buffers[turn]!, position) : null;
    begin();
    while (chunk) {
      const next = position + chunk.length;
      turn ^= 1;
      // Send this chunk while the next one is read into the other buffer; neither buffer is touched again before both are done.
      [, chunk] = await Promise.all([writeChunk(out, chunk), next <= this.end ? this.read(buffers[turn]!, next) : null]);
      position = next;
    }
    out.end();
  }

  private async sendByKernel(kernel: KernelSend, out: ServerResponse, socket: Socket, begin: () => void): Promise<void> {
    // One byte read first, so that a file that cannot be read still fails before the answer starts.
    await this.read(Buffer.allocUnsafe(1), this.start);
    begin();
    out.flushHeaders();
    // The head must reach the kernel before the body does: wait for Node's writes to the socket to drain.
    await writeChunk(socket, EMPTY);
    if (out.writableLength > 0) {
      // Held back in the response (a request pipelined behind another answer): send through it instead.
      return this.copyTo(out, () => {});
    }
    try {
      await kernel.send(socket, this.handle.fd, this.start, this.length);
    } catch (error) {
      if (!(error instanceof KernelSendError)) throw error;
      if (error.code === 'ENODATA') throw new ImageStoreError('mismatch', `${this.path} ended at byte ${this.start + error.sent}, before byte ${this.end + 1}`);
      if (CLOSED.has(error.code) || socket.destroyed) throw new ImageStoreError('aborted', 'the connection closed before the whole file was sent');
      throw error;
    }
    out.end();
  }

  /** Closes the file (waits for a read still running). */
  close(): Promise<void> {
    this.closing ??= this.handle.close();
    return this.closing;
  }

  private async read(buffer: Buffer, position: number): Promise<Buffer> {
    const length = Math.min(buffer.length, this.end - position + 1);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await this.handle.read(buffer, filled, length - filled, position + filled);
      if (bytesRead === 0) throw new ImageStoreError('mismatch', `${this.path} ended at byte ${position + filled}, before byte ${this.end + 1}`);
      filled += bytesRead;
    }
    return buffer.subarray(0, length);
  }
}

/** Resolves once `out` has taken `chunk` (its write callback): only then may the buffer be filled again. */
function writeChunk(out: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out.destroyed) {
      reject(new ImageStoreError('aborted', 'the connection closed before the whole file was sent'));
      return;
    }
    // A write still queued when the connection closes may never call back.
    const closed = () => reject(new ImageStoreError('aborted', 'the connection closed before the whole file was sent'));
    out.once('close', closed);
    out.write(chunk, (error) => {
      out.off('close', closed);
      if (error) reject(error);
      else resolve();
    });
  });
}

function checkName(name: string): void {
  if (!FILE_NAME.test(name) || name === MANIFEST) {
    throw new ImageStoreError('validation', `file name "${name}" is not allowed: use a-z, 0-9, ".", "_" and "-" (at most 64), not ${MANIFEST}`);
  }
}

/** fsync a file (opened for writing) or a directory (read-only), so a rename after it is durable. */
async function syncPath(path: string, flags: 'r+' | 'r'): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const syncFile = (path: string) => syncPath(path, 'r+');
const syncDir = (path: string) => syncPath(path, 'r');
