import { createCipheriv } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Where the bench keeps its image file between runs (on the same disk as /tmp here: check with df). */
export const IMAGE_FILE = '/var/tmp/brume-bench/image-2g.bin';
/** 2 GiB: the size of a small partclone image. */
export const IMAGE_BYTES = 2 * 1024 ** 3;

const CHUNK = 8 << 20;

/**
 * The image the bench captures and deploys: `bytes` of AES-256-CTR
 * keystream (incompressible, like a zstd-compressed partclone image),
 * written once and reused while its size is right. Written through a
 * `.part` name, so an interrupted run never leaves a short file behind.
 */
export async function ensureImageFile(path = IMAGE_FILE, bytes = IMAGE_BYTES, log: (line: string) => void = () => {}): Promise<{ path: string; bytes: number; created: boolean }> {
  const existing = await stat(path).catch(() => null);
  if (existing?.isFile() && existing.size === bytes) return { path, bytes, created: false };
  await mkdir(dirname(path), { recursive: true });
  const part = `${path}.part`;
  const started = performance.now();
  // A fixed key: the same bytes every time the file is made again.
  const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, 0x42), Buffer.alloc(16, 0));
  const zeros = Buffer.alloc(CHUNK);
  const handle = await open(part, 'w', 0o644);
  try {
    for (let written = 0; written < bytes;) {
      const length = Math.min(CHUNK, bytes - written);
      const chunk = cipher.update(length === CHUNK ? zeros : zeros.subarray(0, length));
      await handle.write(chunk, 0, chunk.length, written);
      written += chunk.length;
    }
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(part, { force: true });
    throw error;
  }
  await handle.close();
  await rename(part, path);
  log(`imaging: wrote ${path} (${bytes.toLocaleString('en-US')} bytes of AES-CTR keystream) in ${((performance.now() - started) / 1000).toFixed(1)} s; later runs reuse it`);
  return { path, bytes, created: true };
}
