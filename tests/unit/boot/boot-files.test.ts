import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BootFiles, normalizeBootFileName, type BootFileResult } from '../../../adapters/boot-files/boot-files.ts';

const text = (result: BootFileResult) => (result.ok ? result.data.toString() : `${result.code}: ${result.message}`);

describe('boot file names', () => {
  it.each([
    ['undionly.kpxe', 'undionly.kpxe'],
    ['/undionly.kpxe', 'undionly.kpxe'],
    ['//efi///ipxe.efi', 'efi/ipxe.efi'],
    ['\\EFI\\Boot\\bootx64.efi', 'EFI/Boot/bootx64.efi'],
    ['./a/./b', 'a/b'],
    ['/etc/passwd', 'etc/passwd'],
  ])('%j means %j under the root', (asked, name) => {
    expect(normalizeBootFileName(asked)).toEqual({ ok: true, name });
  });

  it.each(['../x', 'a/../../x', 'a/../b', '..\\..\\x', '/..', '..'])('refuses %j: it contains ".."', (asked) => {
    expect(normalizeBootFileName(asked)).toMatchObject({ ok: false, code: 'forbidden', message: expect.stringContaining('..') });
  });

  it.each(['a\u0000b', 'a\nb', 'tab\there', 'del\u007f', '', '/', '././', 'x'.repeat(1025)])('refuses %j as invalid', (asked) => {
    expect(normalizeBootFileName(asked)).toMatchObject({ ok: false, code: 'invalid' });
  });
});

