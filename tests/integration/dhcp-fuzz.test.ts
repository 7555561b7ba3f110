import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { KnownHost, ResponderBackend } from '../../adapters/boot/responder-backend.ts';
import { migrate, openDatabase, type Database } from '../../adapters/database/open-database.ts';
import { clientOption as opt, decodeReply, encodeClientMessage, type ClientMessage } from '../support/dhcp-client-messages.ts';
import type { DhcpConfig, DhcpMode } from '../../adapters/dhcp/dhcp-config.ts';
import { startDhcpServer, type DhcpServer, type DhcpStats } from '../../adapters/dhcp/dhcp-server.ts';
import { SqlLeaseStore } from '../../adapters/dhcp/sql-lease-store.ts';

/**
 * Thousands of random and mutated datagrams at a running responder (full
 * and proxy mode): it must account for every one, print nothing, never
 * throw, and still answer a valid request correctly afterwards. The seed is
 * printed with any failure; DHCP_FUZZ_SEED=<n> replays a run.
 */

const SERVER = '127.0.0.1';
const RELAY = '127.0.0.2';
const CLIENT = '127.0.0.3';
const PACKETS_PER_MODE = Number(process.env.DHCP_FUZZ_PACKETS ?? 3000);
const SEED = Number(process.env.DHCP_FUZZ_SEED ?? Date.now() % 2 ** 31);

/** mulberry32: small, fast, reproducible. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(items: readonly T[]): T => items[int(items.length)]!, bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => int(256))) };
}

type Random = ReturnType<typeof prng>;

const PXE = 'PXEClient:Arch:00000:UNDI:002001';
function templates(r: Random): ClientMessage[] {
  const mac = [0x52, 0x54, r.int(256), r.int(256), r.int(256), r.int(256)].map((b) => b.toString(16).padStart(2, '0')).join(':');
  const pool = `127.0.${32 + r.int(32)}.${r.int(256)}`;
  return [
    { type: 1, mac, options: [opt.vendorClass(PXE), opt.arch(r.pick([0, 6, 7, 9, 11, 16])), opt.clientNdi(), opt.uuid([...r.bytes(16)])] },
    { type: 1, mac, options: [opt.vendorClass(PXE), opt.arch(0), opt.userClass('iPXE'), [175, [...r.bytes(r.int(40))]]] },
    { type: 1, mac, options: [opt.vendorClass('HTTPClient:Arch:00016:UNDI:003001'), opt.arch(16)] },
    { type: 3, mac, options: [opt.requestedIp(pool), opt.serverId(SERVER), opt.vendorClass(PXE), opt.arch(7)] },
    { type: 3, mac, ciaddr: CLIENT, options: [opt.vendorClass(PXE), opt.arch(7), [43, [71, 4, 0, 0, 0, 0, 255]]] },
    { type: 3, mac, options: [opt.requestedIp(pool)] },
    { type: 8, mac, ciaddr: CLIENT, options: [opt.parameterRequestList(1, 3, 6, 66, 67)] },
    { type: 7, mac, ciaddr: pool, options: [opt.serverId(SERVER)] },
    { type: 4, mac, options: [opt.requestedIp(pool), opt.serverId(SERVER)] },
    { type: 1, mac, options: [opt.hostName('x'.repeat(r.int(255))), opt.parameterRequestList(...r.bytes(r.int(60)))] },
  ];
}

/** One hostile datagram, by one of several strategies. */
function hostile(r: Random): Buffer {
  const base = encodeClientMessage({ ...r.pick(templates(r)), giaddr: RELAY, xid: r.int(2 ** 32) });
  switch (r.int(10)) {
    case 0: return r.bytes(r.int(r.next() < 0.8 ? 600 : 1500));
    case 1: { // bit flips
      const copy = Buffer.from(base);
      for (let i = 0, n = 1 + r.int(24); i < n; i++) { const at = r.int(copy.length); copy[at] = copy[at]! ^ (1 << r.int(8)); }
      return copy;
    }
    case 2: return base.subarray(0, r.int(base.length)); // truncation
    case 3: { // an option's length lies
      const copy = Buffer.from(base);
      const offsets: number[] = [];
      for (let i = 240; i < copy.length && copy[i] !== 255;) { if (copy[i] === 0) { i++; continue; } offsets.push(i); i += 2 + copy[i + 1]!; }
      copy[r.pick(offsets) + 1] = r.int(256);
      return copy;
    }
    case 4: { // huge option counts
      const parts = [base.subarray(0, 240), Buffer.from([53, 1, r.pick([1, 3, 8])])];
      const count = 500 + r.int(12_000);
      for (let i = 0; i < count; i++) { const length = r.int(4); parts.push(Buffer.from([1 + r.int(254), length]), r.bytes(length)); }
      if (r.next() < 0.5) parts.push(Buffer.from([255]));
      return Buffer.concat(parts).subarray(0, 65_000);
    }
    case 5: { // fixed-size options with the wrong size
      const code = r.pick([53, 50, 54, 93, 57, 51, 1, 3, 20]);
      return encodeClientMessage({ type: 1, mac: '52:54:00:00:00:01', giaddr: RELAY, options: [opt.vendorClass(PXE), [code, [...r.bytes(r.int(9))]]] });
    }
    case 6: { // every option code, structurally valid, random contents
      const options: [number, Buffer][] = [];
      // The options brume reads get their proper size, so the packet reaches the package's parser.
      const sizes: Record<number, number> = { 50: 4, 54: 4, 57: 2, 93: 2 };
      for (let code = 1; code <= 254; code++) if (code !== 53 && r.next() < 0.5) options.push([code, r.bytes(sizes[code] ?? r.int(20))]);
      return encodeClientMessage({ type: r.pick([1, 3, 8]), mac: '52:54:00:00:00:02', giaddr: RELAY, options });
    }
    case 7: { // pads between options, sometimes no END
      const parts = [base.subarray(0, 240)];
      for (let i = 240; i < base.length && base[i] !== 255;) {
        if (base[i] === 0) { i++; continue; }
        parts.push(Buffer.alloc(r.int(3)), base.subarray(i, i + 2 + base[i + 1]!));
        i += 2 + base[i + 1]!;
      }
      if (r.next() < 0.7) parts.push(Buffer.from([255]));
      return Buffer.concat(parts);
    }
    case 8: { // header fields at random: op, htype, hlen, cookie, message type
      const copy = Buffer.from(base);
      copy[r.pick([0, 1, 2, 236, 237, 238, 239, 242])] = r.int(256);
      return copy;
    }
    default: return base; // valid, to keep the decision paths busy
  }
}

