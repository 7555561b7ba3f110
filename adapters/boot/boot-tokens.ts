import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { BOOT_STREAM, bootStreamOf, type BootTokenIssued } from '../../core/boot/boot-events.ts';
import type { EventStore } from '../../core/ports/event-store.ts';
import { BOOT_CLIENT_ACTOR } from '../../core/shared/event.ts';
import type { BootIndex } from '../../projections/memory/boot-index.ts';

export const digestOfToken = (token: string): string => createHash('sha256').update(token).digest('hex');

const sameDigest = (expectedHex: string, token: string): boolean =>
  timingSafeEqual(Buffer.from(expectedHex, 'hex'), Buffer.from(digestOfToken(token), 'hex'));

interface Issued {
  token: string;
  digest: string;
  hostId: string;
  mac: string;
  issuedAt: number;
}

export interface BootTokensOptions {
  /**
   * A machine that fetches its script again within this time gets the same
   * token: iPXE retries, and a script fetched in a loop must not write an
   * event per request.
   */
  reuseMs?: number;
  now?: () => number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/**
 * One-time tokens for booted clients. The token is made when the boot
 * script is served and travels only in that script (on the kernel command
 * line); the log records its digest (BootTokenIssued), in the background so
 * the script is never held up by the database. A newer token for a task
 * replaces the older one; a token dies with its task.
 *
 * @example
 * const token = tokens.tokenFor({ taskId, hostId }, mac);
 * tokens.verify(taskId, token); // { ok: true, mac }
 */
export class BootTokens {
  /** Tokens issued by this process whose event may not have reached the index yet. */
  private readonly recent = new Map<string, Issued>();
  private readonly reuseMs: number;
  private readonly now: () => number;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly index: BootIndex,
    private readonly store: EventStore,
    private readonly options: BootTokensOptions = {},
  ) {
    this.reuseMs = options.reuseMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** A token for the task's client booting from `mac`; a fresh one unless one was issued moments ago. */
  tokenFor(task: { taskId: string; hostId: string }, mac: string): string {
    const existing = this.recent.get(task.taskId);
    const now = this.now();
    if (existing && existing.mac === mac && now - existing.issuedAt < this.reuseMs) return existing.token;
    const token = randomBytes(24).toString('base64url');
    const issued: Issued = { token, digest: digestOfToken(token), hostId: task.hostId, mac, issuedAt: now };
    this.recent.delete(task.taskId); // re-inserted last: the map stays in issue order for forgetOld
    this.recent.set(task.taskId, issued);
    this.forgetOld(now);
    const event: BootTokenIssued = {
      type: 'BootTokenIssued',
      data: { taskId: task.taskId, hostId: task.hostId, mac, tokenDigest: issued.digest, at: new Date(now).toISOString() },
    };
    const commandId = randomUUID();
    this.writes = this.writes.then(() => this.store.append(
      [{ streamId: bootStreamOf(mac), streamType: BOOT_STREAM, expectedVersion: 'any', events: [event] }],
      { metadata: { actor: BOOT_CLIENT_ACTOR, commandId, correlationId: task.taskId, causationId: null, reason: 'boot script served' } },
    )).catch((error: Error) => {
      this.options.log?.('error', `boot tokens: could not record the token for task ${task.taskId}: ${error.message}`);
    });
    return token;
  }

  /**
   * Whether `token` is the current token of an active task. The newest
   * recorded token wins; one this process issued a moment ago counts too.
   */
  verify(taskId: string, token: string): { ok: true } | { ok: false; reason: 'no-token' | 'wrong-token' | 'task-ended' } {
    if (!this.index.hasActiveTask(taskId)) return { ok: false, reason: 'task-ended' };
    // This process's newest token wins over the recorded one, which may be an older boot's.
    const expected = this.recent.get(taskId)?.digest ?? this.index.tokenDigestOf(taskId);
    if (!expected) return { ok: false, reason: 'no-token' };
    return sameDigest(expected, token) ? { ok: true } : { ok: false, reason: 'wrong-token' };
  }

  /**
   * Whether `token` was the last token of a task that has ended: its client
   * is told the task is over (it was cancelled mid-transfer, say) instead of
   * being refused like a stranger.
   */
  wasTokenOfEndedTask(taskId: string, token: string): { status: string } | null {
    const ended = this.index.endedTask(taskId);
    const expected = this.recent.get(taskId)?.digest ?? ended?.digest;
    if (!ended || !expected) return null;
    return sameDigest(expected, token) ? { status: ended.status } : null;
  }

  /** Resolves when every token issued so far is stored. */
  async settled(): Promise<void> {
    await this.writes;
  }

  private forgetOld(now: number): void {
    for (const [taskId, issued] of this.recent) {
      if (now - issued.issuedAt < this.reuseMs * 10) break; // insertion order: the rest are newer
      this.recent.delete(taskId);
    }
  }
}
