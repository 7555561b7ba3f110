import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BootObservation } from '../../core/boot/boot-stage.ts';
import type { KnownHost, ResponderBackend } from '../../adapters/boot/responder-backend.ts';
import { migrate, openDatabase, type Database } from '../../adapters/database/open-database.ts';
import { clientOption as opt, decodeReply, encodeClientMessage, type ClientMessage, type OptionValue, type ReplyView } from '../support/dhcp-client-messages.ts';
import type { DhcpConfig } from '../../adapters/dhcp/dhcp-config.ts';
import { startDhcpServer, type DhcpServer } from '../../adapters/dhcp/dhcp-server.ts';
import { SqlLeaseStore } from '../../adapters/dhcp/sql-lease-store.ts';

/**
 * The responder on loopback, spoken to over real UDP sockets. Replies reach
 * the test the two ways loopback allows: as a relay agent (giaddr
 * 127.0.0.2, whose socket listens on the server port, RFC 2131 §4.1), or
 * as a client that already has an address (ciaddr 127.0.0.3, on the client
 * port). Nothing is ever broadcast without an interface.
 */

const SERVER = '127.0.0.1';
const RELAY = '127.0.0.2';
const CLIENT = '127.0.0.3';
const BOOT_SERVER = '127.0.0.9';
const HTTP = 'http://127.0.0.1:8080';
const DISCOVER = 1, OFFER = 2, REQUEST = 3, DECLINE = 4, ACK = 5, NAK = 6, RELEASE = 7, INFORM = 8;
const PXE_BIOS = 'PXEClient:Arch:00000:UNDI:002001';
const GUID = [...Array(16).keys()];

class StaticBackend implements ResponderBackend {
  readonly observations: BootObservation[] = [];
  readonly notes: [string, string][] = [];
  constructor(readonly hosts = new Map<string, KnownHost>()) {}
  hostFor(mac: string) { return this.hosts.get(mac) ?? null; }
  observe(observation: BootObservation) { this.observations.push(observation); }
  observeAddress() {}
  noteAddress(ip: string, mac: string) { this.notes.push([ip, mac]); }
}

/** A bound UDP socket that queues what it receives. */
class Endpoint {
  private readonly inbox: Buffer[] = [];
  private waiter: (() => void) | null = null;
  private constructor(readonly socket: Socket) {
    socket.on('message', (message) => { this.inbox.push(message); this.waiter?.(); });
  }

  static async bind(address: string, port = 0): Promise<Endpoint> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => { socket.once('error', reject); socket.bind(port, address, () => resolve()); });
    return new Endpoint(socket);
  }

  get port() { return this.socket.address().port; }

  send(message: ClientMessage, port: number): void {
    this.socket.send(encodeClientMessage(message), port, SERVER);
  }

  /** The next reply with this xid, or null after `ms`. */
  async next(xid: number, ms = 2000): Promise<ReplyView | null> {
    const end = Date.now() + ms;
    for (;;) {
      const index = this.inbox.findIndex((m) => m.length >= 8 && m.readUInt32BE(4) === xid);
      if (index >= 0) return decodeReply(this.inbox.splice(index, 1)[0]!);
      const left = end - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => { const t = setTimeout(resolve, left); this.waiter = () => { clearTimeout(t); resolve(); }; });
    }
  }

  close() { this.socket.close(); }
}

