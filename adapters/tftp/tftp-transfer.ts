import type { RemoteInfo, Socket } from 'node:dgram';
import { ERROR_CODE, OPCODE, errorPacket, parseError } from './tftp-packets.ts';

/*
 * One read transfer: sending a file from memory to one client over one
 * ephemeral socket (the server's TID), lock-step (RFC 1350) or windowed
 * (RFC 7440).
 *
 * How loss is handled, and why:
 *
 * - The receiver decides when to ACK. An RFC 7440 receiver ACKs after
 *   `windowsize` consecutive blocks, on a gap (ACKing the last block it has
 *   in order), or on its own timeout. So the sender always sends a whole
 *   window: a shorter one would leave the receiver counting towards a full
 *   window until its own timeout. That is also why the window is not shrunk
 *   after loss (it was fixed by the OACK and the receiver counts on it).
 *
 * - Go-back-N from the client's ACK: an ACK for block n (any block sent and
 *   not yet acknowledged) means "I have everything up to n"; the next window
 *   starts at n + 1, whether n ended the window or reported a gap.
 *
 * - A duplicate ACK (the same n again) never triggers a send. That is the
 *   Sorcerer's Apprentice fix for lock-step, and for windows it stops the
 *   blow-up seen with receivers that re-ACK every out-of-order block (an
 *   EDK2 case sent 20 GB for a 1.7 MB file): each such ACK would otherwise
 *   restart a full window. Only a timeout resends without new information.
 *
 * - Timeouts back off exponentially (base: the client's `timeout` option or
 *   the server's default; doubled per consecutive timeout up to a cap, reset
 *   by progress) and give up after `retries` in a row.
 *
 * - Retransmitted bytes are budgeted: past `retransmitBudget` the transfer
 *   is aborted with an ERROR, so a link that loses most packets costs a
 *   bounded multiple of the file instead of an unbounded stream.
 */

/** A transfer's fixed parameters, decided by the server from the request. */
export interface TransferPlan {
  data: Buffer;
  blksize: number;
  windowsize: number;
  /** The OACK to send first and see ACKed (block 0) before any DATA; null when no option was accepted. */
  oack: Buffer | null;
  /** First retransmit timeout. */
  timeoutMs: number;
  /** Back-off cap. */
  maxTimeoutMs: number;
  /** Consecutive timeouts tolerated; one more ends the transfer. */
  retries: number;
  /** Bytes of DATA payload the transfer may resend before it is aborted. */
  retransmitBudget: number;
}

/** Why a transfer can end without the whole file; the native engine reports the same names. */
export const TRANSFER_FAILURES = ['timeout', 'client-error', 'size-probe', 'retransmit-budget', 'protocol', 'socket', 'closed'] as const;
export type TransferFailure = (typeof TRANSFER_FAILURES)[number];

export type TransferOutcome =
  | { ok: true }
  | { ok: false; reason: TransferFailure; message: string };

/** Counters shared by all transfers of one server (mutated in place: the hot path allocates nothing for them). */
export interface TransferCounters {
  blocksSent: number;
  bytesSent: number;
  retransmittedBlocks: number;
  retransmittedBytes: number;
  timeouts: number;
  duplicateAcks: number;
  /** ACKs in the middle of what was sent: the client reported a gap (or timed out) and the window went back. */
  goBacks: number;
  /** Packets from another address or port on a transfer socket, answered with ERROR 5. */
  strays: number;
}

/** Every DATA header (opcode 3 + block number) built once and shared read-only by all transfers. */
const DATA_HEADERS = (() => {
  const table = Buffer.alloc(65536 * 4);
  for (let block = 0; block < 65536; block++) {
    table.writeUInt16BE(OPCODE.DATA, block * 4);
    table.writeUInt16BE(block, block * 4 + 2);
  }
  return table;
})();

export class TftpTransfer {
  /** Number of DATA blocks, including the empty last block when the size is a multiple of blksize. */
  readonly blocks: number;
  readonly startedAt = Date.now();
  /** Payload bytes this transfer sent again. */
  retransmittedBytes = 0;
  /** Largest retransmit timeout reached (back-off), for the record. */
  maxTimeoutMs: number;
  private acked = 0;
  private next = 1;
  private highestSent = 0;
  private awaitingOackAck: boolean;
  private timeoutMs: number;
  private consecutiveTimeouts = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerMs = 0;
  private ended = false;
  private readonly onTimeout = () => this.timedOut();
  private resolveEnded!: () => void;
  /** Resolves when the transfer's socket is closed (after its last packet, an ERROR on abort, was handed over). */
  readonly done = new Promise<void>((resolve) => { this.resolveEnded = resolve; });

  constructor(
    private readonly socket: Socket,
    readonly peer: { address: string; port: number },
    private readonly plan: TransferPlan,
    private readonly counters: TransferCounters,
    private readonly onEnd: (outcome: TransferOutcome) => void,
  ) {
    this.blocks = Math.floor(plan.data.length / plan.blksize) + 1;
    this.awaitingOackAck = plan.oack !== null;
    this.timeoutMs = plan.timeoutMs;
    this.maxTimeoutMs = plan.timeoutMs;
    socket.on('message', (message: Buffer, from: RemoteInfo) => this.receive(message, from));
    socket.on('error', (error) => this.end({ ok: false, reason: 'socket', message: error.message }));
  }

  start(): void {
    if (this.plan.oack) this.socket.send(this.plan.oack, this.peer.port, this.peer.address);
    else this.sendWindow();
    this.arm();
  }

  /** Ends the transfer from outside (server shutdown), telling the client why. */
  abort(message: string): void {
    if (this.ended) return;
    this.sendError(ERROR_CODE.undefined, message);
    this.end({ ok: false, reason: 'closed', message });
  }

