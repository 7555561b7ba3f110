import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { ResponderBackend } from '../boot/responder-backend.ts';
import { bindToInterface } from './bind-to-interface.ts';
import type { DhcpConfig, DhcpMode } from './dhcp-config.ts';
import { decodeRequest, encodeReply, type MalformedReason } from './dhcp-packet.ts';
import { DhcpResponder, type Answer, type Decision, type Destination, type IgnoreReason, type Via } from './dhcp-responder.ts';
import { isIpv4, Subnet } from '../../core/shared/ipv4.ts';
import { LeasePool } from './lease-pool.ts';
import type { LeaseStore } from './lease-store.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface DhcpServerOptions {
  config: DhcpConfig;
  backend: ResponderBackend;
  /** Full mode keeps its leases here; loaded once at start. Unused in proxy mode. */
  leases: LeaseStore;
  /** TFTP server given to PXE clients (siaddr, option 66). */
  bootServerAddress: string;
  /** brume's HTTP base URL, for iPXE scripts and UEFI HTTP boot. */
  httpBaseUrl: string;
  log?: (level: LogLevel, message: string) => void;
}

/** Packets dropped without a decision: malformed, or the server could not answer. */
export type DropReason =
  | MalformedReason | 'overloaded' | 'unroutable' | 'lease-write-failed' | 'send-failed'
  | 'encode-failed' | 'internal-error' | 'closing';

/**
 * Every received datagram ends in exactly one bucket: answered (by reply
 * type), ignored (valid, deliberately not answered) or dropped. Once no ACK
 * waits for its lease write, received = answered + ignored + dropped.
 */
export interface DhcpStats {
  received: number;
  answered: Record<Answer, number>;
  ignored: Partial<Record<IgnoreReason, number>>;
  dropped: Partial<Record<DropReason, number>>;
  /** ACKs waiting for their lease to be durable. */
  pendingWrites: number;
  /** Full mode: leases in memory (active = not expired), offers held, addresses quarantined. */
  leases: { leases: number; active: number; offers: number; quarantined: number } | null;
}

export interface DhcpServer {
  readonly mode: DhcpMode;
  /** The ports actually bound (tests may configure 0); null where the mode has no socket. */
  readonly ports: { dhcp: number | null; proxy: number | null };
  stats(): DhcpStats;
  /** Lets ACKs waiting on their lease write go out (for up to 5 s), then closes the sockets. */
  close(): Promise<void>;
}

/** ACKs allowed to wait on the database at once; beyond it the database is stuck and new packets are dropped. */
const MAX_PENDING_WRITES = 1024;
const BROADCAST = '255.255.255.255';
const WARNING_INTERVAL_MS = 60_000;
const CLOSE_WAIT_MS = 5_000;

/**
 * Starts the DHCP responder the configuration asks for: nothing in mode
 * `off`, port 67 (and 4011 for proxyDHCP) bound to the configured interface
 * otherwise. A port that cannot be bound is an Error saying which, why and
 * what to do, for the caller to print without a stack trace.
 *
 * @example
 * const dhcp = await startDhcpServer({ config, backend, leases: new SqlLeaseStore(db),
 *   bootServerAddress: '192.0.2.1', httpBaseUrl: 'http://192.0.2.1:8080' });
 * console.log(dhcp.stats());
 * await dhcp.close();
 */
export async function startDhcpServer(options: DhcpServerOptions): Promise<DhcpServer> {
  const { config } = options;
  const log = options.log ?? (() => {});
  if (config.mode === 'off') {
    return { mode: 'off', ports: { dhcp: null, proxy: null }, stats: () => emptyStats(null), close: async () => {} };
  }
  if (!isIpv4(options.bootServerAddress)) throw new Error(`the boot server address must be an IPv4 address, not "${options.bootServerAddress}"`);
  let pool: LeasePool | null = null;
  if (config.mode === 'full') {
    if (!config.pool) throw new Error('full-mode DHCP needs an address pool (BRUME_DHCP_POOL)');
    pool = new LeasePool({
      ...config.pool, subnet: new Subnet(config.serverAddress, config.netmask),
      excluded: [config.serverAddress, ...(config.router ? [config.router] : [])],
      reservedForOther: (ip, mac) => {
        const owner = options.backend.hostForAddress?.(ip);
        return !!owner && owner.hostId !== options.backend.hostFor(mac)?.hostId;
      },
    });
    pool.load(await options.leases.load());
  }
  const responder = new DhcpResponder({
    config, backend: options.backend, pool, bootServerAddress: options.bootServerAddress, httpBaseUrl: options.httpBaseUrl,
  });
  const dhcpSocket = await openSocket(config, config.port, 'DHCP');
  let proxySocket: Socket | null = null;
  if (config.mode === 'proxy') {
    try {
      proxySocket = await openSocket(config, config.proxyPort, 'proxyDHCP');
    } catch (error) {
      dhcpSocket.close();
      throw error;
    }
  }
  const server = new RunningServer(config, options, responder, pool, dhcpSocket, proxySocket, log);
  const where = config.interfaceName ? `${config.interfaceName} (${config.serverAddress})` : config.listenAddress;
  log('info', `DHCP ${config.mode} mode on ${where}, UDP port ${server.ports.dhcp}${proxySocket ? ` and ${server.ports.proxy}` : ''}`
    + `${config.registeredOnly ? ', registered hosts only' : ''}`);
  return server;
}

