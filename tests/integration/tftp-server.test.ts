import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BootFiles } from '../../adapters/boot-files/boot-files.ts';
import { ConfigError } from '../../adapters/runtime/config.ts';
import { TFTP_CONFIG_VARIABLES, tftpConfigFromEnv } from '../../adapters/tftp/tftp-config.ts';
import { loadNative } from '../../adapters/native/load-native.ts';
import { startTftpServer, type TftpServer, type TftpServerConfig } from '../../adapters/tftp/tftp-server.ts';

/*
 * brume's TFTP server on 127.0.0.1 (port 0), against two independent
 * clients: the npm `tftp` package's client, and the hand-rolled RFC 7440
 * receiver below, which can lose DATA and ACK packets on purpose.
 */

const require = createRequire(import.meta.url);
const tftp = require('tftp') as {
  createClient(options: { host: string; port: number; blockSize?: number; windowSize?: number; retries?: number; timeout?: number }): {
    createGetStream(remote: string, options?: { sha1?: string }): NodeJS.ReadableStream & { on(event: 'stats', cb: (stats: { blockSize: number; windowSize: number; size: number | null }) => void): unknown };
    createPutStream(remote: string, options: { size: number }): NodeJS.WritableStream;
  };
};

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

// ---------------------------------------------------------------- the hand-rolled client

interface GetOptions {
  mode?: string;
  /** Option name/value pairs, sent as given (order and case kept). */
  options?: [string, string][];
  /** Drop an arriving DATA packet (simulated loss). `copy` counts arrivals of that block, from 1. */
  dropData?: (block: number, copy: number, arrival: number) => boolean;
  /** Drop an ACK instead of sending it. */
  dropAck?: (block: number) => boolean;
  /** RFC 7440: ACK the last in-order block when a gap is seen (once per gap). Default true. */
  ackOnGap?: boolean;
  /** Like some EDK2 builds: ACK the last in-order block for every out-of-order block. */
  ackEveryOutOfOrder?: boolean;
  /** Send every ACK twice (provokes the Sorcerer's Apprentice bug in servers that have it). */
  duplicateAcks?: boolean;
  /** Silence after which the client re-sends its last ACK (or RRQ). Default 1000 ms. */
  clientTimeoutMs?: number;
  /** Called with the server's transfer port (its TID) on the first answer. */
  onServerPort?: (port: number, socket: Socket) => void;
  /** Stop ACKing after this block (the client "dies"). */
  stopAfter?: number;
  /** How long the socket stays open after the last block, to re-ACK it. Default 1000 ms. */
  dallyMs?: number;
  giveUpMs?: number;
}

interface GetResult {
  data: Buffer;
  oack: Record<string, string> | null;
  error: { code: number; message: string } | null;
  serverPort: number;
  /** DATA packets that arrived (dropped ones included). */
  dataPackets: number;
  arrivals: { block: number; at: number; dropped: boolean }[];
}

function rrq(file: string | Buffer, mode: string, options: [string, string][] = [], opcode = 1): Buffer {
  const parts: Buffer[] = [Buffer.from([0, opcode])];
  for (const s of [file, mode, ...options.flat()]) parts.push(Buffer.isBuffer(s) ? s : Buffer.from(s, 'latin1'), Buffer.from([0]));
  return Buffer.concat(parts);
}

const ack = (block: number) => Buffer.from([0, 4, (block >> 8) & 0xff, block & 0xff]);

