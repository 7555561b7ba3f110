import { createSocket, type RemoteInfo, type Socket, type SocketOptions } from 'node:dgram';

/*
 * A lean TFTP read client for the bench (RFC 1350, options 2347-2349 and
 * windowsize 7440). The same client measures brume and tftpd-hpa, so the
 * comparison does not depend on two clients' speeds. It checks every block
 * against the file it expects as it arrives (no copy), and the size
 * announced by tsize.
 */

const RRQ = 1;
const DATA = 3;
const ACK = 4;
const ERROR = 5;
const OACK = 6;

export interface TftpRead {
  host: string;
  port: number;
  file: string;
  /** The file's expected content: every block is compared with it. */
  expected: Buffer;
  /** Options to ask for; none at all is a plain RFC 1350 read (512-byte blocks, lock-step). */
  blksize?: number;
  windowsize?: number;
  tsize?: boolean;
  /** Resend the last packet after this long without news. Default 1000 ms. */
  timeoutMs?: number;
  /** Consecutive timeouts before giving up. Default 5. */
  retries?: number;
}

export interface TftpOutcome {
  ok: boolean;
  error?: string;
  /** Verified bytes received in order. */
  bytes: number;
  blksize: number;
  windowsize: number;
  timeouts: number;
  ms: number;
}

/** Shared by all transfers of a load run; the hot path only adds to it. */
export interface TftpCounters {
  bytes: number;
  timeouts: number;
}

/**
 * The server is always an IP literal: answer the socket's address lookup at
 * once instead of a dns.lookup round trip on every send.
 */
const literal = ((hostname: string, _options: unknown, callback: (error: null, address: string, family: number) => void) =>
  callback(null, hostname, 4)) as NonNullable<SocketOptions['lookup']>;

/** One read transfer on its own socket (its TID). `done` settles once; `closed` once its socket is closed. */
export class TftpTransfer {
  readonly done: Promise<TftpOutcome>;
  readonly closed: Promise<void>;
  private markClosed!: () => void;
  private readonly socket: Socket;
  private resolve!: (outcome: TftpOutcome) => void;
  private readonly started = performance.now();
  private serverPort = 0;
  private blksize = 512;
  private windowsize = 1;
  /** Next block expected (1-based, not wrapped). */
  private next = 1;
  private inWindow = 0;
  private bytes = 0;
  private timeouts = 0;
  private consecutive = 0;
  private lastSent: Buffer;
  /** Set once the current gap or duplicate has been answered, so a burst of them costs one ACK. */
  private answeredStray = false;
  private timer: NodeJS.Timeout;
  private ended = false;
  private isClosed = false;
  /** The ERROR to send once the server's port is known (aborted before its first answer). */
  private lingering: Buffer | null = null;

  constructor(private readonly read: TftpRead, private readonly counters: TftpCounters = { bytes: 0, timeouts: 0 }) {
    this.done = new Promise((resolve) => { this.resolve = resolve; });
    this.closed = new Promise((resolve) => { this.markClosed = resolve; });
    this.socket = createSocket({ type: 'udp4', lookup: literal });
    this.socket.on('message', (message, from) => this.receive(message, from));
    this.socket.on('error', (error) => this.finish(`socket: ${error.message}`));
    this.lastSent = requestPacket(read);
    this.timer = setTimeout(() => this.timedOut(), read.timeoutMs ?? 1000);
    this.send(this.lastSent, read.port);
  }

  /**
   * Ends the transfer now, telling the server with an ERROR (code 0). Before
   * the server's first answer its port is unknown: the socket then waits up
   * to a second for that answer to send the ERROR to, so that the server
   * does not keep resending an OACK to nobody.
   */
  abort(message: string): void {
    if (this.ended) return;
    if (this.serverPort) this.send(errorPacket(message), this.serverPort);
    else this.lingering = errorPacket(message);
    this.finish(`aborted: ${message}`);
  }

  private receive(message: Buffer, from: RemoteInfo): void {
    if (this.lingering && from.address === this.read.host) {
      this.send(this.lingering, from.port);
      this.lingering = null;
      this.close();
      return;
    }
    if (this.ended || from.address !== this.read.host || message.length < 4) return;
    if (this.serverPort === 0) this.serverPort = from.port;
    else if (from.port !== this.serverPort) return;
    this.consecutive = 0;
    this.timer.refresh();
    const opcode = message.readUInt16BE(0);
    if (opcode === DATA) this.data(message.readUInt16BE(2), message.subarray(4));
    else if (opcode === OACK) this.oack(message);
    else if (opcode === ERROR) this.finish(`server ERROR ${message.readUInt16BE(2)}: ${message.toString('latin1', 4).replace(/\0.*$/s, '')}`);
    else this.finish(`unexpected opcode ${opcode}`);
  }