interface Harness {
  server: DhcpServer;
  backend: StaticBackend;
  relay: Endpoint;
  client: Endpoint;
  database: Database;
  leases: SqlLeaseStore;
  /** Sends as the relay and waits for the answer. */
  ask(message: ClientMessage, ms?: number): Promise<ReplyView | null>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// One in-memory database for the file (opening PGlite takes seconds); each test starts with no leases.
let shared: Database;
beforeAll(async () => {
  shared = await openDatabase({});
  await migrate(shared.db);
});
afterAll(async () => { await shared?.close(); });

let xids = 1;
const xid = () => (xids++ * 7919) >>> 0;

async function start(
  overrides: Partial<DhcpConfig>,
  hosts: [string, KnownHost][] = [],
  dataDir?: string,
  client?: Endpoint,
): Promise<Harness> {
  const clientEnd = client ?? await Endpoint.bind(CLIENT);
  if (!client) cleanups.push(() => clientEnd.close());
  let database = shared;
  if (dataDir) {
    database = await openDatabase({ dataDir });
    await migrate(database.db);
    cleanups.push(() => database.close());
  } else {
    await database.db.deleteFrom('dhcp_leases').execute();
  }
  const backend = new StaticBackend(new Map(hosts));
  const config: DhcpConfig = {
    mode: 'proxy', interfaceName: null, listenAddress: SERVER, serverAddress: SERVER, netmask: '255.0.0.0',
    registeredOnly: false, pool: null, router: null, dns: [], leaseSeconds: 600, port: 0, proxyPort: 0, clientPort: clientEnd.port,
    bootFiles: { bios: 'undionly.kpxe', efi32: 'ipxe32.efi', efi64: 'ipxe.efi', arm64: 'snp-arm64.efi' },
    ...overrides,
  };
  const leases = new SqlLeaseStore(database.db);
  const server = await startDhcpServer({ config, backend, leases, bootServerAddress: BOOT_SERVER, httpBaseUrl: HTTP });
  cleanups.push(() => server.close());
  const relay = await Endpoint.bind(RELAY, server.ports.dhcp!);
  cleanups.push(() => relay.close());
  return {
    server, backend, relay, client: clientEnd, database, leases,
    async ask(message, ms) {
      const id = message.xid ?? xid();
      relay.send({ giaddr: RELAY, ...message, xid: id }, server.ports.dhcp!);
      return relay.next(id, ms);
    },
  };
}

/** Waits until the server has accounted for `count` datagrams (answered, ignored or dropped). */
async function settled(server: DhcpServer, count: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const s = server.stats();
    const done = Object.values(s.answered).reduce((a, b) => a + b, 0)
      + Object.values(s.ignored).reduce((a, b) => a + (b ?? 0), 0) + Object.values(s.dropped).reduce((a, b) => a + (b ?? 0), 0);
    if (s.received >= count && done >= count) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`server did not account for ${count} datagrams: ${JSON.stringify(server.stats())}`);
}

const pxe = (mac: string, arch: number, more: [number, OptionValue][] = []): ClientMessage => ({
  type: DISCOVER, mac, options: [opt.vendorClass(PXE_BIOS.replace('00000', String(arch).padStart(5, '0'))), opt.arch(arch), opt.clientNdi(), opt.uuid(GUID), ...more],
});