/** Fetches one file; resolves with what happened (an ERROR from the server is a result, not a rejection). */
function get(port: number, file: string | Buffer, opts: GetOptions = {}): Promise<GetResult> {
  const socket = createSocket('udp4');
  const clientTimeoutMs = opts.clientTimeoutMs ?? 1000;
  return new Promise<GetResult>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const arrivals: GetResult['arrivals'] = [];
    const copies = new Map<number, number>();
    let serverPort = 0;
    let oack: Record<string, string> | null = null;
    let blksize = 512;
    let windowsize = 1;
    let expected = 1; // absolute number of the next block wanted
    let sinceAck = 0;
    let gapReported = false;
    let dataPackets = 0;
    const request = rrq(file, opts.mode ?? 'octet', opts.options ?? []);

    let done = false;
    // After the last block the receiver dallies (RFC 1350): if its final ACK was lost, the server
    // resends the last block and gets the ACK again. The result is ready at once.
    const finish = (error: GetResult['error']) => {
      done = true;
      clearTimeout(silence);
      clearTimeout(limit);
      setTimeout(() => socket.close(), error ? 0 : opts.dallyMs ?? 1000);
      resolve({ data: Buffer.concat(chunks), oack, error, serverPort, dataPackets, arrivals });
    };
    const sendAck = (block: number) => {
      if (opts.stopAfter !== undefined && block > opts.stopAfter) return;
      if (opts.dropAck?.(block)) return;
      socket.send(ack(block & 0xffff), serverPort);
      if (opts.duplicateAcks) socket.send(ack(block & 0xffff), serverPort);
    };
    // RFC 7440: on its own timeout the receiver ACKs the last block it has in order (0 before any DATA).
    const onSilence = () => {
      if (!serverPort) socket.send(request, port, '127.0.0.1');
      else sendAck(expected - 1);
      sinceAck = 0;
      silence.refresh();
    };
    const silence = setTimeout(onSilence, clientTimeoutMs);
    const limit = setTimeout(() => { clearTimeout(silence); socket.close(); reject(new Error(`transfer of ${String(file)} did not end in ${opts.giveUpMs ?? 30_000} ms`)); }, opts.giveUpMs ?? 30_000);

    socket.on('message', (packet, from) => {
      if (!serverPort) {
        serverPort = from.port;
        opts.onServerPort?.(serverPort, socket);
      } else if (from.port !== serverPort) return;
      if (done) {
        if (packet.readUInt16BE(0) === 3) socket.send(ack(expected - 1), serverPort);
        return;
      }
      silence.refresh();
      const opcode = packet.readUInt16BE(0);
      if (opcode === 5) return finish({ code: packet.readUInt16BE(2), message: packet.subarray(4, packet.indexOf(0, 4)).toString() });
      if (opcode === 6) {
        if (oack) {
          if (expected === 1) sendAck(0); // a retransmitted OACK: our ACK 0 was lost
          return;
        }
        const fields = packet.subarray(2).toString('latin1').split('\0').slice(0, -1);
        oack = {};
        for (let i = 0; i + 1 < fields.length; i += 2) oack[fields[i]!] = fields[i + 1]!;
        if (oack.blksize) blksize = Number(oack.blksize);
        if (oack.windowsize) windowsize = Number(oack.windowsize);
        sendAck(0);
        return;
      }
      if (opcode !== 3) return;
      dataPackets++;
      const wire = packet.readUInt16BE(2);
      const distance = (wire - (expected & 0xffff)) & 0xffff;
      const block = distance < 32768 ? expected + distance : expected - (65536 - distance);
      const copy = (copies.get(block) ?? 0) + 1;
      copies.set(block, copy);
      const dropped = opts.dropData?.(block, copy, dataPackets) ?? false;
      arrivals.push({ block, at: performance.now(), dropped });
      if (dropped) return;
      if (block === expected) {
        const payload = packet.subarray(4);
        chunks.push(payload);
        expected++;
        sinceAck++;
        gapReported = false;
        if (payload.length < blksize) {
          sendAck(block);
          return finish(null);
        }
        if (sinceAck >= windowsize) {
          sendAck(block);
          sinceAck = 0;
        }
      } else if (block > expected && (opts.ackEveryOutOfOrder || ((opts.ackOnGap ?? true) && !gapReported))) {
        gapReported = true;
        sinceAck = 0;
        sendAck(expected - 1);
      }
    });
    socket.bind(0, '127.0.0.1', () => socket.send(request, port, '127.0.0.1'));
  });
}

/** Sends one datagram and returns the first answer (or null after `ms`). */
function exchange(port: number, packet: Buffer, ms = 2000): Promise<Buffer | null> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    const timer = setTimeout(() => { socket.close(); resolve(null); }, ms);
    socket.on('message', (answer) => { clearTimeout(timer); socket.close(); resolve(answer); });
    socket.bind(0, '127.0.0.1', () => socket.send(packet, port, '127.0.0.1'));
  });
}

/** The client resolves on the last DATA; the server finishes when that block's ACK arrives. */
async function settled(server: TftpServer): Promise<void> {
  for (let i = 0; i < 200 && server.stats().active > 0; i++) await new Promise((r) => setTimeout(r, 10));
}

const errorOf = (packet: Buffer | null) =>
  packet && packet.readUInt16BE(0) === 5 ? { code: packet.readUInt16BE(2), message: packet.subarray(4, packet.indexOf(0, 4)).toString() } : null;