class RunningServer implements DhcpServer {
  readonly mode: DhcpMode;
  readonly ports: { dhcp: number | null; proxy: number | null };
  private readonly counters = emptyStats(null);
  private readonly inflight = new Set<Promise<void>>();
  private readonly warnedAt = new Map<string, number>();
  private closing = false;

  constructor(
    private readonly config: DhcpConfig,
    private readonly options: DhcpServerOptions,
    private readonly responder: DhcpResponder,
    private readonly pool: LeasePool | null,
    private readonly dhcpSocket: Socket,
    private readonly proxySocket: Socket | null,
    private readonly log: (level: LogLevel, message: string) => void,
  ) {
    this.mode = config.mode;
    this.ports = { dhcp: dhcpSocket.address().port, proxy: proxySocket?.address().port ?? null };
    this.listen(dhcpSocket, 'dhcp');
    if (proxySocket) this.listen(proxySocket, 'proxy');
  }

  stats(): DhcpStats {
    const c = this.counters;
    return {
      received: c.received, answered: { ...c.answered }, ignored: { ...c.ignored }, dropped: { ...c.dropped },
      pendingWrites: c.pendingWrites, leases: this.pool?.counts(Date.now()) ?? null,
    };
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    // ACKs waiting on their lease write may still go out, but a stuck database does not hold up shutdown.
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref());
    const drained = (async () => { while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]); })();
    await Promise.race([drained, deadline]);
    await Promise.all([this.dhcpSocket, this.proxySocket].filter((s): s is Socket => s !== null)
      .map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
  }

  private listen(socket: Socket, via: Via): void {
    socket.on('message', (datagram, source) => this.receive(socket, via, datagram, source));
    // A UDP socket's late errors are not fatal to the responder; say so and keep serving.
    const port = via === 'dhcp' ? this.ports.dhcp : this.ports.proxy;
    socket.on('error', (error) => this.warn(`socket-${via}`, `DHCP socket error on port ${port}: ${error.message}`));
  }

  private receive(socket: Socket, via: Via, datagram: Buffer, source: RemoteInfo): void {
    this.counters.received++;
    if (this.closing) return this.drop('closing');
    if (this.counters.pendingWrites >= MAX_PENDING_WRITES) {
      this.warn('overloaded', `${MAX_PENDING_WRITES} DHCP ACKs are waiting for the database; dropping requests until it catches up`);
      return this.drop('overloaded');
    }
    const decoded = decodeRequest(datagram);
    if (!decoded.ok) return this.drop(decoded.reason);
    let decision: Decision;
    try {
      decision = this.responder.decide(decoded.request, via, { address: source.address, port: source.port }, Date.now());
    } catch (error) {
      this.warn('internal-error', `DHCP responder failed on a packet from ${source.address}: ${(error as Error).stack ?? error}`);
      return this.drop('internal-error');
    }
    if (decision.kind === 'ignore') {
      this.counters.ignored[decision.reason] = (this.counters.ignored[decision.reason] ?? 0) + 1;
      if (decision.warning) this.warn(decision.reason, decision.warning);
      // RELEASE/DECLINE: nobody waits for an answer, so the write runs in the background.
      if (decision.commit) this.track(this.options.leases.write(decision.commit).catch((error: Error) => this.warn('lease-write', `cannot save a DHCP lease change: ${error.message}`)));
      return;
    }
    const target = this.resolve(decision.to, source);
    if (!target) return this.drop('unroutable');
    let bytes: Buffer;
    try {
      bytes = encodeReply(decision.reply);
    } catch {
      return this.drop('encode-failed');
    }
    if (!decision.commit) return this.send(socket, bytes, target, decision);
    // Group commit: the ACK leaves only once its lease is durable; other packets are served meanwhile.
    this.counters.pendingWrites++;
    this.track(this.options.leases.write({ kind: 'save', lease: decision.commit }).then(
      () => this.send(socket, bytes, target, decision),
      (error: Error) => {
        this.warn('lease-write', `cannot save the DHCP lease of ${decision.commit!.mac}; its ACK was not sent: ${error.message}`);
        this.drop('lease-write-failed');
      },
    ).finally(() => { this.counters.pendingWrites--; }));
  }

  /**
   * The address and port a reply goes to, or null when it must not be sent.
   * Without an interface (tests), a broadcast or a non-loopback destination
   * would leave by the default route onto a real network: never do that.
   */
  private resolve(to: Destination, source: RemoteInfo): { address: string; port: number } | null {
    let target: { address: string; port: number };
    switch (to.kind) {
      case 'relay': target = { address: to.address, port: this.ports.dhcp! }; break;
      case 'client': target = { address: to.address, port: this.config.clientPort }; break;
      case 'source': target = { address: to.address || source.address, port: to.port }; break;
      case 'broadcast': target = { address: BROADCAST, port: this.config.clientPort }; break;
    }
    if (this.config.interfaceName === null && !target.address.startsWith('127.')) return null;
    return target;
  }

  private send(socket: Socket, bytes: Buffer, target: { address: string; port: number }, decision: Extract<Decision, { kind: 'reply' }>): void {
    const sent = (error: Error | null) => {
      if (error) return this.drop('send-failed');
      this.counters.answered[decision.answer]++;
      try {
        if (decision.address) this.options.backend.noteAddress(decision.address, decision.reply.mac);
        this.options.backend.observe(decision.observation);
      } catch (failure) {
        this.warn('backend', `the boot backend failed to record a DHCP answer: ${(failure as Error).message}`);
      }
    };
    try {
      socket.send(bytes, target.port, target.address, sent);
    } catch (error) {
      sent(error as Error);
    }
  }

  private drop(reason: DropReason): void {
    this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + 1;
  }

  private track(work: Promise<unknown>): void {
    const settled = work.then(() => {}, () => {});
    this.inflight.add(settled);
    void settled.finally(() => this.inflight.delete(settled));
  }

  /** Logs a warning at most once a minute per kind, so a flood cannot flood the log too. */
  private warn(kind: string, message: string): void {
    const now = Date.now();
    if (now - (this.warnedAt.get(kind) ?? -Infinity) < WARNING_INTERVAL_MS) return;
    this.warnedAt.set(kind, now);
    this.log('warn', message);
  }
}

