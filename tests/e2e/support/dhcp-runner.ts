/**
 * Runs inside a test's network namespace, in one of two roles, and reports
 * on stdout as JSON lines.
 *
 *   node --import tsx tests/e2e/support/dhcp-runner.ts server
 *     brume's DHCP responder, configured by the BRUME_DHCP_* variables
 *     (dhcpConfigFromEnv, so the real interface lookup runs), with a static
 *     backend (RUNNER_HOSTS: JSON {mac: {hostId, hostName, ip}}), leases on
 *     PGlite in RUNNER_DATA_DIR, boot server RUNNER_BOOT_SERVER and HTTP base
 *     RUNNER_HTTP_URL. Prints {event:'ready'}, then one line per observe /
 *     noteAddress / log; SIGUSR2 prints {event:'stats'}; SIGTERM closes,
 *     prints the final stats and the dhcp_leases rows, and exits.
 *
 *   node --import tsx tests/e2e/support/dhcp-runner.ts pxe-client <device> <arch>
 *     a PXE ROM's conversation, byte for byte: DISCOVER (PXEClient, option
 *     93/94/97), collect the offers, REQUEST the address from the server
 *     that offered one, configure it, then ask the proxyDHCP server that
 *     offered boot information on port 4011. Prints {event:'pxe', ...}.
 */
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import type { BootObservation } from '../../../core/boot/boot-stage.ts';
import type { KnownHost, ResponderBackend } from '../../../adapters/boot/responder-backend.ts';
import { migrate, openDatabase } from '../../../adapters/database/open-database.ts';
import { bindToInterface } from '../../../adapters/dhcp/bind-to-interface.ts';
import { clientOption as opt, decodeReply, encodeClientMessage, type ClientMessage, type ReplyView } from '../../support/dhcp-client-messages.ts';
import { dhcpConfigFromEnv } from '../../../adapters/dhcp/dhcp-config.ts';
import { startDhcpServer } from '../../../adapters/dhcp/dhcp-server.ts';
import { prefixLength } from '../../../core/shared/ipv4.ts';
import { SqlLeaseStore } from '../../../adapters/dhcp/sql-lease-store.ts';

const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

async function server(): Promise<void> {
  const env = process.env;
  const config = dhcpConfigFromEnv(env);
  const database = await openDatabase({ dataDir: env.RUNNER_DATA_DIR });
  await migrate(database.db);
  const hosts = new Map<string, KnownHost>(Object.entries(JSON.parse(env.RUNNER_HOSTS ?? '{}') as Record<string, KnownHost>));
  const backend: ResponderBackend = {
    hostFor: (mac) => hosts.get(mac) ?? null,
    observe: (observation: BootObservation) => emit({ event: 'observe', ...observation }),
    observeAddress() {},
    noteAddress: (ip, mac) => emit({ event: 'note', ip, mac }),
  };
  const leases = new SqlLeaseStore(database.db);
  let dhcp;
  try {
    dhcp = await startDhcpServer({
      config, backend, leases, bootServerAddress: env.RUNNER_BOOT_SERVER ?? config.serverAddress,
      httpBaseUrl: env.RUNNER_HTTP_URL ?? `http://${config.serverAddress}:8080`,
      log: (level, message) => emit({ event: 'log', level, message }),
    });
  } catch (error) {
    emit({ event: 'error', message: (error as Error).message });
    await database.close();
    process.exit(1);
  }
  const running = dhcp;
  emit({ event: 'ready', ports: running.ports, serverAddress: config.serverAddress, mode: config.mode });
  process.on('SIGUSR2', () => emit({ event: 'stats', stats: running.stats() }));
  process.once('SIGTERM', () => {
    void (async () => {
      await running.close();
      await leases.close();
      const rows = await database.db.selectFrom('dhcp_leases').selectAll().orderBy('ip').execute();
      emit({ event: 'stats', final: true, stats: running.stats(), leases: rows });
      await database.close();
      process.exit(0);
    })();
  });
}