  private oack(message: Buffer): void {
    if (this.next !== 1) return; // a repeated OACK: ACK 0 already sent
    const options = parseOptions(message.subarray(2));
    if (options.blksize) this.blksize = Number(options.blksize);
    if (options.windowsize) this.windowsize = Number(options.windowsize);
    if (options.tsize !== undefined && Number(options.tsize) !== this.read.expected.length) {
      return this.finish(`tsize ${options.tsize} is not the file's size ${this.read.expected.length}`);
    }
    this.ack(0);
  }

  private data(wire: number, payload: Buffer): void {
    const distance = (wire - (this.next & 0xffff)) & 0xffff;
    if (distance !== 0) {
      // A gap (ahead) or a block we have (behind): say once where we are; the sender goes back to it.
      if (!this.answeredStray) {
        this.answeredStray = true;
        this.inWindow = 0;
        this.ack(this.next - 1);
      }
      return;
    }
    const offset = (this.next - 1) * this.blksize;
    const want = this.read.expected.subarray(offset, offset + this.blksize);
    if (!payload.equals(want)) return this.finish(`block ${this.next} differs from the file (${payload.length} bytes, expected ${want.length})`);
    this.bytes += payload.length;
    this.counters.bytes += payload.length;
    this.answeredStray = false;
    const block = this.next++;
    if (payload.length < this.blksize) {
      this.ack(block);
      if (this.bytes !== this.read.expected.length) return this.finish(`got ${this.bytes} bytes, expected ${this.read.expected.length}`);
      return this.finish();
    }
    if (++this.inWindow >= this.windowsize) {
      this.inWindow = 0;
      this.ack(block);
    }
  }

  private ack(block: number): void {
    const packet = Buffer.allocUnsafe(4);
    packet.writeUInt16BE(ACK, 0);
    packet.writeUInt16BE(block & 0xffff, 2);
    this.lastSent = packet;
    this.send(packet, this.serverPort);
  }

  private timedOut(): void {
    if (this.ended) return;
    this.timeouts++;
    this.counters.timeouts++;
    if (++this.consecutive > (this.read.retries ?? 5)) return this.abort('timed out');
    this.inWindow = 0;
    this.send(this.lastSent, this.serverPort || this.read.port);
    this.timer.refresh();
  }

  private send(packet: Buffer, port: number): void {
    this.socket.send(packet, port, this.read.host);
  }

  private close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.socket.close(() => this.markClosed());
  }

  private finish(error?: string): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    // Closed on the next turn, after a last ACK or ERROR queued now has gone out (or after waiting for the server's port).
    if (this.lingering) setTimeout(() => this.close(), 1000).unref();
    else setImmediate(() => this.close());
    this.resolve({
      ok: error === undefined, ...(error === undefined ? {} : { error }), bytes: this.bytes,
      blksize: this.blksize, windowsize: this.windowsize, timeouts: this.timeouts, ms: performance.now() - this.started,
    });
  }
}

function requestPacket(read: TftpRead): Buffer {
  const fields = [read.file, 'octet'];
  if (read.blksize !== undefined) fields.push('blksize', String(read.blksize));
  if (read.tsize) fields.push('tsize', '0');
  if (read.windowsize !== undefined) fields.push('windowsize', String(read.windowsize));
  const opcode = Buffer.alloc(2);
  opcode.writeUInt16BE(RRQ, 0);
  return Buffer.concat([opcode, ...fields.map((f) => Buffer.from(`${f}\0`, 'latin1'))]);
}

function errorPacket(message: string): Buffer {
  const packet = Buffer.alloc(5 + message.length);
  packet.writeUInt16BE(ERROR, 0);
  packet.writeUInt16BE(0, 2);
  packet.write(message, 4, 'latin1');
  return packet;
}

/** OACK body: name\0value\0 pairs; names are case-insensitive. */
function parseOptions(body: Buffer): Record<string, string> {
  const parts = body.toString('latin1').split('\0');
  const options: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length; i += 2) options[parts[i]!.toLowerCase()] = parts[i + 1]!;
  return options;
}