/** A deterministic pseudo-random source (mulberry32), so a lossy run can be replayed. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------- the suite

describe('TFTP configuration from the environment', () => {
  it('has defaults, and auto follows the DHCP mode', () => {
    expect(tftpConfigFromEnv({}, { dhcpEnabled: true })).toEqual({
      enabled: true, host: '0.0.0.0', port: 69, bootFilesDir: resolve('./boot-files'), maxWindow: 16, maxBlksize: 1468, threads: 2 * availableParallelism(),
    });
    expect(tftpConfigFromEnv({}, { dhcpEnabled: false }).enabled).toBe(false);
    expect(tftpConfigFromEnv({ BRUME_TFTP: 'on' }, { dhcpEnabled: false }).enabled).toBe(true);
    expect(tftpConfigFromEnv({ BRUME_TFTP: 'OFF' }, { dhcpEnabled: true }).enabled).toBe(false);
    expect(TFTP_CONFIG_VARIABLES.map(([name]) => name)).toEqual([
      'BRUME_TFTP', 'BRUME_TFTP_HOST', 'BRUME_TFTP_PORT', 'BRUME_BOOT_FILES_DIR', 'BRUME_TFTP_MAX_WINDOW', 'BRUME_TFTP_MAX_BLKSIZE', 'BRUME_TFTP_THREADS',
    ]);
  });

  it('reads every variable', () => {
    expect(tftpConfigFromEnv({
      BRUME_TFTP: 'auto', BRUME_TFTP_HOST: '192.0.2.1', BRUME_TFTP_PORT: '6969', BRUME_BOOT_FILES_DIR: '/srv/boot',
      BRUME_TFTP_MAX_WINDOW: '1', BRUME_TFTP_MAX_BLKSIZE: '512', BRUME_TFTP_THREADS: '0',
    }, { dhcpEnabled: true })).toEqual({ enabled: true, host: '192.0.2.1', port: 6969, bootFilesDir: '/srv/boot', maxWindow: 1, maxBlksize: 512, threads: 0 });
  });

  it.each([
    [{ BRUME_TFTP: 'yes' }, /BRUME_TFTP must be auto, on or off, not "yes"/],
    [{ BRUME_TFTP_HOST: 'localhost' }, /BRUME_TFTP_HOST must be an IPv4 address/],
    [{ BRUME_TFTP_PORT: '70000' }, /BRUME_TFTP_PORT must be a port number from 0 to 65535, not "70000"/],
    [{ BRUME_TFTP_PORT: '69.5' }, /BRUME_TFTP_PORT/],
    [{ BRUME_TFTP_MAX_WINDOW: '0' }, /BRUME_TFTP_MAX_WINDOW must be a window of blocks from 1 to 1024/],
    [{ BRUME_TFTP_MAX_WINDOW: '65535' }, /BRUME_TFTP_MAX_WINDOW/],
    [{ BRUME_TFTP_MAX_BLKSIZE: '65465' }, /BRUME_TFTP_MAX_BLKSIZE must be a block size in bytes \(RFC 2348\) from 8 to 65464/],
  ])('refuses %o with a message naming the variable', (env, message) => {
    expect(() => tftpConfigFromEnv(env, { dhcpEnabled: true })).toThrow(ConfigError);
    expect(() => tftpConfigFromEnv(env, { dhcpEnabled: true })).toThrow(message);
  });
});

const native = loadNative();
if (!native.ok) console.warn(`SKIPPED: TFTP transfers on threads: ${native.reason}`);
/**
 * Every transfer on a thread of its own (the native addon), threads only while fewer than three others
 * run (as the default does under load), and all on the event loop (the fallback without the addon).
 */
const ENGINES = [
  ...(native.ok ? [{ engine: 'threads', threads: 1000 }, { engine: 'threads while fewer than three others run', threads: 3 }] : []),
  { engine: 'the event loop', threads: 0 },
];

describe.skipIf(!native.ok)('a TFTP transfer on a thread, given bad arguments', () => {
  const addon = native.ok ? native.addon : (null as never);
  const start = (local: string, data: unknown, port = 4000) =>
    () => addon.tftpStart(local, '127.0.0.1', port, data as Buffer, 512, 1, null, 1000, 8000, 5, 1e6, () => {});

  it('refuses them with a message, before any thread or socket exists', () => {
    expect(start('localhost', Buffer.alloc(10))).toThrow('the addresses must be IPv4 literals');
    expect(start('127.0.0.1', 'not a buffer')).toThrow(/a port, a Buffer/);
    expect(start('127.0.0.1', Buffer.alloc(10), 0)).toThrow(/a port, a Buffer/);
    // An address this machine does not have: the bind fails, and says why.
    expect(start('192.0.2.77', Buffer.alloc(10))).toThrow(/Cannot assign requested address/);
  });
});