/** Replies may only go to loopback addresses the test owns: keep ciaddr/giaddr on them. */
function confine(packet: Buffer, r: Random): Buffer {
  if (packet.length >= 16) Buffer.from(r.pick([[0, 0, 0, 0], [127, 0, 0, 3]])).copy(packet, 12);
  if (packet.length >= 28) Buffer.from(r.pick([[0, 0, 0, 0], [127, 0, 0, 2]])).copy(packet, 24);
  return packet;
}

const MALFORMED = ['too-short', 'not-a-request', 'unsupported-hardware', 'no-magic-cookie', 'truncated-option', 'bad-option-length',
  'no-message-type', 'not-a-client-message', 'unparseable'];

const accounted = (s: DhcpStats) => Object.values(s.answered).reduce((a, b) => a + b, 0)
  + Object.values(s.ignored).reduce((a, b) => a + (b ?? 0), 0) + Object.values(s.dropped).reduce((a, b) => a + (b ?? 0), 0);

async function until(what: string, predicate: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const bind = (address: string, port = 0) => new Promise<Socket>((resolve, reject) => {
  const socket = createSocket('udp4');
  socket.once('error', reject);
  socket.bind(port, address, () => resolve(socket));
});

describe(`the responder under hostile input (seed ${SEED})`, () => {
  let database: Database;
  const consoleCalls: string[] = [];
  const warnings: string[] = [];
  const rejections: unknown[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  const onRejection = (e: unknown) => rejections.push(e);

  beforeAll(async () => {
    database = await openDatabase({});
    await migrate(database.db);
    for (const method of ['log', 'error', 'warn', 'info', 'debug', 'trace'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => { consoleCalls.push(`${method}: ${args.join(' ')}`); });
    }
    process.on('warning', onWarning);
    process.on('unhandledRejection', onRejection);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    process.off('warning', onWarning);
    process.off('unhandledRejection', onRejection);
    await database?.close();
  });

  it.each<[DhcpMode]>([['proxy'], ['full']])('%s mode: accounts for every datagram, prints nothing, and still answers', async (mode) => {
    const r = prng(SEED + (mode === 'full' ? 1 : 0));
    const client = await bind(CLIENT);
    const registered: KnownHost = { hostId: 'h', hostName: 'lab', ip: '127.0.0.42' };
    const backend: ResponderBackend = {
      hostFor: (mac) => (mac.endsWith('1') ? registered : null), observe() {}, observeAddress() {}, noteAddress() {},
    };
    const config: DhcpConfig = {
      mode, interfaceName: null, listenAddress: SERVER, serverAddress: SERVER, netmask: '255.0.0.0', registeredOnly: false,
      pool: mode === 'full' ? { first: '127.0.32.0', last: '127.0.63.255' } : null, router: SERVER, dns: [SERVER],
      leaseSeconds: 600, port: 0, proxyPort: 0, clientPort: client.address().port,
      bootFiles: { bios: 'undionly.kpxe', efi32: 'ipxe32.efi', efi64: 'ipxe.efi', arm64: null },
    };
    const logged: string[] = [];
    const server: DhcpServer = await startDhcpServer({
      config, backend, leases: new SqlLeaseStore(database.db), bootServerAddress: '127.0.0.9', httpBaseUrl: 'http://127.0.0.1:8080',
      log: (level, message) => logged.push(`${level}: ${message}`),
    });
    const relay = await bind(RELAY, server.ports.dhcp!);
    try {
      const ports = [server.ports.dhcp!, ...(server.ports.proxy ? [server.ports.proxy] : [])];
      let sent = 0;
      let tooShort = 0;
      let notRequest = 0;
      let inFlight = 0;
      for (let i = 0; i < PACKETS_PER_MODE; i++) {
        const packet = confine(hostile(r), r);
        if (packet.length < 243) tooShort++;
        else if (packet[0] !== 1) notRequest++;
        await new Promise<void>((resolve, reject) => client.send(packet, r.pick(ports), SERVER, (e) => (e ? reject(e) : resolve())));
        sent++;
        inFlight += packet.length;
        // Stay well inside the socket's receive buffer so the kernel drops nothing: every datagram must reach the server.
        if (inFlight > 48_000 || i % 32 === 31) {
          await until(`the server to receive ${sent} datagrams`, () => server.stats().received >= sent);
          inFlight = 0;
        }
      }
      await until('every datagram to be accounted for', () => {
        const s = server.stats();
        return s.received === sent && s.pendingWrites === 0 && accounted(s) === sent;
      });
      const stats = server.stats();
      const context = `seed ${SEED}, stats ${JSON.stringify(stats)}`;
      if (process.env.DHCP_FUZZ_VERBOSE) process.stderr.write(`${mode}: ${context}\n`);
      expect(stats.received, context).toBe(PACKETS_PER_MODE);
      expect(accounted(stats), context).toBe(stats.received);
      expect(stats.dropped['too-short'] ?? 0, context).toBe(tooShort);
      expect(stats.dropped['not-a-request'] ?? 0, context).toBe(notRequest);
      for (const reason of Object.keys(stats.dropped)) expect([...MALFORMED, 'unroutable'], context).toContain(reason);
      // A share of the hostile traffic was well-formed enough to be answered or deliberately ignored.
      expect(stats.answered.offer + stats.answered.ack, context).toBeGreaterThan(0);
      expect(Object.values(stats.dropped).reduce((a, b) => a + (b ?? 0), 0), context).toBeGreaterThan(PACKETS_PER_MODE / 4);

      // Still serving, promptly and correctly.
      const started = Date.now();
      const reply = new Promise<Buffer>((resolve) => relay.on('message', (m) => { if (m.readUInt32BE(4) === 0xc0ffee) resolve(m); }));
      relay.send(encodeClientMessage({ type: 1, mac: '52:54:00:12:34:56', xid: 0xc0ffee, giaddr: RELAY, options: [opt.vendorClass(PXE), opt.arch(0)] }), server.ports.dhcp!, SERVER);
      const offer = decodeReply(await reply);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(offer).toMatchObject({ messageType: 2, mac: '52:54:00:12:34:56', file: 'undionly.kpxe', siaddr: '127.0.0.9' });
      expect(offer.yiaddr).toBe(mode === 'full' ? offer.yiaddr : '0.0.0.0');
      if (mode === 'full') expect(offer.yiaddr).toMatch(/^127\.0\.(3[2-9]|[45]\d|6[0-3])\.\d+$/);

      expect(consoleCalls, 'nothing may reach the console').toEqual([]);
      expect(warnings).toEqual([]);
      expect(rejections).toEqual([]);
      expect(logged.filter((l) => /internal|failed/.test(l))).toEqual([]);
    } finally {
      await server.close();
      relay.close();
      client.close();
    }
  });
});