/** Waits for a reply that `accept` takes, or null after `ms`. */
function receive(socket: Socket, accept: (reply: ReplyView) => boolean, ms: number): Promise<ReplyView | null> {
  return new Promise((resolve) => {
    const onMessage = (message: Buffer) => {
      let reply: ReplyView;
      try { reply = decodeReply(message); } catch { return; }
      if (!accept(reply)) return;
      done(reply);
    };
    const timer = setTimeout(() => done(null), ms);
    const done = (reply: ReplyView | null) => { clearTimeout(timer); socket.off('message', onMessage); resolve(reply); };
    socket.on('message', onMessage);
  });
}

const summary = (reply: ReplyView | null) => reply && {
  type: reply.messageType, yiaddr: reply.yiaddr, ciaddr: reply.ciaddr, siaddr: reply.siaddr, file: reply.file,
  serverId: reply.ip(54), mask: reply.ip(1), vendorClass: reply.text(60), tftpServer: reply.text(66),
  option43: reply.bytes(43), option97: reply.bytes(97),
};

async function pxeClient(device: string, arch: number): Promise<void> {
  const mac = readFileSync(`/sys/class/net/${device}/address`, 'utf8').trim();
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(68, '0.0.0.0', () => resolve()));
  bindToInterface(socket, device);
  socket.setBroadcast(true);
  const xid = (Math.random() * 2 ** 32) >>> 0;
  const guid = [...Array(16).keys()].map((i) => (i * 17) & 255);
  const pxeOptions = [
    opt.parameterRequestList(1, 3, 6, 43, 54, 60, 66, 67, 97), opt.vendorClass(`PXEClient:Arch:${String(arch).padStart(5, '0')}:UNDI:002001`),
    opt.arch(arch), opt.clientNdi(), opt.uuid(guid),
  ];
  const send = (message: ClientMessage, address: string, port: number) =>
    new Promise<void>((resolve, reject) => socket.send(encodeClientMessage(message), port, address, (e) => (e ? reject(e) : resolve())));

  // A PXE ROM waits a while and takes every offer: one with an address, one with boot information.
  const offers: ReplyView[] = [];
  const collecting = receive(socket, (reply) => {
    if (reply.xid === xid && reply.messageType === 2) offers.push(reply);
    return offers.some((o) => o.yiaddr !== '0.0.0.0') && offers.some((o) => o.text(60) === 'PXEClient');
  }, 6000);
  await send({ type: 1, mac, xid, flags: 0x8000, options: pxeOptions }, '255.255.255.255', 67);
  await collecting;
  const addressOffer = offers.find((o) => o.yiaddr !== '0.0.0.0') ?? null;
  const proxyOffer = offers.find((o) => o.yiaddr === '0.0.0.0' && o.text(60) === 'PXEClient') ?? null;
  let ack: ReplyView | null = null;
  let proxyAck: ReplyView | null = null;
  if (addressOffer) {
    const acked = receive(socket, (r) => r.xid === xid && (r.messageType === 5 || r.messageType === 6), 5000);
    await send({ type: 3, mac, xid, flags: 0x8000, options: [opt.requestedIp(addressOffer.yiaddr), opt.serverId(addressOffer.ip(54)!), ...pxeOptions] }, '255.255.255.255', 67);
    ack = await acked;
  }
  if (ack?.messageType === 5 && proxyOffer) {
    const prefix = prefixLength(ack.ip(1) ?? '255.255.255.0') ?? 24;
    execFileSync('ip', ['addr', 'add', `${ack.yiaddr}/${prefix}`, 'dev', device]);
    const proxyXid = (xid + 1) >>> 0;
    const acked = receive(socket, (r) => r.xid === proxyXid && r.messageType === 5, 5000);
    await send({ type: 3, mac, xid: proxyXid, ciaddr: ack.yiaddr, options: [...pxeOptions, [43, [71, 4, 0, 0, 0, 0, 255]]] }, proxyOffer.ip(54)!, 4011);
    proxyAck = await acked;
  }
  emit({ event: 'pxe', mac, offers: offers.map(summary), addressOffer: summary(addressOffer), proxyOffer: summary(proxyOffer), ack: summary(ack), proxyAck: summary(proxyAck) });
  socket.close();
}

const [role, ...args] = process.argv.slice(2);
if (role === 'server') await server();
else if (role === 'pxe-client') await pxeClient(args[0] ?? 'eth0', Number(args[1] ?? 0));
else {
  console.error('usage: dhcp-runner.ts server | pxe-client <device> <arch>');
  process.exit(2);
}
