/*
 * brume's TFTP server: read-only, boot files from memory (BootFiles), many
 * transfers at once, each on its own ephemeral UDP socket (the server TID).
 *
 * Requests are parsed and checked with the npm `tftp` package's codec
 * (tftp-packets.ts). Its server is not used and the transfer engine
 * (tftp-transfer.ts) is brume's own: that server retransmits on a fixed
 * timer with no back-off, resends the whole window whatever the client
 * acknowledged, and streams every transfer from disk, none of which holds up
 * in a boot storm on a lossy network.
 */
import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import type { AddressInfo } from 'node:net';
import { isIPv4 } from 'node:net';
import type { BootFiles } from '../boot-files/boot-files.ts';
import type { ResponderBackend } from '../boot/responder-backend.ts';
import { DEFAULT_TFTP_THREADS } from './tftp-config.ts';
import { ERROR_CODE, errorPacket, oackPacket, parseRequest, toNetascii, type ReadRequest } from './tftp-packets.ts';
import { loadNative } from '../native/load-native.ts';
import { NativeTftpTransfer } from './native-tftp-transfer.ts';
import { TftpTransfer, type TransferCounters, type TransferOutcome, type TransferPlan } from './tftp-transfer.ts';

/** The listening address and negotiation caps (tftpConfigFromEnv), plus tuning with sensible defaults. */
export interface TftpServerConfig {
  host: string;
  port: number;
  maxWindow: number;
  maxBlksize: number;
  /** First retransmit timeout when the client sent no `timeout` option. Default 1000 ms. */
  timeoutMs?: number;
  /** Cap of the exponential back-off. Default 8000 ms (or the client's timeout, if larger). */
  maxTimeoutMs?: number;
  /** Consecutive timeouts before a transfer is abandoned. Default 5. */
  retries?: number;
  /** Transfers at once; requests beyond are dropped (clients retry their RRQ). Default 500 (one socket each). */
  maxTransfers?: number;
  /** A transfer may resend this many times its file size (plus `retries` windows) before it is aborted. Default 4. */
  retransmitBudgetFactor?: number;
  /**
   * A transfer that starts while fewer than this many others run gets a thread and a socket of its own
   * (the native addon), as tftpd-hpa runs a process per transfer; the others run on the event loop, as
   * all do without the addon or with 0. A lone client is fastest on a thread (an ACK is answered without
   * waiting for the event loop), many at once on the event loop (one wake-up serves many packets, where
   * threads are each woken per packet). Default: twice the CPU count.
   */
  threads?: number;
}

export type TftpLog = (level: 'info' | 'warn' | 'error', message: string) => void;

/** How one transfer went, kept for the last RECENT_LIMIT transfers. */
export interface TftpTransferRecord {
  client: string;
  file: string;
  size: number;
  blksize: number;
  windowsize: number;
  outcome: 'complete' | 'failed';
  reason?: string;
  message?: string;
  durationMs: number;
  retransmittedBytes: number;
  /** The longest retransmit timeout the back-off reached. */
  maxTimeoutMs: number;
}

export interface TftpStats extends TransferCounters {
  /** RRQ and WRQ packets received. */
  requests: number;
  /** Read transfers started (an OACK or DATA sent). */
  started: number;
  completed: number;
  failed: number;
  /** Transfers a client ended after the OACK, having only wanted the size (UEFI PXE does this before every download). */
  sizeProbes: number;
  active: number;
  /** Requests answered with an ERROR: not found, forbidden, write, bad option, malformed request. */
  refused: number;
  /** Packets on the server port that are not requests, and requests too broken to answer. */
  malformed: number;
  /** An RRQ repeated by a client whose transfer is already running (its retry). */
  duplicateRequests: number;
  /** RRQs dropped because maxTransfers were running. */
  busy: number;
  recent: TftpTransferRecord[];
}

export interface TftpServer {
  address(): AddressInfo;
  /** Where transfers run: on threads of their own (the native addon), or on the event loop (and why). */
  readonly engine: string;
  stats(): TftpStats;
  /** Stops listening and ends running transfers with an ERROR to their clients. */
  close(): Promise<void>;
}