  private receive(message: Buffer, from: RemoteInfo): void {
    if (this.ended) return;
    if (from.port !== this.peer.port || from.address !== this.peer.address) {
      this.counters.strays++;
      // Never answer an ERROR with an ERROR (RFC 1350), nor a packet too short to be TFTP.
      if (message.length >= 2 && message.readUInt16BE(0) !== OPCODE.ERROR) {
        this.socket.send(errorPacket(ERROR_CODE.unknownTid, 'Unknown transfer ID'), from.port, from.address);
      }
      return;
    }
    if (message.length < 4) return;
    const opcode = message.readUInt16BE(0);
    if (opcode === OPCODE.ACK) this.acknowledged(message.readUInt16BE(2));
    else if (opcode === OPCODE.ERROR) {
      const error = parseError(message);
      // UEFI PXE asks for a file once only to learn its size (tsize), then aborts after the OACK: normal, not a failure.
      const probe = this.awaitingOackAck && this.acked === 0 && this.plan.oack !== null;
      this.end({
        ok: false, reason: probe ? 'size-probe' : 'client-error',
        message: `${probe ? 'client read the size and ended the transfer' : 'client ended the transfer'}: ERROR ${error?.code ?? '?'} ${error?.message ?? ''}`.trim(),
      });
    } else {
      this.sendError(ERROR_CODE.illegalOperation, `opcode ${opcode} is not expected from a reading client`);
      this.end({ ok: false, reason: 'protocol', message: `client sent opcode ${opcode} during a read` });
    }
  }

  private acknowledged(wireBlock: number): void {
    if (this.awaitingOackAck) {
      if (wireBlock !== 0) return;
      this.awaitingOackAck = false;
      this.progressed();
      this.sendWindow();
      this.arm();
      return;
    }
    // Block numbers are 16 bits and wrap to 0; map the ACK to the block it
    // means by its distance from the last ACK (windows are far below 32768).
    const distance = (wireBlock - (this.acked & 0xffff)) & 0xffff;
    if (distance === 0) {
      this.counters.duplicateAcks++;
      return;
    }
    const block = this.acked + distance;
    // A block not sent yet, or a stale ACK from before a wrap. (Every window reaches at least as
    // far as anything sent before it, so `next - 1` is also the highest block ever sent.)
    if (block >= this.next) return;
    this.acked = block;
    this.progressed();
    if (block === this.blocks) {
      this.end({ ok: true });
      return;
    }
    if (block < this.next - 1) {
      this.counters.goBacks++;
      this.next = block + 1;
    }
    this.sendWindow();
    this.arm();
  }

  private timedOut(): void {
    if (this.ended) return;
    this.counters.timeouts++;
    this.consecutiveTimeouts++;
    if (this.consecutiveTimeouts > this.plan.retries) {
      const message = `no answer from the client after ${this.plan.retries} retransmissions`;
      this.sendError(ERROR_CODE.undefined, message);
      this.end({ ok: false, reason: 'timeout', message });
      return;
    }
    this.timeoutMs = Math.min(this.timeoutMs * 2, Math.max(this.plan.maxTimeoutMs, this.plan.timeoutMs));
    this.maxTimeoutMs = Math.max(this.maxTimeoutMs, this.timeoutMs);
    if (this.awaitingOackAck) this.socket.send(this.plan.oack!, this.peer.port, this.peer.address);
    else {
      this.next = this.acked + 1;
      this.sendWindow();
    }
    this.arm();
  }

  private progressed(): void {
    this.consecutiveTimeouts = 0;
    this.timeoutMs = this.plan.timeoutMs;
  }

  /** Sends every block of the window that starts after the last ACK and has not been sent since it. */
  private sendWindow(): void {
    const last = Math.min(this.acked + this.plan.windowsize, this.blocks);
    while (this.next <= last) this.sendBlock(this.next++);
    if (this.retransmittedBytes > this.plan.retransmitBudget) {
      const message = `too many retransmissions (${this.retransmittedBytes} bytes resent for a ${this.plan.data.length}-byte file): the network loses too many packets; try a smaller windowsize`;
      this.sendError(ERROR_CODE.undefined, message);
      this.end({ ok: false, reason: 'retransmit-budget', message });
    }
  }

  private sendBlock(block: number): void {
    const { data, blksize } = this.plan;
    const start = (block - 1) * blksize;
    const payload = data.subarray(start, Math.min(start + blksize, data.length));
    const wire = block & 0xffff;
    // Header and payload go out as one datagram (sendmsg with two iovecs): no per-block copy.
    this.socket.send([DATA_HEADERS.subarray(wire * 4, wire * 4 + 4), payload], this.peer.port, this.peer.address);
    this.counters.blocksSent++;
    this.counters.bytesSent += payload.length;
    if (block <= this.highestSent) {
      this.counters.retransmittedBlocks++;
      this.counters.retransmittedBytes += payload.length;
      // An empty last block still costs a packet: count it as one byte so the budget sees it.
      this.retransmittedBytes += payload.length || 1;
    } else this.highestSent = block;
  }

  private arm(): void {
    if (this.ended) return;
    if (this.timer && this.timerMs === this.timeoutMs) {
      this.timer.refresh();
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(this.onTimeout, this.timeoutMs);
    this.timerMs = this.timeoutMs;
  }

  private sendError(code: number, message: string): void {
    try {
      this.socket.send(errorPacket(code, message), this.peer.port, this.peer.address);
    } catch {
      // The socket is already closed; the client will time out.
    }
  }

  private end(outcome: TransferOutcome): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // Close after the pending sends (an ERROR just queued) have been handed to the kernel.
    setImmediate(() => {
      try { this.socket.close(); } catch { /* already closed */ }
      this.resolveEnded();
    });
    this.onEnd(outcome);
  }
}
