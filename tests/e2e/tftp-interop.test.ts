import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BootFiles } from '../../adapters/boot-files/boot-files.ts';
import { startTftpServer, type TftpServer } from '../../adapters/tftp/tftp-server.ts';

/*
 * brume's TFTP server against Debian's TFTP clients, curl and atftp, on
 * 127.0.0.1: byte-identical files with blksize, windowsize and tsize, block
 * numbers past 65535, and TFTP errors the clients understand.
 */

interface Run { code: number; out: string }

/** Runs a client to completion; a non-zero exit is a result here, not an exception. */
function run(cmd: string, args: string[], timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('TFTP interop with curl and atftp', () => {
  let base: string;
  let root: string;
  let out: string;
  let server: TftpServer;
  let port: number;
  const expected = new Map<string, Buffer>();

  async function same(name: string, fetched: string): Promise<void> {
    expect(sha256(await readFile(fetched))).toBe(sha256(expected.get(name)!));
  }

  const lastRecord = async () => {
    for (let i = 0; i < 100 && server.stats().active > 0; i++) await new Promise((r) => setTimeout(r, 10));
    return server.stats().recent.at(-1)!;
  };

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'brume-tftp-e2e-'));
    root = join(base, 'boot-files');
    out = join(base, 'fetched');
    await mkdir(root);
    await mkdir(out);
    for (const name of ['undionly.kpxe', 'ipxe.efi']) {
      await copyFile(`/usr/lib/ipxe/${name}`, join(root, name));
      expected.set(name, await readFile(join(root, name)));
    }
    const files: [string, Buffer][] = [
      ['one-mb.bin', randomBytes(1 << 20)],
      // More than 65535 blocks of 512 bytes: block numbers wrap to 0.
      ['big.bin', randomBytes(512 * 70_000 + 321)],
    ];
    for (const [name, data] of files) {
      await writeFile(join(root, name), data);
      expected.set(name, data);
    }
    await writeFile(join(base, 'secret'), 'outside');
    server = await startTftpServer({
      config: { host: '127.0.0.1', port: 0, maxWindow: 16, maxBlksize: 1468 },
      files: new BootFiles(root),
      backend: { observeAddress: () => {} },
    });
    port = server.address().port;
  });

  afterAll(async () => {
    await server?.close();
    await rm(base, { recursive: true, force: true });
  });

  describe('curl', () => {
    it('fetches iPXE with --tftp-blksize 1432, byte-identical', async () => {
      const result = await run('curl', ['-sS', '-o', join(out, 'curl-ipxe.efi'), '--tftp-blksize', '1432', `tftp://127.0.0.1:${port}/ipxe.efi`]);
      expect(result).toEqual({ code: 0, out: '' });
      await same('ipxe.efi', join(out, 'curl-ipxe.efi'));
      expect(await lastRecord()).toMatchObject({ file: 'ipxe.efi', blksize: 1432, windowsize: 1, outcome: 'complete' });
    });

    it('fetches a file past 65535 blocks at blksize 512', async () => {
      const result = await run('curl', ['-sS', '-o', join(out, 'curl-big.bin'), '--tftp-blksize', '512', `tftp://127.0.0.1:${port}/big.bin`]);
      expect(result.code).toBe(0);
      await same('big.bin', join(out, 'curl-big.bin'));
    });

    it('gets TFTP "file not found" (exit 68) for a missing file', async () => {
      const result = await run('curl', ['-sS', '-o', join(out, 'missing'), `tftp://127.0.0.1:${port}/missing.efi`]);
      expect(result.code).toBe(68); // CURLE_TFTP_NOTFOUND
    });
  });

  describe('atftp', () => {
    const atftp = (remote: string, local: string, ...options: string[]) =>
      run('atftp', ['--trace', ...options.flatMap((o) => ['--option', o]), '--get', '-r', remote, '-l', join(out, local), '127.0.0.1', String(port)]);

    it('fetches with blksize, windowsize and tsize, acknowledging once per window', async () => {
      const result = await atftp('one-mb.bin', 'atftp-one.bin', 'blksize 1432', 'windowsize 8', 'tsize enable');
      expect(result.code, result.out).toBe(0);
      await same('one-mb.bin', join(out, 'atftp-one.bin'));
      expect(result.out).toMatch(/received OACK <.*tsize: 1048576/);
      const blocks = Math.ceil((1 << 20) / 1432);
      const acks = result.out.split('\n').filter((line) => line.startsWith('sent ACK')).length;
      // ACK 0 for the OACK, then one per window of 8 (and the last, short, window).
      expect(acks).toBe(1 + Math.ceil(blocks / 8));
      expect(await lastRecord()).toMatchObject({ file: 'one-mb.bin', blksize: 1432, windowsize: 8, outcome: 'complete', retransmittedBytes: 0 });
    });

    it('gets the windowsize capped to the server\'s maximum', async () => {
      const result = await atftp('undionly.kpxe', 'atftp-undionly.kpxe', 'blksize 1432', 'windowsize 64');
      expect(result.code, result.out).toBe(0);
      await same('undionly.kpxe', join(out, 'atftp-undionly.kpxe'));
      expect(result.out).toMatch(/received OACK <.*windowsize: 16/);
    });

    it('fetches lock-step with no options', async () => {
      const result = await atftp('ipxe.efi', 'atftp-plain.efi');
      expect(result.code, result.out).toBe(0);
      await same('ipxe.efi', join(out, 'atftp-plain.efi'));
    });

    it('fetches a file past 65535 blocks in windows of 16', async () => {
      const result = await run('atftp', ['--option', 'blksize 512', '--option', 'windowsize 16', '--get', '-r', 'big.bin', '-l', join(out, 'atftp-big.bin'), '127.0.0.1', String(port)]);
      expect(result.code, result.out).toBe(0);
      await same('big.bin', join(out, 'atftp-big.bin'));
    });

    it('reports the server\'s errors: not found, outside the root, read-only', async () => {
      const missing = await atftp('missing.efi', 'atftp-missing');
      expect(missing.code).not.toBe(0);
      expect(missing.out).toContain('error received from server <"missing.efi" is not in the boot-files directory>');
      const escape = await atftp('../secret', 'atftp-secret');
      expect(escape.code).not.toBe(0);
      expect(escape.out).toMatch(/error received from server <.*"\.\."/);
      await writeFile(join(out, 'upload.bin'), 'data');
      const put = await run('atftp', ['--put', '-l', join(out, 'upload.bin'), '-r', 'upload.bin', '127.0.0.1', String(port)]);
      expect(put.code).not.toBe(0);
      expect(put.out).toContain("brume's TFTP is read-only");
    });
  });
});