describe.each(ENGINES)('the TFTP server, transfers on $engine', ({ threads }) => {
  let base: string;
  let root: string;
  let files: BootFiles;
  const observed: { ip: string; stage: string; detail: Record<string, string> }[] = [];
  const logs: string[] = [];
  const contents = new Map<string, Buffer>();
  const servers: TftpServer[] = [];

  async function start(overrides: Partial<TftpServerConfig> = {}): Promise<TftpServer> {
    const server = await startTftpServer({
      config: { host: '127.0.0.1', port: 0, maxWindow: 16, maxBlksize: 1468, threads, ...overrides },
      files,
      backend: { observeAddress: (ip, stage, detail) => { observed.push({ ip, stage, detail }); } },
      log: (level, message) => { logs.push(`${level} ${message}`); },
    });
    servers.push(server);
    return server;
  }

  async function file(name: string, data: Buffer): Promise<Buffer> {
    await mkdir(join(root, name, '..'), { recursive: true });
    await writeFile(join(root, name), data);
    contents.set(name, data);
    return data;
  }

  let server: TftpServer;
  let port: number;

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'brume-tftp-'));
    root = join(base, 'root');
    await mkdir(root);
    files = new BootFiles(root);
    await file('undionly.kpxe', randomBytes(70_000));
    await file('efi/ipxe.efi', randomBytes(1_048_576));
    await file('small.txt', Buffer.from('line one\nline two\r\nbare\rcr\n'));
    await file('exact.bin', randomBytes(1024)); // two full 512-byte blocks, then an empty one
    await file('empty.bin', Buffer.alloc(0));
    await writeFile(join(base, 'secret'), 'outside the root');
    await symlink('/etc', join(root, 'etc-link'));
    await symlink(join(base, 'secret'), join(root, 'secret-link'));
    await symlink('efi/ipxe.efi', join(root, 'alias.efi'));
    server = await start();
    port = server.address().port;
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await rm(base, { recursive: true, force: true });
  });

  describe('serves files', () => {
    it('lock-step without options: 512-byte blocks, no OACK, and records the boot stage once', async () => {
      expect(server.engine).toMatch(threads ? new RegExp(`^threads \\(while fewer than ${threads} others run`) : /^the event loop \(threads are off\)$/);
      const before = observed.length;
      const result = await get(port, 'undionly.kpxe');
      expect(result.error).toBeNull();
      expect(result.oack).toBeNull();
      expect(sha256(result.data)).toBe(sha256(contents.get('undionly.kpxe')!));
      expect(result.dataPackets).toBe(Math.floor(70_000 / 512) + 1);
      expect(observed.slice(before)).toEqual([{ ip: '127.0.0.1', stage: 'tftp', detail: { file: 'undionly.kpxe', size: '70000', blksize: '512', windowsize: '1' } }]);
      await settled(server);
      expect(logs).toContainEqual(expect.stringMatching(/^info sent undionly\.kpxe \(70000 bytes\) to 127\.0\.0\.1:\d+ in \d+ ms, blksize 512, windowsize 1$/));
    });

    it('a size that is a multiple of the block size ends with an empty block; an empty file is one empty block', async () => {
      const exact = await get(port, 'exact.bin');
      expect(exact.data.equals(contents.get('exact.bin')!)).toBe(true);
      expect(exact.dataPackets).toBe(3);
      const empty = await get(port, 'empty.bin', { options: [['tsize', '0']] });
      expect(empty).toMatchObject({ error: null, oack: { tsize: '0' }, dataPackets: 1 });
      expect(empty.data.length).toBe(0);
    });

    it('negotiates blksize, tsize, windowsize and timeout, and uses them', async () => {
      const result = await get(port, '/efi/ipxe.efi', { options: [['blksize', '1432'], ['tsize', '0'], ['windowsize', '8'], ['timeout', '2']] });
      expect(result.oack).toEqual({ blksize: '1432', tsize: '1048576', windowsize: '8', timeout: '2' });
      expect(sha256(result.data)).toBe(sha256(contents.get('efi/ipxe.efi')!));
      expect(result.dataPackets).toBe(Math.ceil(1_048_576 / 1432));
      await settled(server);
      // The client's timeout (2 s) became the transfer's retransmit timeout.
      expect(server.stats().recent.at(-1)).toMatchObject({ blksize: 1432, windowsize: 8, maxTimeoutMs: 2000 });
    });

    it('caps blksize and windowsize at its limits, takes option names in any case, and leaves out what it does not accept', async () => {
      const result = await get(port, 'efi\\ipxe.efi', {
        options: [['BLKSIZE', '9000'], ['WindowSize', '64'], ['timeout', '3000'], ['rollover', '0'], ['x-vendor', 'y']],
      });
      expect(result.oack).toEqual({ blksize: '1468', windowsize: '16' });
      expect(sha256(result.data)).toBe(sha256(contents.get('efi/ipxe.efi')!));
    });

    it('starts with DATA 1 when no option was accepted', async () => {
      const result = await get(port, 'small.txt', { options: [['x-unknown', '1']] });
      expect(result.oack).toBeNull();
      expect(result.data.equals(contents.get('small.txt')!)).toBe(true);
    });

    it('ignores option values it cannot use, or lowers them, instead of refusing the request (as tftpd-hpa does)', async () => {
      const lenient = await get(port, 'small.txt', { options: [['blksize', '100000'], ['windowsize', '0'], ['tsize', 'enable'], ['timeout', '0']] });
      expect(lenient.oack).toEqual({ blksize: '1468', tsize: String(contents.get('small.txt')!.length) });
      expect(lenient.data.equals(contents.get('small.txt')!)).toBe(true);
      const tiny = await get(port, 'small.txt', { options: [['blksize', '4'], ['windowsize', 'many']] });
      expect(tiny.oack).toBeNull();
      expect(tiny.data.equals(contents.get('small.txt')!)).toBe(true);
    });

    it('sends netascii as CR LF (and a bare CR as CR NUL), with tsize counting the converted bytes', async () => {
      const result = await get(port, 'small.txt', { mode: 'NetASCII', options: [['tsize', '0']] });
      const expected = Buffer.from('line one\r\nline two\r\0\r\nbare\r\0cr\r\n');
      expect(result.data.equals(expected)).toBe(true);
      expect(result.oack).toEqual({ tsize: String(expected.length) });
      expect(errorOf(await exchange(port, rrq('small.txt', 'mail')))).toMatchObject({ code: 4 });
    });

    it('serves generated files registered with put()', async () => {
      files.put('boot/menu.ipxe', '#!ipxe\necho generated by brume\n');
      const result = await get(port, '/boot/menu.ipxe', { options: [['tsize', '0']] });
      expect(result.data.toString()).toBe('#!ipxe\necho generated by brume\n');
      expect(result.oack).toEqual({ tsize: '31' });
      files.remove('boot/menu.ipxe');
    });

    it('works with the npm tftp client: negotiation, capping and content', async () => {
      const fetch = (blockSize: number, windowSize: number) => new Promise<{ stats: { blockSize: number; windowSize: number; size: number | null }; data: Buffer }>((resolve, reject) => {
        const client = tftp.createClient({ host: '127.0.0.1', port, blockSize, windowSize });
        const stream = client.createGetStream('efi/ipxe.efi', { sha1: createHash('sha1').update(contents.get('efi/ipxe.efi')!).digest('hex') });
        const chunks: Buffer[] = [];
        let stats: { blockSize: number; windowSize: number; size: number | null } | undefined;
        stream.on('stats', (s) => { stats = s; });
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('error', reject);
        stream.on('end', () => resolve({ stats: stats!, data: Buffer.concat(chunks) }));
      });
      const plain = await fetch(1468, 4);
      expect(plain.stats).toMatchObject({ blockSize: 1468, windowSize: 4, size: 1_048_576 });
      expect(sha256(plain.data)).toBe(sha256(contents.get('efi/ipxe.efi')!));
      const capped = await fetch(8192, 64);
      expect(capped.stats).toMatchObject({ blockSize: 1468, windowSize: 16, size: 1_048_576 });
      expect(sha256(capped.data)).toBe(sha256(contents.get('efi/ipxe.efi')!));
    });
  });

  it('counts a UEFI size probe (OACK, then ERROR 8 from the client) as routine, not as a failed transfer', async () => {
    const probe = await start();
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    try {
      const oack = new Promise<RemoteInfo>((resolve) => socket.once('message', (_m: Buffer, from: RemoteInfo) => resolve(from)));
      socket.send(rrq('efi/ipxe.efi', 'octet', [['tsize', '0'], ['blksize', '1468']]), probe.address().port, '127.0.0.1');
      const from = await oack;
      const abort = Buffer.concat([Buffer.from([0, 5, 0, 8]), Buffer.from('User aborted the transfer\0', 'latin1')]);
      socket.send(abort, from.port, from.address);
      await vi.waitFor(() => expect(probe.stats().sizeProbes).toBe(1));
      expect(probe.stats().failed).toBe(0);
      expect(logs.filter((l) => l.includes('User aborted')).every((l) => l.startsWith('info '))).toBe(true);
    } finally {
      socket.close();
    }
  });

  it('warns about failed transfers one by one only up to a limit a minute, counting them all', async () => {
    const flooded = await start();
    const from = logs.length;
    // 30 clients (a transfer is one client address and port), each ending its read with an ERROR after the first block.
    const sockets = await Promise.all(Array.from({ length: 30 }, async () => {
      const socket = createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      socket.on('message', (message: Buffer, peer: RemoteInfo) => {
        if (message.readUInt16BE(0) === 3) socket.send(Buffer.from([0, 5, 0, 0, 0x62, 0x79, 0x65, 0]), peer.port, peer.address);
      });
      return socket;
    }));
    try {
      for (const socket of sockets) socket.send(rrq('undionly.kpxe', 'octet'), flooded.address().port, '127.0.0.1');
      await vi.waitFor(() => expect(flooded.stats().failed).toBe(30), { timeout: 10_000 });
      const warnings = logs.slice(from).filter((l) => l.startsWith('warn ') && l.includes('undionly.kpxe'));
      expect(warnings).toHaveLength(20);
    } finally {
      for (const socket of sockets) socket.close();
    }
  });

  describe('refuses', () => {
    it.each([
      ['missing.efi', 1],
      ['/etc/passwd', 1], // means <root>/etc/passwd, which is not there
      ['../secret', 2],
      ['efi/../../secret', 2],
      ['..\\..\\secret', 2],
      ['etc-link/passwd', 2],
      ['secret-link', 2],
      ['efi', 2],
      ['bad\nname', 2],
    ])('%j with ERROR %i and never sends its bytes', async (name, code) => {
      const result = await get(port, name);
      expect(result.error).toMatchObject({ code });
      expect(result.dataPackets).toBe(0);
      // Logged with the name quoted, so a control character cannot forge a log line.
      expect(logs.at(-1)).toContain(`asked for ${JSON.stringify(name)}`);
    });

    it('serves a symlink that stays inside the root', async () => {
      const result = await get(port, 'alias.efi', { options: [['windowsize', '16'], ['blksize', '1468']] });
      expect(sha256(result.data)).toBe(sha256(contents.get('efi/ipxe.efi')!));
    });

    it('a NUL in the name ends it: the rest is not a mode, and nothing is served', async () => {
      const answer = errorOf(await exchange(port, rrq(Buffer.from('efi/ipxe.efi\0../../x', 'latin1'), 'octet')));
      expect(answer).toMatchObject({ code: 4 });
    });

    it('writes, with ERROR 2, from both clients', async () => {
      expect(errorOf(await exchange(port, rrq('upload.bin', 'octet', [], 2)))).toEqual({ code: 2, message: "brume's TFTP is read-only" });
      const failure = await new Promise<Error>((resolve) => {
        const stream = tftp.createClient({ host: '127.0.0.1', port }).createPutStream('upload.bin', { size: 3 });
        stream.on('error', resolve);
        stream.end(Buffer.from('abc'));
      });
      expect(failure.message).toContain("brume's TFTP is read-only");
    });
  });

  describe('block numbers past 65535', () => {
    it('wrap to 0 in lock-step at blksize 512, ending on an empty block', async () => {
      const data = await file('big-exact.bin', randomBytes(512 * 65536));
      const result = await get(port, 'big-exact.bin', { options: [['blksize', '512']], giveUpMs: 120_000 });
      expect(result.error).toBeNull();
      expect(result.dataPackets).toBe(65537);
      expect(sha256(result.data)).toBe(sha256(data));
    }, 120_000);

    it('wrap to 0 in windows, with a size that is not a multiple', async () => {
      const data = await file('big-odd.bin', randomBytes(512 * 70_000 + 100));
      const result = await get(port, 'big-odd.bin', { options: [['blksize', '512'], ['windowsize', '16']], giveUpMs: 120_000 });
      expect(result.error).toBeNull();
      expect(sha256(result.data)).toBe(sha256(data));
    }, 120_000);
  });

  it('runs 100 transfers at once, lock-step and windowed, each byte-exact', async () => {
    const names = await Promise.all(Array.from({ length: 10 }, (_, i) => file(`many/f${i}.bin`, randomBytes(100_000 + i * 7919)).then(() => `many/f${i}.bin`)));
    const before = server.stats();
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => get(port, names[i % 10]!, {
      options: i % 2 ? [['blksize', '1432'], ['windowsize', '8'], ['tsize', '0']] : [['blksize', '1432']],
    })));
    results.forEach((result, i) => {
      expect(result.error).toBeNull();
      expect(sha256(result.data)).toBe(sha256(contents.get(names[i % 10]!)!));
    });
    await settled(server);
    const after = server.stats();
    expect(after.completed - before.completed).toBe(100);
    expect(after.active).toBe(0);
  });

  describe('loss', () => {
    it('backs off: the same lost block is resent after growing intervals, and duplicate ACKs send nothing', async () => {
      const lossy = await start({ timeoutMs: 100, maxTimeoutMs: 2000 });
      // Block 5 is lost three times. The client re-ACKs block 4 whenever it hears nothing for 60 ms:
      // duplicate ACKs, which must not make the server resend earlier than its timer.
      const result = await get(lossy.address().port, 'undionly.kpxe', {
        dropData: (block, copy) => block === 5 && copy <= 3, clientTimeoutMs: 60,
      });
      expect(sha256(result.data)).toBe(sha256(contents.get('undionly.kpxe')!));
      await settled(lossy);
      const times = result.arrivals.filter((a) => a.block === 5).map((a) => a.at);
      expect(times).toHaveLength(4);
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      expect(gaps[0]).toBeGreaterThanOrEqual(90);
      expect(gaps[1]).toBeGreaterThanOrEqual(gaps[0]! * 1.6);
      expect(gaps[2]).toBeGreaterThanOrEqual(gaps[1]! * 1.6);
      const record = lossy.stats().recent.at(-1)!;
      expect(record).toMatchObject({ outcome: 'complete', maxTimeoutMs: 800, retransmittedBytes: 3 * 512 });
      expect(lossy.stats().duplicateAcks).toBeGreaterThan(0);
    });

    it('goes back to the gap the client reports at once, without waiting for its timer', async () => {
      const slow = await start({ timeoutMs: 5000 });
      const started = performance.now();
      // Window 1-8 leaves in one burst; block 3 is lost, block 4 shows the gap and the client ACKs 2.
      const result = await get(slow.address().port, 'undionly.kpxe', {
        options: [['windowsize', '8']], dropData: (block, copy) => block === 3 && copy === 1, clientTimeoutMs: 10_000,
      });
      expect(performance.now() - started).toBeLessThan(2000);
      expect(sha256(result.data)).toBe(sha256(contents.get('undionly.kpxe')!));
      await settled(slow);
      // Blocks 3-8 were in flight when the ACK for 2 came back: those six are resent with 9 and 10, nothing else.
      expect(slow.stats()).toMatchObject({ goBacks: 1, timeouts: 0, retransmittedBlocks: 6, retransmittedBytes: 6 * 512 });
    });

    it('resends the OACK when its ACK is lost', async () => {
      const lossy = await start({ timeoutMs: 100 });
      const started = performance.now();
      let dropped = false;
      const result = await get(lossy.address().port, 'small.txt', {
        options: [['tsize', '0']], dropAck: (block) => block === 0 && !dropped && (dropped = true), clientTimeoutMs: 10_000,
      });
      expect(result.data.equals(contents.get('small.txt')!)).toBe(true);
      expect(performance.now() - started).toBeLessThan(1000);
      await settled(lossy);
      expect(lossy.stats()).toMatchObject({ timeouts: 1, completed: 1 });
      expect(lossy.stats().recent.at(-1)).toMatchObject({ maxTimeoutMs: 200 });
    });

    it('delivers the right bytes when 10% of DATA and 10% of ACKs are lost, resending a bounded amount', async () => {
      const lossy = await start({ timeoutMs: 50, maxTimeoutMs: 400 });
      const data = contents.get('efi/ipxe.efi')!.subarray(0, 300 * 1024);
      files.put('lossy.bin', data);
      const random = seeded(7);
      const result = await get(lossy.address().port, 'lossy.bin', {
        options: [['blksize', '1024'], ['windowsize', '8']],
        dropData: () => random() < 0.1, dropAck: () => random() < 0.1, clientTimeoutMs: 150, giveUpMs: 60_000,
      });
      expect(result.error).toBeNull();
      expect(sha256(result.data)).toBe(sha256(data));
      await settled(lossy);
      const record = lossy.stats().recent.at(-1)!;
      expect(record.outcome).toBe('complete');
      expect(record.retransmittedBytes).toBeGreaterThan(0);
      expect(record.retransmittedBytes).toBeLessThan(2 * data.length);
      expect(lossy.stats().goBacks).toBeGreaterThan(0);
    }, 60_000);

    it('aborts with an ERROR once resent bytes pass the budget, instead of resending windows forever', async () => {
      const lossy = await start({ timeoutMs: 200 });
      const data = contents.get('efi/ipxe.efi')!.subarray(0, 200 * 1024);
      files.put('hopeless.bin', data);
      // Every other DATA packet lost, and an ACK for every out-of-order block (the EDK2 pattern).
      const result = await get(lossy.address().port, 'hopeless.bin', {
        options: [['blksize', '1024'], ['windowsize', '16']],
        dropData: (_block, _copy, arrival) => arrival % 2 === 0, ackEveryOutOfOrder: true, giveUpMs: 60_000,
      });
      expect(result.error).toMatchObject({ code: 0, message: expect.stringContaining('too many retransmissions') });
      await settled(lossy);
      const record = lossy.stats().recent.at(-1)!;
      expect(record).toMatchObject({ outcome: 'failed', reason: 'retransmit-budget' });
      const budget = 4 * data.length + 5 * 16 * 1024;
      expect(record.retransmittedBytes).toBeGreaterThan(budget);
      expect(record.retransmittedBytes).toBeLessThanOrEqual(budget + 16 * 1024);
      // The duplicate ACKs were ignored, not each answered with a window.
      expect(lossy.stats().duplicateAcks).toBeGreaterThan(100);
    }, 60_000);

    it('does not have the Sorcerer\'s Apprentice bug: every ACK twice, every block once', async () => {
      const before = server.stats();
      const result = await get(port, 'undionly.kpxe', { duplicateAcks: true });
      expect(sha256(result.data)).toBe(sha256(contents.get('undionly.kpxe')!));
      expect(result.dataPackets).toBe(Math.floor(70_000 / 512) + 1);
      await settled(server);
      const after = server.stats();
      expect(after.retransmittedBlocks - before.retransmittedBlocks).toBe(0);
      expect(after.duplicateAcks - before.duplicateAcks).toBeGreaterThanOrEqual(result.dataPackets - 1);
    });

    it('gives up on a silent client after its retries, with an ERROR and a failed record', async () => {
      const quick = await start({ timeoutMs: 20, maxTimeoutMs: 100, retries: 3 });
      const result = await get(quick.address().port, 'undionly.kpxe', { stopAfter: 10, clientTimeoutMs: 5000 });
      expect(result.error).toMatchObject({ code: 0, message: expect.stringContaining('no answer from the client after 3 retransmissions') });
      await settled(quick);
      expect(quick.stats().recent.at(-1)).toMatchObject({ outcome: 'failed', reason: 'timeout', maxTimeoutMs: 100 });
      expect(quick.stats().active).toBe(0);
    });
  });

  describe('many clients', () => {
    it('a repeated RRQ from the same client (its retry) does not start a second transfer', async () => {
      const before = server.stats();
      const client = createSocket('udp4');
      const senders = new Set<number>();
      client.on('message', (_m, from) => senders.add(from.port));
      await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
      const request = rrq('efi/ipxe.efi', 'octet', [['tsize', '0']]);
      client.send(request, port, '127.0.0.1');
      client.send(request, port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 200));
      client.close();
      const after = server.stats();
      expect(senders.size).toBe(1); // one OACK, from one transfer socket
      expect(after.started - before.started).toBe(1);
      expect(after.duplicateRequests - before.duplicateRequests).toBe(1);
    });

    it('past maxTransfers, drops new requests until a slot frees; the client\'s RRQ retry then gets served', async () => {
      const small = await start({ maxTransfers: 1, timeoutMs: 50, retries: 2 });
      const stalled = get(small.address().port, 'undionly.kpxe', { stopAfter: 2, clientTimeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 30));
      const waiting = await get(small.address().port, 'small.txt', { clientTimeoutMs: 150 });
      expect(waiting.data.equals(contents.get('small.txt')!)).toBe(true);
      expect((await stalled).error).toMatchObject({ code: 0 });
      expect(small.stats().busy).toBeGreaterThanOrEqual(1);
    });
  });

  describe('hostile packets', () => {
    it('answers a stranger on a transfer socket with ERROR 5 and carries on', async () => {
      const stranger = createSocket('udp4');
      await new Promise<void>((resolve) => stranger.bind(0, '127.0.0.1', resolve));
      const answers: Buffer[] = [];
      stranger.on('message', (m) => answers.push(m));
      const before = server.stats().strays;
      const result = await get(port, 'undionly.kpxe', {
        onServerPort: (tid) => { stranger.send(ack(1), tid, '127.0.0.1'); stranger.send(randomBytes(40), tid, '127.0.0.1'); },
      });
      expect(sha256(result.data)).toBe(sha256(contents.get('undionly.kpxe')!));
      await new Promise((r) => setTimeout(r, 50));
      stranger.close();
      expect(answers.map(errorOf)).toContainEqual({ code: 5, message: 'Unknown transfer ID' });
      expect(server.stats().strays - before).toBe(2);
    });

    it('survives random bytes, truncated requests and huge option lists, then serves normally', async () => {
      const fuzz = await start();
      const fuzzPort = fuzz.address().port;
      const sender = createSocket('udp4');
      await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', resolve));
      sender.on('message', () => {});
      const random = seeded(42);
      const packets: Buffer[] = [Buffer.alloc(0), Buffer.from([0]), Buffer.from([0, 1]), Buffer.from([0, 1, 0x41]), Buffer.from([0, 2])];
      // Names that do not exist: a truncation that happens to be a valid request gets ERROR 1, not a transfer.
      const full = rrq('nope.bin', 'octet', [['blksize', '1432'], ['tsize', '0']]);
      for (let cut = 0; cut < full.length; cut++) packets.push(full.subarray(0, cut));
      for (const opcode of [0, 3, 4, 5, 6, 7, 255, 65535]) packets.push(Buffer.from([opcode >> 8, opcode & 0xff, 0, 1, 2, 3]));
      const manyOptions: [string, string][] = Array.from({ length: 4500 }, (_, i) => [`opt${i}`, String(i)]);
      packets.push(rrq('nope.bin', 'octet', manyOptions));
      packets.push(rrq('efi/ipxe.efi', 'octet', [['blksize', '']]));
      packets.push(rrq('efi/ipxe.efi', 'octet', [['blksize']] as unknown as [string, string][]));
      packets.push(rrq(Buffer.from([0xff, 0xfe, 0x80]), 'octet'));
      for (let i = 0; i < 3000; i++) {
        const packet = Buffer.alloc(Math.floor(random() * 600));
        for (let j = 0; j < packet.length; j++) packet[j] = Math.floor(random() * 256);
        if (i % 3 === 0 && packet.length >= 2) { packet[0] = 0; packet[1] = 1 + (i % 2); }
        packets.push(packet);
      }
      // Paced, so the kernel's receive buffer does not drop most of them before the server sees them.
      for (let i = 0; i < packets.length; i += 25) {
        for (const packet of packets.slice(i, i + 25)) sender.send(packet, fuzzPort, '127.0.0.1');
        await new Promise((r) => setTimeout(r, 2));
      }
      await new Promise((r) => setTimeout(r, 200));
      sender.close();
      const stats = fuzz.stats();
      expect(stats.malformed).toBeGreaterThan(1000);
      expect(stats.started).toBe(0);
      const result = await get(fuzzPort, 'efi/ipxe.efi', { options: [['blksize', '1432'], ['windowsize', '8']] });
      expect(sha256(result.data)).toBe(sha256(contents.get('efi/ipxe.efi')!));
    });
  });

  describe('start and stop', () => {
    it('says which port is taken and what to do', async () => {
      await expect(start({ port })).rejects.toThrow(new RegExp(`TFTP cannot listen on UDP port ${port} on 127.0.0.1: another program is already using it.*BRUME_TFTP_PORT`));
    });

    it.skipIf(process.getuid?.() === 0)('explains a privileged port without root', async () => {
      await expect(start({ port: 69 })).rejects.toThrow(/UDP port 69 on 127.0.0.1: permission denied. Ports below 1024 need root or CAP_NET_BIND_SERVICE/);
    });

    it('close() ends running transfers with an ERROR to their clients', async () => {
      const closing = await start();
      const transfer = get(closing.address().port, 'efi/ipxe.efi', { stopAfter: 3, clientTimeoutMs: 5000 });
      await new Promise((r) => setTimeout(r, 100));
      expect(closing.stats().active).toBe(1);
      await closing.close();
      expect((await transfer).error).toEqual({ code: 0, message: 'server shutting down' });
    });
  });
});