describe('proxyDHCP', () => {
  it('answers a BIOS PXE DISCOVER with boot information and no address, as the PXE spec describes', async () => {
    const h = await start({ mode: 'proxy' });
    const offer = await h.ask(pxe('52:54:00:00:00:01', 0));
    expect(offer).not.toBeNull();
    expect(offer!).toMatchObject({ op: 2, messageType: OFFER, yiaddr: '0.0.0.0', ciaddr: '0.0.0.0', siaddr: BOOT_SERVER, giaddr: RELAY, mac: '52:54:00:00:00:01', file: 'undionly.kpxe' });
    expect(offer!.text(60)).toBe('PXEClient');
    expect(offer!.ip(54)).toBe(SERVER);
    expect(offer!.text(66)).toBe(BOOT_SERVER);
    // Option 43: discovery control (6) = 8, END.
    expect(offer!.bytes(43)).toEqual([6, 1, 8, 255]);
    expect(offer!.bytes(97)).toEqual([0, ...GUID]);
    // No address-related options: the site's DHCP server owns those.
    for (const code of [1, 3, 6, 51, 58, 59]) expect(offer!.options.has(code)).toBe(false);
    expect(h.backend.observations).toMatchObject([{ mac: '52:54:00:00:00:01', stage: 'proxy-dhcp', detail: { message: 'DHCPDISCOVER', reply: 'DHCPOFFER', arch: '0', bootFile: 'undionly.kpxe' } }]);
    expect(h.backend.notes).toEqual([]);
  });

  it.each([
    [7, 'ipxe.efi'], [9, 'ipxe.efi'], [6, 'ipxe32.efi'], [11, 'snp-arm64.efi'],
  ])('gives arch %d the file %s', async (arch, file) => {
    const h = await start({ mode: 'proxy' });
    const offer = await h.ask(pxe('52:54:00:00:00:02', arch));
    expect(offer?.file).toBe(file);
  });

  it('uses the configured EFI x64 file (snponly.efi)', async () => {
    const h = await start({ mode: 'proxy', bootFiles: { bios: 'undionly.kpxe', efi32: null, efi64: 'snponly.efi', arm64: null } });
    expect((await h.ask(pxe('52:54:00:00:00:03', 7)))?.file).toBe('snponly.efi');
    // No file configured for IA32 / ARM64: no answer at all rather than a wrong file.
    expect(await h.ask(pxe('52:54:00:00:00:03', 6), 300)).toBeNull();
    await settled(h.server, 2);
    expect(h.server.stats().ignored['no-boot-file']).toBe(1);
  });

  it('ignores clients that are not PXE clients, and REQUESTs on port 67 (they belong to the site server)', async () => {
    const h = await start({ mode: 'proxy' });
    expect(await h.ask({ type: DISCOVER, mac: '52:54:00:00:00:04', options: [opt.vendorClass('udhcp 1.35.0')] }, 300)).toBeNull();
    expect(await h.ask({ type: DISCOVER, mac: '52:54:00:00:00:04' }, 300)).toBeNull();
    expect(await h.ask({ ...pxe('52:54:00:00:00:04', 0), type: REQUEST, options: [opt.vendorClass(PXE_BIOS), opt.requestedIp('127.0.0.50'), opt.serverId('127.0.0.77')] }, 300)).toBeNull();
    await settled(h.server, 3);
    expect(h.server.stats()).toMatchObject({ received: 3, answered: { offer: 0, ack: 0, nak: 0 }, ignored: { 'not-pxe': 2, 'not-for-proxy': 1 } });
    expect(h.backend.observations).toEqual([]);
  });

  it('answers the PXE client\'s REQUEST on port 4011 with an ACK carrying the boot file, unicast back to it', async () => {
    const h = await start({ mode: 'proxy' });
    const id = xid();
    // A UEFI client asks the boot server for boot item 0 (type 0, layer 0) after taking an address elsewhere.
    const bootItem = [71, 4, 0, 0, 0, 0, 255];
    h.client.send({ type: REQUEST, mac: '52:54:00:00:00:05', xid: id, ciaddr: CLIENT, options: [opt.vendorClass('PXEClient:Arch:00007:UNDI:003016'), opt.arch(7), opt.uuid(GUID), [43, bootItem]] }, h.server.ports.proxy!);
    const ack = await h.client.next(id);
    expect(ack).toMatchObject({ messageType: ACK, yiaddr: '0.0.0.0', ciaddr: CLIENT, siaddr: BOOT_SERVER, file: 'ipxe.efi' });
    expect(ack!.text(60)).toBe('PXEClient');
    expect(ack!.bytes(43)).toEqual([6, 1, 8, 71, 4, 0, 0, 0, 0, 255]);
    expect(ack!.bytes(97)).toEqual([0, ...GUID]);
    expect(h.backend.notes).toEqual([[CLIENT, '52:54:00:00:00:05']]);
    expect(h.backend.observations.at(-1)).toMatchObject({ stage: 'proxy-dhcp', detail: { message: 'DHCPREQUEST', reply: 'DHCPACK', arch: '7', bootFile: 'ipxe.efi', ip: CLIENT } });
    // A DISCOVER sent to 4011 is not how PXE works: ignored.
    h.client.send({ ...pxe('52:54:00:00:00:05', 7), xid: xid() }, h.server.ports.proxy!);
    await settled(h.server, 2);
    expect(h.server.stats().ignored['wrong-port']).toBe(1);
  });

  it('gives iPXE (user class "iPXE") the HTTP URL of its boot script', async () => {
    const h = await start({ mode: 'proxy' });
    const offer = await h.ask(pxe('52:54:00:AA:00:06', 0, [opt.userClass('iPXE'), [175, [177, 5, 1, 0x10, 0xec, 0x80, 0]]]));
    expect(offer?.file).toBe('http://127.0.0.1:8080/boot/ipxe?mac=52:54:00:aa:00:06&arch=${buildarch}&platform=${platform}');
    expect(h.backend.observations[0]?.detail).toMatchObject({ client: 'iPXE', url: offer!.file });
  });

  it('gives a UEFI HTTP-boot client the URL of its EFI file and says HTTPClient', async () => {
    const h = await start({ mode: 'proxy' });
    const offer = await h.ask({ type: DISCOVER, mac: '52:54:00:00:00:07', options: [opt.vendorClass('HTTPClient:Arch:00016:UNDI:003001'), opt.arch(16)] });
    expect(offer).toMatchObject({ messageType: OFFER, yiaddr: '0.0.0.0', file: 'http://127.0.0.1:8080/boot/files/ipxe.efi' });
    expect(offer!.text(60)).toBe('HTTPClient');
    expect(offer!.options.has(43)).toBe(false);
  });

  it('with registered-only, answers only MACs of registered hosts', async () => {
    const h = await start({ mode: 'proxy', registeredOnly: true }, [['52:54:00:00:00:08', { hostId: 'h1', hostName: 'lab-01', ip: null }]]);
    expect(await h.ask(pxe('52:54:00:00:00:09', 0), 300)).toBeNull();
    expect((await h.ask(pxe('52:54:00:00:00:08', 0)))?.file).toBe('undionly.kpxe');
    await settled(h.server, 2);
    expect(h.server.stats().ignored.unregistered).toBe(1);
  });
});

