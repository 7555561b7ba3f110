import { constants } from 'node:fs';
import { open, readlink, realpath, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';

/** Why a boot file cannot be served. `forbidden` is an escape attempt or a non-file; `invalid` a name no file can have. */
export type BootFileFailure = { ok: false; code: 'not-found' | 'forbidden' | 'invalid'; message: string };

/**
 * A boot file's contents. `data` is shared with the cache and with every
 * other reader: never write into it.
 */
export type BootFile = {
  ok: true;
  /** The normalised name, relative to the root, with forward slashes. */
  name: string;
  data: Buffer;
  size: number;
  mtimeMs: number;
  /** True for files brume generated and registered with put(). */
  generated: boolean;
};

export type BootFileResult = BootFile | BootFileFailure;

export interface BootFilesOptions {
  /** Bound on the cached contents of files read from disk (LRU). Default 256 MB. */
  maxCacheBytes?: number;
  /** A cached file is checked against the disk (realpath + stat) at most this often. Default 1000 ms. */
  restatIntervalMs?: number;
  /** Time source, for tests. */
  now?: () => number;
}

export interface BootFilesStats {
  cachedFiles: number;
  cachedBytes: number;
  generatedFiles: number;
  /** Reads answered from memory without touching the disk. */
  hits: number;
  /** Reads that checked the disk (and found the cached copy still good, or read the file). */
  checks: number;
  /** Files read from disk. */
  loads: number;
}

const MAX_NAME_LENGTH = 1024;

/**
 * Turns the name a client asked for into a name relative to the boot-files
 * root, or says why it cannot be one. Backslashes become slashes (Windows
 * and some PXE ROMs send them); a leading slash means "from the root", as
 * with tftpd-hpa -s; `.` and empty segments vanish; `..` anywhere, NUL and
 * control characters are refused rather than resolved, so a name means the
 * same thing whatever the directory layout.
 *
 * @example
 * normalizeBootFileName('\\efi\\ipxe.efi') // { ok: true, name: 'efi/ipxe.efi' }
 * normalizeBootFileName('a/../../etc/passwd') // { ok: false, code: 'forbidden', ... }
 */
export function normalizeBootFileName(requestName: string): { ok: true; name: string } | BootFileFailure {
  if (requestName.length > MAX_NAME_LENGTH) return { ok: false, code: 'invalid', message: `file name longer than ${MAX_NAME_LENGTH} characters` };
  if (/[\u0000-\u001f\u007f]/.test(requestName)) return { ok: false, code: 'invalid', message: 'file name contains NUL or control characters' };
  const segments = requestName.replace(/\\/g, '/').split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return { ok: false, code: 'forbidden', message: `"${requestName}" contains "..": boot file names cannot leave the boot-files directory` };
  if (segments.length === 0) return { ok: false, code: 'invalid', message: 'no file name' };
  return { ok: true, name: segments.join('/') };
}

interface Content { data: Buffer; size: number; mtimeMs: number }
interface NameEntry { real: string; checkedAt: number }

/**
 * The boot files brume serves by TFTP and HTTP: files under one root
 * directory, plus files brume generates (put()). Protocol-neutral: it knows
 * names and bytes, not TFTP or HTTP.
 *
 * Contents are cached in memory by real path (LRU, bounded), so a boot
 * storm reads each file once; a cached file is re-checked (realpath and
 * stat: size and mtime) at most once per `restatIntervalMs`, so a replaced
 * file is picked up within that interval.
 *
 * @example
 * const files = new BootFiles('./boot-files');
 * const file = await files.read('/undionly.kpxe');
 * if (file.ok) send(file.data); else refuse(file.code, file.message);
 */
export class BootFiles {
  readonly root: string;
  private readonly maxCacheBytes: number;
  private readonly restatIntervalMs: number;
  private readonly now: () => number;
  private readonly generated = new Map<string, Content>();
  /** Request name (normalised) -> real path, and when that was last checked. */
  private readonly names = new Map<string, NameEntry>();
  /** Real path -> contents; Map order is the LRU order (oldest first). */
  private readonly contents = new Map<string, Content>();
  private readonly loading = new Map<string, Promise<BootFileResult>>();
  private cachedBytes = 0;
  private rootReal: { path: string; checkedAt: number } | null = null;
  private counters = { hits: 0, checks: 0, loads: 0 };

  constructor(root: string, options: BootFilesOptions = {}) {
    this.root = resolve(root);
    this.maxCacheBytes = options.maxCacheBytes ?? 256 * 1024 * 1024;
    this.restatIntervalMs = options.restatIntervalMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Registers a file brume generated (a boot script, a menu). It is served
   * ahead of any file of the same name on disk, from memory, until removed.
   * Throws on a name that normalizeBootFileName refuses.
   */
  put(name: string, data: Buffer | string): void {
    const checked = normalizeBootFileName(name);
    if (!checked.ok) throw new Error(`cannot register boot file "${name}": ${checked.message}`);
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    this.generated.set(checked.name, { data: bytes, size: bytes.length, mtimeMs: this.now() });
  }

  /** Unregisters a generated file; returns whether there was one. */
  remove(name: string): boolean {
    const checked = normalizeBootFileName(name);
    return checked.ok && this.generated.delete(checked.name);
  }

  /** Reads a boot file by the name a client asked for. Never throws for a bad name or a missing file. */
  read(requestName: string): Promise<BootFileResult> {
    const checked = normalizeBootFileName(requestName);
    if (!checked.ok) return Promise.resolve(checked);
    const { name } = checked;
    const generated = this.generated.get(name);
    if (generated) return Promise.resolve({ ok: true, name, ...generated, generated: true });
    const entry = this.names.get(name);
    if (entry && this.now() - entry.checkedAt < this.restatIntervalMs) {
      const content = this.contents.get(entry.real);
      if (content) {
        this.counters.hits++;
        this.touch(entry.real, content);
        return Promise.resolve({ ok: true, name, ...content, generated: false });
      }
    }
    // One disk check per name at a time: a hundred clients asking at once share it.
    let pending = this.loading.get(name);
    if (!pending) {
      pending = this.load(name).finally(() => this.loading.delete(name));
      this.loading.set(name, pending);
    }
    return pending;
  }

  stats(): BootFilesStats {
    return { cachedFiles: this.contents.size, cachedBytes: this.cachedBytes, generatedFiles: this.generated.size, ...this.counters };
  }

  private async load(name: string): Promise<BootFileResult> {
    this.counters.checks++;
    const root = await this.resolveRoot();
    if (typeof root !== 'string') return root;
    let real: string;
    try {
      real = await realpath(`${root}${sep}${name}`);
    } catch (error) {
      this.names.delete(name);
      return pathFailure(error as NodeJS.ErrnoException, name);
    }
    if (!isInside(root, real)) {
      this.names.delete(name);
      return { ok: false, code: 'forbidden', message: `"${name}" leads outside the boot-files directory` };
    }
    let info;
    try {
      info = await stat(real);
    } catch (error) {
      return pathFailure(error as NodeJS.ErrnoException, name);
    }
    if (!info.isFile()) return notAFile(name, info.isDirectory());
    const now = this.now();
    const cached = this.contents.get(real);
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) {
      this.names.set(name, { real, checkedAt: now });
      this.touch(real, cached);
      return { ok: true, name, ...cached, generated: false };
    }
    const content = await this.readContent(root, real, name);
    if (!content.ok) return content;
    const { data, size, mtimeMs } = content;
    this.forget(real);
    this.names.set(name, { real, checkedAt: now });
    this.remember(real, { data, size, mtimeMs });
    return { ok: true, name, data, size, mtimeMs, generated: false };
  }

  /**
   * Opens the file without following a last-component symlink and without
   * blocking on a FIFO, then checks what was actually opened: the file could
   * have been swapped for a symlink or a device since the realpath check.
   */
  private async readContent(root: string, real: string, name: string): Promise<Content & { ok: true } | BootFileFailure> {
    let handle;
    try {
      handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      return pathFailure(error as NodeJS.ErrnoException, name);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) return notAFile(name, info.isDirectory());
      // On Linux the kernel says which file the descriptor really is; elsewhere the realpath check above stands.
      const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => null);
      if (opened !== null && !isInside(root, opened)) {
        return { ok: false, code: 'forbidden', message: `"${name}" leads outside the boot-files directory` };
      }
      const data = await handle.readFile();
      this.counters.loads++;
      return { ok: true, data, size: data.length, mtimeMs: info.mtimeMs };
    } catch (error) {
      return pathFailure(error as NodeJS.ErrnoException, name);
    } finally {
      await handle.close().catch(() => {});
    }
  }

  private async resolveRoot(): Promise<string | BootFileFailure> {
    const now = this.now();
    if (this.rootReal && now - this.rootReal.checkedAt < this.restatIntervalMs) return this.rootReal.path;
    try {
      const path = await realpath(this.root);
      this.rootReal = { path, checkedAt: now };
      return path;
    } catch {
      this.rootReal = null;
      return { ok: false, code: 'not-found', message: `the boot-files directory ${this.root} does not exist` };
    }
  }

  private touch(real: string, content: Content): void {
    this.contents.delete(real);
    this.contents.set(real, content);
  }

  private forget(real: string): void {
    const old = this.contents.get(real);
    if (!old) return;
    this.contents.delete(real);
    this.cachedBytes -= old.size;
  }

  /** Caches contents, evicting the least recently used; a file larger than the whole cache is served but not kept. */
  private remember(real: string, content: Content): void {
    if (content.size > this.maxCacheBytes) return;
    this.contents.set(real, content);
    this.cachedBytes += content.size;
    for (const [key, old] of this.contents) {
      if (this.cachedBytes <= this.maxCacheBytes) break;
      if (key === real) continue;
      this.contents.delete(key);
      this.cachedBytes -= old.size;
    }
  }
}

function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

function notAFile(name: string, directory: boolean): BootFileFailure {
  return { ok: false, code: 'forbidden', message: `"${name}" is ${directory ? 'a directory' : 'not a regular file'}` };
}

function pathFailure(error: NodeJS.ErrnoException, name: string): BootFileFailure {
  switch (error.code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return { ok: false, code: 'not-found', message: `"${name}" is not in the boot-files directory` };
    case 'ELOOP':
      return { ok: false, code: 'forbidden', message: `"${name}" is a symbolic link loop or was replaced by a link` };
    case 'EACCES':
    case 'EPERM':
      return { ok: false, code: 'forbidden', message: `"${name}" cannot be read: permission denied` };
    case 'ENAMETOOLONG':
      return { ok: false, code: 'invalid', message: 'file name too long' };
    default:
      return { ok: false, code: 'not-found', message: `"${name}" cannot be read: ${error.message}` };
  }
}