export interface StartTftpOptions {
  config: TftpServerConfig;
  files: BootFiles;
  backend: Pick<ResponderBackend, 'observeAddress'>;
  log?: TftpLog;
}

const RECENT_LIMIT = 100;
const WARNINGS_PER_MINUTE = 20;

/**
 * Sends boot files by TFTP (RFC 1350, options 2347-2349, windowsize 7440).
 * A port that cannot be bound is an Error saying which, why and what to do.
 *
 * @example
 * const tftp = await startTftpServer({ config: tftpConfigFromEnv(process.env, { dhcpEnabled: true }), files, backend, log });
 * // ... later
 * await tftp.close();
 */
export async function startTftpServer({ config, files, backend, log = () => {} }: StartTftpOptions): Promise<TftpServer> {
  const tuning = {
    timeoutMs: config.timeoutMs ?? 1000,
    maxTimeoutMs: config.maxTimeoutMs ?? 8000,
    retries: config.retries ?? 5,
    maxTransfers: config.maxTransfers ?? 500,
    budgetFactor: config.retransmitBudgetFactor ?? 4,
  };
  const maxThreads = config.threads ?? DEFAULT_TFTP_THREADS;
  const native = maxThreads === 0 ? { ok: false as const, reason: 'threads are off' } : loadNative();
  const engine = native.ok ? `threads (while fewer than ${maxThreads} others run, else the event loop)` : `the event loop (${native.reason})`;
  const socket = createSocket(socketOptions);
  try {
    await bindSocket(socket, config.port, config.host);
  } catch (error) {
    try { socket.close(); } catch { /* never bound */ }
    throw new Error(bindFailure(error as NodeJS.ErrnoException, config), { cause: error });
  }
  socket.on('error', (error) => log('error', `server socket: ${error.message}`));

  const counters: Omit<TftpStats, 'active' | 'recent'> = {
    requests: 0, started: 0, completed: 0, failed: 0, sizeProbes: 0, refused: 0, malformed: 0, duplicateRequests: 0, busy: 0,
    blocksSent: 0, bytesSent: 0, retransmittedBlocks: 0, retransmittedBytes: 0, timeouts: 0, duplicateAcks: 0, goBacks: 0, strays: 0,
  };
  // Failed transfers are worth a warning each, but a misbehaving client (or a storm of them) must not
  // flood the log: at most WARNINGS_PER_MINUTE lines, then one line saying how many were left out.
  let warnWindowStart = Date.now();
  let warnedInWindow = 0;
  let suppressed = 0;
  const warnLimited = (line: string) => {
    const now = Date.now();
    if (now - warnWindowStart >= 60_000) {
      if (suppressed) log('warn', `${suppressed} more failed transfer(s) in the last minute were not logged one by one (see the stats)`);
      warnWindowStart = now;
      warnedInWindow = 0;
      suppressed = 0;
    }
    if (warnedInWindow < WARNINGS_PER_MINUTE) {
      warnedInWindow++;
      log('warn', line);
    } else suppressed++;
  };
  const recent: TftpTransferRecord[] = [];
  /** Transfers by client "ip:port"; null while the file is read and the socket opened. */
  const active = new Map<string, TftpTransfer | NativeTftpTransfer | null>();
  const netascii = new WeakMap<Buffer, Buffer>();
  let closed = false;

  const refuse = (to: { address: string; port: number }, code: number, message: string) => {
    counters.refused++;
    socket.send(errorPacket(code, message), to.port, to.address);
  };

  async function serve(request: ReadRequest, client: { address: string; port: number }, key: string): Promise<void> {
    const found = await files.read(request.file);
    if (closed) return;
    if (!found.ok) {
      active.delete(key);
      refuse(client, found.code === 'not-found' ? ERROR_CODE.notFound : ERROR_CODE.accessViolation, found.message);
      // JSON quoting: a requested name may hold control characters, which must not forge log lines.
      log('info', `${key} asked for ${JSON.stringify(request.file)}: ${found.message}`);
      return;
    }
    let data = found.data;
    if (request.mode === 'netascii') {
      data = netascii.get(found.data) ?? toNetascii(found.data);
      netascii.set(found.data, data);
    }
    const terms = negotiate(request, data.length, config, tuning.timeoutMs);
    const name = found.name;
    const finished = (t: TftpTransfer | NativeTftpTransfer, outcome: TransferOutcome) => {
      active.delete(key);
      const record: TftpTransferRecord = {
        client: key, file: name, size: data.length, blksize: terms.blksize, windowsize: terms.windowsize,
        outcome: outcome.ok ? 'complete' : 'failed', durationMs: Date.now() - t.startedAt,
        retransmittedBytes: t.retransmittedBytes, maxTimeoutMs: t.maxTimeoutMs,
        ...(outcome.ok ? {} : { reason: outcome.reason, message: outcome.message }),
      };
      recent.push(record);
      if (recent.length > RECENT_LIMIT) recent.shift();
      if (outcome.ok) {
        counters.completed++;
        const resent = t.retransmittedBytes ? `, ${t.retransmittedBytes} bytes resent` : '';
        log('info', `sent ${name} (${data.length} bytes) to ${key} in ${record.durationMs} ms, blksize ${terms.blksize}, windowsize ${terms.windowsize}${resent}`);
      } else {
        if (outcome.reason === 'size-probe') counters.sizeProbes++;
        else counters.failed++;
        const routine = outcome.reason === 'closed' || outcome.reason === 'size-probe';
        const line = `sending ${name} to ${key} ${routine ? 'ended' : 'failed'}: ${outcome.message}`;
        if (routine) log('info', line);
        else warnLimited(line);
      }
    };
    const plan: TransferPlan = {
      data, blksize: terms.blksize, windowsize: terms.windowsize, oack: terms.oack,
      timeoutMs: terms.timeoutMs, maxTimeoutMs: tuning.maxTimeoutMs, retries: tuning.retries,
      retransmitBudget: tuning.budgetFactor * data.length + tuning.retries * terms.windowsize * terms.blksize,
    };
    let transfer: TftpTransfer | NativeTftpTransfer;
    // `active` holds this transfer's placeholder too.
    if (native.ok && active.size - 1 < maxThreads) {
      // The thread binds its own socket when it starts (below); a failure throws there.
      transfer = new NativeTftpTransfer(native.addon, config.host, client, plan, counters, (outcome) => finished(transfer, outcome));
    } else {
      const transferSocket = createSocket(socketOptions);
      try {
        await bindSocket(transferSocket, 0, config.host);
      } catch (error) {
        transferSocket.close();
        throw error;
      }
      if (closed) { transferSocket.close(); return; }
      transfer = new TftpTransfer(transferSocket, client, plan, counters, (outcome) => finished(transfer, outcome));
    }
    // Started first: a native transfer binds its socket here, and a failure must leave no trace in the counts.
    transfer.start();
    active.set(key, transfer);
    counters.started++;
    backend.observeAddress(client.address, 'tftp', {
      file: name, size: String(data.length), blksize: String(terms.blksize), windowsize: String(terms.windowsize),
    });
  }

  function onPacket(packet: Buffer, from: { address: string; port: number }): void {
    if (closed) return;
    const parsed = parseRequest(packet);
    if (parsed.kind === 'drop' || from.port === 0) {
      counters.malformed++;
      return;
    }
    counters.requests++;
    if (parsed.kind === 'refuse') {
      counters.malformed++;
      refuse(from, parsed.code, parsed.message);
      return;
    }
    if (parsed.kind === 'write') {
      refuse(from, ERROR_CODE.accessViolation, "brume's TFTP is read-only");
      log('info', `refused a write of ${JSON.stringify(parsed.file)} from ${from.address}:${from.port}`);
      return;
    }
    const key = `${from.address}:${from.port}`;
    if (active.has(key)) {
      counters.duplicateRequests++;
      return;
    }
    if (active.size >= tuning.maxTransfers) {
      counters.busy++;
      return;
    }
    active.set(key, null);
    const client = { address: from.address, port: from.port };
    serve(parsed, client, key).catch((error: Error) => {
      active.delete(key);
      log('error', `cannot serve ${JSON.stringify(parsed.file)} to ${key}: ${error.message}`);
      if (!closed) refuse(client, ERROR_CODE.undefined, 'server error, try again');
    });
  }

  socket.on('message', (packet: Buffer, from) => {
    try {
      onPacket(packet, from);
    } catch (error) {
      // A packet must never take the server down; count it and carry on.
      counters.malformed++;
      log('warn', `dropped a packet from ${from.address}:${from.port}: ${(error as Error).message}`);
    }
  });

  return {
    address: () => socket.address(),
    engine,
    stats: () => ({ ...counters, active: active.size, recent: [...recent] }),
    async close() {
      if (closed) return;
      closed = true;
      const running = [...active.values()].filter((t) => t !== null);
      for (const transfer of running) transfer.abort('server shutting down');
      active.clear();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      // Each transfer sends its ERROR, then closes its socket (a thread, or the next turn of the loop).
      await Promise.all(running.map((t) => t.done));
    },
  };
}