const FULL: Partial<DhcpConfig> = {
  mode: 'full', pool: { first: '127.0.0.100', last: '127.0.0.103' }, router: '127.0.0.1', dns: ['127.0.0.53', '127.0.0.54'], leaseSeconds: 600,
};

async function dora(h: Harness, mac: string, extra: [number, OptionValue][] = []): Promise<{ offer: ReplyView; ack: ReplyView }> {
  const offer = await h.ask({ type: DISCOVER, mac, options: extra });
  expect(offer?.messageType).toBe(OFFER);
  const ack = await h.ask({ type: REQUEST, mac, options: [opt.requestedIp(offer!.yiaddr), opt.serverId(SERVER), ...extra] });
  expect(ack?.messageType).toBe(ACK);
  return { offer: offer!, ack: ack! };
}

const leaseRows = (h: Harness) => h.database.db.selectFrom('dhcp_leases').selectAll().orderBy('ip').execute();

describe('full DHCP', () => {
  it('runs DISCOVER-OFFER-REQUEST-ACK, with the network options, and keeps the lease in dhcp_leases', async () => {
    const h = await start(FULL);
    const before = Date.now();
    const { offer, ack } = await dora(h, '52:54:00:00:01:01', [opt.hostName('dhcp-test')]);
    expect(offer).toMatchObject({ yiaddr: '127.0.0.100', siaddr: '0.0.0.0', file: '', giaddr: RELAY });
    expect(ack).toMatchObject({ yiaddr: '127.0.0.100', ciaddr: '0.0.0.0' });
    for (const reply of [offer, ack]) {
      expect(reply.ip(54)).toBe(SERVER);
      expect(reply.ip(1)).toBe('255.0.0.0');
      expect(reply.ips(3)).toEqual(['127.0.0.1']);
      expect(reply.ips(6)).toEqual(['127.0.0.53', '127.0.0.54']);
      expect([reply.uint32(51), reply.uint32(58), reply.uint32(59)]).toEqual([600, 300, 525]);
    }
    const rows = await leaseRows(h);
    expect(rows).toMatchObject([{ mac: '52:54:00:00:01:01', ip: '127.0.0.100', host_id: null, hostname: 'dhcp-test' }]);
    const expires = new Date(rows[0]!.expires_at).getTime();
    expect(expires).toBeGreaterThanOrEqual(before + 599_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 600_000);
    expect(h.backend.notes).toEqual([['127.0.0.100', '52:54:00:00:01:01']]);
    expect(h.backend.observations.map((o) => [o.stage, o.detail.message, o.detail.reply, o.detail.ip])).toEqual([
      ['dhcp', 'DHCPDISCOVER', 'DHCPOFFER', '127.0.0.100'], ['dhcp', 'DHCPREQUEST', 'DHCPACK', '127.0.0.100'],
    ]);
    // The same client asking again gets the same address.
    expect((await h.ask({ type: DISCOVER, mac: '52:54:00:00:01:01' }))?.yiaddr).toBe('127.0.0.100');
  });

  it('sends an ACK only once its lease row is durable, for many clients at once (group commit)', async () => {
    const h = await start({ ...FULL, pool: { first: '127.0.1.0', last: '127.0.1.255' } });
    const macs = Array.from({ length: 60 }, (_, i) => `52:54:00:00:02:${i.toString(16).padStart(2, '0')}`);
    const offers = await Promise.all(macs.map((mac) => h.ask({ type: DISCOVER, mac })));
    const seen: boolean[] = [];
    await Promise.all(macs.map(async (mac, i) => {
      const ack = await h.ask({ type: REQUEST, mac, options: [opt.requestedIp(offers[i]!.yiaddr), opt.serverId(SERVER)] });
      expect(ack?.messageType).toBe(ACK);
      const row = await h.database.db.selectFrom('dhcp_leases').select('ip').where('mac', '=', mac).executeTakeFirst();
      seen.push(row?.ip === ack!.yiaddr);
    }));
    expect(seen).toHaveLength(60);
    expect(seen.every(Boolean)).toBe(true);
    expect(new Set(offers.map((o) => o!.yiaddr)).size).toBe(60);
    expect(h.leases.stats().writes).toBe(60);
  });

  it('gives a registered host its registered address when it lies in the subnet, even outside the pool', async () => {
    const h = await start(FULL, [
      ['52:54:00:00:03:01', { hostId: 'host-1', hostName: 'lab-01', ip: '127.0.0.42' }],
      ['52:54:00:00:03:02', { hostId: 'host-2', hostName: 'lab-02', ip: '10.9.9.9' }],
    ]);
    const { ack } = await dora(h, '52:54:00:00:03:01');
    expect(ack.yiaddr).toBe('127.0.0.42');
    // An address off the subnet is no reservation: the host gets one from the pool.
    expect((await dora(h, '52:54:00:00:03:02')).ack.yiaddr).toBe('127.0.0.100');
    expect(await leaseRows(h)).toMatchObject([
      { mac: '52:54:00:00:03:02', ip: '127.0.0.100', host_id: 'host-2', hostname: 'lab-02' },
      { mac: '52:54:00:00:03:01', ip: '127.0.0.42', host_id: 'host-1', hostname: 'lab-01' },
    ]);
  });

  it('NAKs a client asking for an address that is not its own, broadcast through the relay', async () => {
    const h = await start(FULL);
    await dora(h, '52:54:00:00:04:01');
    // INIT-REBOOT: a second client claims the first one's address.
    const nak = await h.ask({ type: REQUEST, mac: '52:54:00:00:04:02', options: [opt.requestedIp('127.0.0.100')] }, 300);
    // ... it has no record here, so the server stays silent; once it has one, it says no.
    expect(nak).toBeNull();
    await dora(h, '52:54:00:00:04:02');
    const refused = await h.ask({ type: REQUEST, mac: '52:54:00:00:04:02', options: [opt.requestedIp('127.0.0.100')] });
    expect(refused).toMatchObject({ messageType: NAK, yiaddr: '0.0.0.0', giaddr: RELAY });
    expect(refused!.flags & 0x8000).toBe(0x8000);
    expect(refused!.text(56)).toMatch(/127\.0\.0\.100/);
    // Off the network: NAK.
    expect((await h.ask({ type: REQUEST, mac: '52:54:00:00:04:02', options: [opt.requestedIp('10.1.2.3')] }))?.messageType).toBe(NAK);
    // SELECTING an address the pool does not have: NAK.
    expect((await h.ask({ type: REQUEST, mac: '52:54:00:00:04:03', options: [opt.requestedIp('127.0.0.100'), opt.serverId(SERVER)] }))?.messageType).toBe(NAK);
    // SELECTING another server: silence, and the offer held for it is freed.
    const offered = await h.ask({ type: DISCOVER, mac: '52:54:00:00:04:04' });
    expect(await h.ask({ type: REQUEST, mac: '52:54:00:00:04:04', options: [opt.requestedIp(offered!.yiaddr), opt.serverId('127.0.0.250')] }, 300)).toBeNull();
    expect(h.server.stats().ignored['other-server']).toBe(1);
    expect(h.server.stats().leases).toMatchObject({ offers: 0 });
  });

  it('renews a lease unicast to the client\'s address (RENEWING) and NAKs a renewal of someone else\'s address', async () => {
    const h = await start({ ...FULL, pool: { first: CLIENT, last: CLIENT } });
    await dora(h, '52:54:00:00:05:01');
    const id = xid();
    h.client.send({ type: REQUEST, mac: '52:54:00:00:05:01', xid: id, ciaddr: CLIENT }, h.server.ports.dhcp!);
    const ack = await h.client.next(id);
    expect(ack).toMatchObject({ messageType: ACK, yiaddr: CLIENT, ciaddr: CLIENT, giaddr: '0.0.0.0' });
    expect(h.backend.notes.at(-1)).toEqual([CLIENT, '52:54:00:00:05:01']);
    // Another MAC claiming the same ciaddr: NAK (broadcast, which loopback cannot carry: counted, not sent).
    h.client.send({ type: REQUEST, mac: '52:54:00:00:05:02', xid: xid(), ciaddr: CLIENT }, h.server.ports.dhcp!);
    await settled(h.server, h.server.stats().received + 1);
    expect(h.server.stats().dropped['unroutable']).toBe(1);
  });

  it('answers INFORM with configuration but no address or lease', async () => {
    const h = await start(FULL);
    const id = xid();
    h.client.send({ type: INFORM, mac: '52:54:00:00:06:01', xid: id, ciaddr: CLIENT }, h.server.ports.dhcp!);
    const ack = await h.client.next(id);
    expect(ack).toMatchObject({ messageType: ACK, yiaddr: '0.0.0.0', ciaddr: CLIENT });
    expect(ack!.ips(6)).toEqual(['127.0.0.53', '127.0.0.54']);
    expect(ack!.options.has(51)).toBe(false);
    expect(await leaseRows(h)).toEqual([]);
  });

  it('frees an address on RELEASE: it goes to the next client once the pool runs out', async () => {
    const h = await start({ ...FULL, pool: { first: '127.0.0.100', last: '127.0.0.101' } });
    await dora(h, '52:54:00:00:07:01');
    await dora(h, '52:54:00:00:07:02');
    expect(await h.ask({ type: DISCOVER, mac: '52:54:00:00:07:03' }, 300)).toBeNull();
    expect(h.server.stats().ignored['pool-exhausted']).toBe(1);
    h.relay.send({ type: RELEASE, mac: '52:54:00:00:07:01', giaddr: RELAY, ciaddr: '127.0.0.100', xid: xid(), options: [opt.serverId(SERVER)] }, h.server.ports.dhcp!);
    await settled(h.server, h.server.stats().received + 1);
    expect(h.server.stats().ignored.released).toBe(1);
    const { ack } = await dora(h, '52:54:00:00:07:03');
    expect(ack.yiaddr).toBe('127.0.0.100');
    expect((await leaseRows(h)).map((r) => [r.ip, r.mac])).toEqual([['127.0.0.100', '52:54:00:00:07:03'], ['127.0.0.101', '52:54:00:00:07:02']]);
  });

  it('quarantines a DECLINEd address', async () => {
    const h = await start({ ...FULL, pool: { first: '127.0.0.100', last: '127.0.0.101' } });
    const { ack } = await dora(h, '52:54:00:00:08:01');
    h.relay.send({ type: DECLINE, mac: '52:54:00:00:08:01', giaddr: RELAY, xid: xid(), options: [opt.requestedIp(ack.yiaddr), opt.serverId(SERVER)] }, h.server.ports.dhcp!);
    await settled(h.server, h.server.stats().received + 1);
    expect(h.server.stats().ignored.declined).toBe(1);
    expect((await dora(h, '52:54:00:00:08:01')).ack.yiaddr).toBe('127.0.0.101');
    expect(await h.ask({ type: DISCOVER, mac: '52:54:00:00:08:02' }, 300)).toBeNull();
    expect(h.server.stats().leases).toMatchObject({ quarantined: 1 });
  });

  it('keeps leases across a restart (PGlite on disk): the client keeps its address, others do not get it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'brume-dhcp-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const client = await Endpoint.bind(CLIENT);
    cleanups.push(() => client.close());
    const first = await start({ ...FULL, pool: { first: '127.0.0.100', last: '127.0.0.101' } }, [], dataDir, client);
    const { ack } = await dora(first, '52:54:00:00:09:01');
    // Stop everything: server, then its database.
    for (const cleanup of cleanups.splice(2).reverse()) await cleanup();

    const second = await start({ ...FULL, pool: { first: '127.0.0.100', last: '127.0.0.101' } }, [], dataDir, client);
    expect(second.server.stats().leases).toMatchObject({ leases: 1, active: 1 });
    // INIT-REBOOT after the restart: the server has its record and confirms.
    const again = await second.ask({ type: REQUEST, mac: '52:54:00:00:09:01', options: [opt.requestedIp(ack.yiaddr)] });
    expect(again).toMatchObject({ messageType: ACK, yiaddr: ack.yiaddr });
    expect((await second.ask({ type: DISCOVER, mac: '52:54:00:00:09:02' }))?.yiaddr).toBe('127.0.0.101');
  });

  it('with registered-only, answers only registered MACs', async () => {
    const h = await start({ ...FULL, registeredOnly: true }, [['52:54:00:00:0a:01', { hostId: 'h', hostName: 'lab', ip: null }]]);
    expect(await h.ask({ type: DISCOVER, mac: '52:54:00:00:0a:02' }, 300)).toBeNull();
    await dora(h, '52:54:00:00:0a:01');
    expect(h.server.stats().ignored.unregistered).toBe(1);
  });

  it('gives PXE clients their boot file, iPXE its script URL and HTTP-boot clients a URL, with their address', async () => {
    const h = await start(FULL);
    const bios = await dora(h, '52:54:00:00:0b:01', [opt.vendorClass(PXE_BIOS), opt.arch(0)]);
    expect(bios.ack).toMatchObject({ file: 'undionly.kpxe', siaddr: BOOT_SERVER, yiaddr: '127.0.0.100' });
    expect(bios.ack.text(66)).toBe(BOOT_SERVER);
    expect(bios.ack.options.has(60)).toBe(false);
    const ipxe = await dora(h, '52:54:00:00:0b:01', [opt.vendorClass(PXE_BIOS), opt.arch(0), opt.userClass('iPXE')]);
    expect(ipxe.ack.file).toBe('http://127.0.0.1:8080/boot/ipxe?mac=52:54:00:00:0b:01&arch=${buildarch}&platform=${platform}');
    const http = await dora(h, '52:54:00:00:0b:02', [opt.vendorClass('HTTPClient:Arch:00016:UNDI:003001'), opt.arch(16)]);
    expect(http.ack.file).toBe('http://127.0.0.1:8080/boot/files/ipxe.efi');
    expect(http.ack.text(60)).toBe('HTTPClient');
    // An ordinary client gets an address and nothing to boot.
    const plain = await dora(h, '52:54:00:00:0b:03');
    expect(plain.ack).toMatchObject({ file: '', siaddr: '0.0.0.0' });
  });

  it('never broadcasts without an interface: a DISCOVER with no relay is counted, not answered', async () => {
    const h = await start(FULL);
    h.client.send({ type: DISCOVER, mac: '52:54:00:00:0c:01', xid: xid() }, h.server.ports.dhcp!);
    await settled(h.server, 1);
    expect(h.server.stats().dropped['unroutable']).toBe(1);
  });

  it('does nothing at all in mode off', async () => {
    const server = await startDhcpServer({
      config: { mode: 'off' } as DhcpConfig, backend: new StaticBackend(), bootServerAddress: BOOT_SERVER, httpBaseUrl: HTTP,
      leases: { load: async () => { throw new Error('not used'); }, write: async () => {}, close: async () => {} },
    });
    expect(server.ports).toEqual({ dhcp: null, proxy: null });
    expect(server.stats().received).toBe(0);
    await server.close();
  });
});