describe('the boot-files store', () => {
  let base: string;
  let root: string;

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'brume-boot-files-'));
    root = join(base, 'root');
    await mkdir(join(root, 'efi'), { recursive: true });
    await writeFile(join(root, 'undionly.kpxe'), 'bios loader');
    await writeFile(join(root, 'efi', 'ipxe.efi'), 'efi loader');
    await writeFile(join(base, 'secret'), 'outside the root');
    await symlink('/etc', join(root, 'etc-link'));
    await symlink(join(base, 'secret'), join(root, 'secret-link'));
    await symlink('../secret', join(root, 'relative-out'));
    await symlink('efi/ipxe.efi', join(root, 'alias.efi'));
    await symlink(join(root, 'efi'), join(root, 'efi-dir-link'));
    await symlink('loop-b', join(root, 'loop-a'));
    await symlink('loop-a', join(root, 'loop-b'));
  });
  afterAll(async () => { await rm(base, { recursive: true, force: true }); });

  it('serves files under the root, whatever the slashes', async () => {
    const files = new BootFiles(root);
    expect(text(await files.read('undionly.kpxe'))).toBe('bios loader');
    expect(text(await files.read('/undionly.kpxe'))).toBe('bios loader');
    expect(text(await files.read('\\efi\\ipxe.efi'))).toBe('efi loader');
    expect(await files.read('efi/ipxe.efi')).toMatchObject({ ok: true, name: 'efi/ipxe.efi', size: 10, generated: false });
  });

  it('follows symlinks that stay inside the root', async () => {
    const files = new BootFiles(root);
    expect(text(await files.read('alias.efi'))).toBe('efi loader');
    expect(text(await files.read('efi-dir-link/ipxe.efi'))).toBe('efi loader');
  });

  it.each([
    ['../secret', 'forbidden'],
    ['efi/../../secret', 'forbidden'],
    ['..\\secret', 'forbidden'],
    ['etc-link/passwd', 'forbidden'],
    ['secret-link', 'forbidden'],
    ['relative-out', 'forbidden'],
    ['loop-a', 'forbidden'],
    ['efi', 'forbidden'],
    ['efi-dir-link', 'forbidden'],
    ['/etc/passwd', 'not-found'],
    ['missing.efi', 'not-found'],
    ['undionly.kpxe/more', 'not-found'],
    ['nul\u0000.efi', 'invalid'],
  ])('refuses %j (%s) and never returns bytes from outside', async (asked, code) => {
    const result = await new BootFiles(root).read(asked);
    expect(result).toMatchObject({ ok: false, code });
    expect(text(result)).not.toContain('outside the root');
  });

  it('refuses a FIFO instead of blocking on it', async () => {
    const fifo = join(root, 'pipe');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      return; // no mkfifo on this machine: nothing to check
    }
    expect(await new BootFiles(root).read('pipe')).toMatchObject({ ok: false, code: 'forbidden', message: expect.stringContaining('not a regular file') });
    await rm(fifo);
  });

  it('says when the root itself is missing', async () => {
    expect(await new BootFiles(join(base, 'nowhere')).read('x')).toMatchObject({ ok: false, code: 'not-found', message: expect.stringContaining('does not exist') });
  });

  it('serves from memory, and sees a replaced file after the re-check interval', async () => {
    let clock = 1_000_000;
    const files = new BootFiles(root, { now: () => clock, restatIntervalMs: 1000 });
    await writeFile(join(root, 'menu.txt'), 'first');
    expect(text(await files.read('menu.txt'))).toBe('first');
    const afterFirst = files.stats();
    expect(afterFirst).toMatchObject({ loads: 1, cachedFiles: 1, cachedBytes: 5 });

    await writeFile(join(root, 'menu.txt'), 'second version');
    clock += 500;
    expect(text(await files.read('menu.txt'))).toBe('first'); // within the interval: memory, no disk access
    expect(files.stats()).toMatchObject({ hits: afterFirst.hits + 1, checks: afterFirst.checks });

    clock += 600;
    expect(text(await files.read('menu.txt'))).toBe('second version');
    expect(files.stats()).toMatchObject({ loads: 2, cachedFiles: 1, cachedBytes: 14 });

    // Same size, new mtime: still noticed.
    await writeFile(join(root, 'menu.txt'), 'third version!');
    await utimes(join(root, 'menu.txt'), new Date(), new Date(Date.now() + 5000));
    clock += 1100;
    expect(text(await files.read('menu.txt'))).toBe('third version!');
    // Unchanged file after the interval: a check, no new read.
    clock += 1100;
    await files.read('menu.txt');
    expect(files.stats()).toMatchObject({ loads: 3 });

    await rm(join(root, 'menu.txt'));
    clock += 1100;
    expect(await files.read('menu.txt')).toMatchObject({ ok: false, code: 'not-found' });
  });

  it('reads a file once for many simultaneous requests', async () => {
    const files = new BootFiles(root);
    const results = await Promise.all(Array.from({ length: 50 }, () => files.read('efi/ipxe.efi')));
    expect(results.every((r) => r.ok && r.data.toString() === 'efi loader')).toBe(true);
    expect(files.stats().loads).toBe(1);
  });

  it('keeps the cache under its bound, evicting the least recently used', async () => {
    const files = new BootFiles(root, { maxCacheBytes: 25 });
    await writeFile(join(root, 'ten-a'), 'aaaaaaaaaa');
    await writeFile(join(root, 'ten-b'), 'bbbbbbbbbb');
    await writeFile(join(root, 'ten-c'), 'cccccccccc');
    await writeFile(join(root, 'huge'), 'h'.repeat(100));
    await files.read('ten-a');
    await files.read('ten-b');
    await files.read('ten-a'); // a is now the most recent
    await files.read('ten-c'); // evicts b
    expect(files.stats()).toMatchObject({ cachedFiles: 2, cachedBytes: 20 });
    const loads = files.stats().loads;
    await files.read('ten-a');
    expect(files.stats().loads).toBe(loads);
    // Larger than the whole cache: served, not kept.
    expect(text(await files.read('huge'))).toBe('h'.repeat(100));
    expect(files.stats().cachedBytes).toBe(20);
  });

  it('serves generated files ahead of the disk, until removed', async () => {
    const files = new BootFiles(root);
    files.put('/undionly.kpxe', 'generated bytes');
    files.put('boot\\menu.ipxe', Buffer.from('#!ipxe\n'));
    expect(await files.read('undionly.kpxe')).toMatchObject({ ok: true, generated: true, size: 15 });
    expect(text(await files.read('/boot/menu.ipxe'))).toBe('#!ipxe\n');
    expect(files.stats().generatedFiles).toBe(2);
    expect(files.remove('undionly.kpxe')).toBe(true);
    expect(text(await files.read('undionly.kpxe'))).toBe('bios loader');
    expect(() => files.put('../escape', 'x')).toThrow(/cannot register boot file "..\/escape"/);
  });
});