/** The options a request gets: capped to the server's limits; an OACK only when at least one was accepted. */
function negotiate(request: ReadRequest, size: number, config: TftpServerConfig, defaultTimeoutMs: number) {
  const accepted: Record<string, string> = {};
  let blksize = 512;
  let windowsize = 1;
  let timeoutMs = defaultTimeoutMs;
  if (request.blksize !== undefined) {
    blksize = Math.min(request.blksize, config.maxBlksize);
    accepted.blksize = String(blksize);
  }
  if (request.tsize) accepted.tsize = String(size);
  if (request.timeout !== undefined) {
    // RFC 2349: the server answers the client's value unchanged, and uses it.
    timeoutMs = request.timeout * 1000;
    accepted.timeout = String(request.timeout);
  }
  if (request.windowsize !== undefined) {
    windowsize = Math.min(request.windowsize, config.maxWindow);
    accepted.windowsize = String(windowsize);
  }
  const oack = Object.keys(accepted).length ? oackPacket(accepted) : null;
  return { blksize, windowsize, timeoutMs, oack };
}

/**
 * Peers are always IP literals: answer the socket's address lookup at once,
 * instead of a dns.lookup round trip through the event loop on every send.
 */
const literalLookup = ((hostname: string, options: unknown, callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void) => {
  if (isIPv4(hostname)) callback(null, hostname, 4);
  else dnsLookup(hostname, 4, callback);
}) as NonNullable<SocketOptions['lookup']>;

