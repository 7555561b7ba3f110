import type { NativeAddon, NativeTftpResult } from '../native/load-native.ts';
import { TRANSFER_FAILURES, type TransferCounters, type TransferFailure, type TransferOutcome, type TransferPlan } from './tftp-transfer.ts';

const FAILURES = new Set<string>(TRANSFER_FAILURES);

/**
 * One read transfer run by the native addon (adapters/native/tftp-transfer.c)
 * on a thread and a socket of its own, with the rules of TftpTransfer. The
 * server sees the same surface: start, abort, and at the end the outcome,
 * with this transfer's counters added to the server's.
 *
 * @example
 * const transfer = new NativeTftpTransfer(addon, '0.0.0.0', client, plan, counters, (outcome) => finished(outcome));
 * transfer.start();
 */
export class NativeTftpTransfer {
  readonly startedAt = Date.now();
  retransmittedBytes = 0;
  maxTimeoutMs: number;
  /** Resolves when the thread has ended (after its last packet, an ERROR on abort, was sent). */
  readonly done: Promise<void>;
  private handle: object | null = null;
  private resolveEnded!: () => void;

  constructor(
    private readonly native: NativeAddon,
    private readonly localAddress: string,
    readonly peer: { address: string; port: number },
    private readonly plan: TransferPlan,
    private readonly counters: TransferCounters,
    private readonly onEnd: (outcome: TransferOutcome) => void,
  ) {
    this.maxTimeoutMs = plan.timeoutMs;
    this.done = new Promise((resolve) => { this.resolveEnded = resolve; });
  }

  /** Opens the transfer's socket and starts its thread; throws if the socket cannot be bound. */
  start(): void {
    const { plan } = this;
    [this.handle] = this.native.tftpStart(
      this.localAddress, this.peer.address, this.peer.port, plan.data, plan.blksize, plan.windowsize, plan.oack,
      plan.timeoutMs, plan.maxTimeoutMs, plan.retries, plan.retransmitBudget, (result) => this.finish(result),
    );
  }

  /** Ends the transfer from outside (server shutdown): the thread sends ERROR 0 with the message. */
  abort(message: string): void {
    if (this.handle) this.native.tftpCancel(this.handle, message);
  }

  private finish(result: NativeTftpResult): void {
    for (const name of Object.keys(this.counters) as (keyof TransferCounters)[]) {
      if (typeof result[name] === 'number') this.counters[name] += result[name];
    }
    this.retransmittedBytes = result.budgetBytes;
    this.maxTimeoutMs = result.maxTimeoutMs;
    this.handle = null;
    const reason = FAILURES.has(result.reason ?? '') ? result.reason as TransferFailure : 'socket';
    this.onEnd(result.ok ? { ok: true } : { ok: false, reason, message: result.message ?? '' });
    this.resolveEnded();
  }
}