function emptyStats(leases: DhcpStats['leases']): DhcpStats {
  return { received: 0, answered: { offer: 0, ack: 0, nak: 0 }, ignored: {}, dropped: {}, pendingWrites: 0, leases };
}

async function openSocket(config: DhcpConfig, port: number, label: 'DHCP' | 'proxyDHCP'): Promise<Socket> {
  // No reuseAddr: a second DHCP server on the port must show up as EADDRINUSE, not silently share it.
  const socket = createSocket({ type: 'udp4' });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, config.listenAddress, () => {
        socket.off('error', reject);
        // Until the server attaches its own handler, an 'error' event must not find the socket without one (that would throw).
        socket.on('error', () => {});
        resolve();
      });
    });
  } catch (error) {
    socket.close();
    throw new Error(bindFailureMessage(error as NodeJS.ErrnoException, port, label, config), { cause: error });
  }
  try {
    if (config.interfaceName) bindToInterface(socket, config.interfaceName);
    socket.setBroadcast(true);
  } catch (error) {
    socket.close();
    throw new Error(`cannot serve ${label} on ${config.interfaceName}: ${(error as Error).message}. `
      + 'Binding a socket to an interface may need root or CAP_NET_RAW.', { cause: error });
  }
  return socket;
}

/** Why a DHCP port could not be bound and what to do about it, in one sentence or three. */
export function bindFailureMessage(error: NodeJS.ErrnoException, port: number, label: 'DHCP' | 'proxyDHCP', config: DhcpConfig): string {
  const where = `UDP port ${port} (${label})${config.interfaceName ? ` for ${config.interfaceName}` : ''}`;
  const variable = label === 'DHCP' ? 'BRUME_DHCP_PORT' : 'BRUME_DHCP_PROXY_PORT';
  switch (error.code) {
    case 'EADDRINUSE':
      return label === 'DHCP'
        ? `cannot listen on ${where}: another program is already using it, most likely another DHCP server (dnsmasq, isc-dhcp-server, kea). `
          + `"ss -lunp 'sport = :${port}'" shows which. Stop it, or set BRUME_DHCP_MODE=off and leave DHCP to it (pointing its boot options at brume); `
          + 'proxy mode needs the port too, so a site DHCP server must run on another machine.'
        : `cannot listen on ${where}: another program is already using it, most likely another PXE/proxyDHCP service (dnsmasq with a proxy range, WDS). `
          + `"ss -lunp 'sport = :${port}'" shows which. Stop it, or set BRUME_DHCP_MODE=off.`;
    case 'EACCES':
      return `cannot listen on ${where}: permission denied. Ports below 1024 need root or CAP_NET_BIND_SERVICE (and binding to an interface CAP_NET_RAW): `
        + 'run brume as root, grant node the capabilities (setcap cap_net_bind_service,cap_net_raw+ep "$(readlink -f "$(which node)")"), '
        + `or set BRUME_DHCP_MODE=off. (${variable} changes the port, but PXE clients only use the standard one.)`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: ${config.listenAddress} is not an address of this machine.`;
    default:
      return `cannot listen on ${where}: ${error.message}`;
  }
}