const socketOptions: SocketOptions = { type: 'udp4', lookup: literalLookup };

function bindSocket(socket: Socket, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => { socket.off('listening', listening); reject(error); };
    const listening = () => { socket.off('error', failed); resolve(); };
    socket.once('error', failed);
    socket.once('listening', listening);
    socket.bind({ port, address: host, exclusive: true });
  });
}

function bindFailure(error: NodeJS.ErrnoException, { host, port }: TftpServerConfig): string {
  const where = `UDP port ${port} on ${host}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return `TFTP cannot listen on ${where}: another program is already using it (often tftpd-hpa, atftpd or dnsmasq's TFTP). `
        + `Stop that program ("ss -lunp | grep :${port}" shows which), set BRUME_TFTP=off to leave TFTP to it, or set BRUME_TFTP_PORT to a free port.`;
    case 'EACCES':
      return `TFTP cannot listen on ${where}: permission denied. Ports below 1024 need root or CAP_NET_BIND_SERVICE `
        + '(e.g. "setcap cap_net_bind_service=+ep $(command -v node)"); PXE clients only use port 69, so otherwise set BRUME_TFTP=off '
        + 'or BRUME_TFTP_PORT to 1024 or above behind a port redirect.';
    case 'EADDRNOTAVAIL':
      return `TFTP cannot listen on ${where}: ${host} is not an address of this machine. Set BRUME_TFTP_HOST to one of its addresses, or 0.0.0.0 for all.`;
    default:
      return `TFTP cannot listen on ${where}: ${error.message}`;
  }
}
