import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { TransferCounters } from '../tftp/tftp-transfer.ts';

/** What brume's native addon exports (adapters/native/*.c, built by infra/native/build.mjs at npm install). */
export interface NativeAddon {
  sendfileStart(socketFd: number, fileFd: number, offset: number, length: number, done: (errno: number, sent: number) => void): object;
  sendfileCancel(handle: object): void;
  tftpStart(
    localAddress: string, peerAddress: string, peerPort: number, data: Buffer, blksize: number, windowsize: number, oack: Buffer | null,
    timeoutMs: number, maxTimeoutMs: number, retries: number, retransmitBudget: number, done: (result: NativeTftpResult) => void,
  ): [object, number];
  tftpCancel(handle: object, message: string): void;
}

/** How a native TFTP transfer ended, with its counters (the server adds them to its own). */
export interface NativeTftpResult extends TransferCounters {
  ok: boolean;
  reason?: string;
  message?: string;
  /** Resent payload as the retransmit budget counts it (an empty last block as one byte). */
  budgetBytes: number;
  maxTimeoutMs: number;
}

const ADDON = new URL('./build/Release/brume_native.node', import.meta.url).pathname;
let loaded: { ok: true; addon: NativeAddon } | { ok: false; reason: string } | undefined;

/**
 * The addon, or why there is none (not Linux, not built, or it did not load).
 * Loaded once per process.
 *
 * @example
 * const native = loadNative();
 * if (native.ok) native.addon.tftpStart(...);
 */
export function loadNative(): { ok: true; addon: NativeAddon } | { ok: false; reason: string } {
  loaded ??= (() => {
    if (process.platform !== 'linux') return { ok: false as const, reason: `the native addon is built for Linux only, not ${process.platform}` };
    if (!existsSync(ADDON)) return { ok: false as const, reason: 'the native addon is not built (npm install builds it; it needs make and a C compiler)' };
    try {
      return { ok: true as const, addon: createRequire(import.meta.url)(ADDON) as NativeAddon };
    } catch (error) {
      return { ok: false as const, reason: `the native addon did not load: ${(error as Error).message}` };
    }
  })();
  return loaded;
}
