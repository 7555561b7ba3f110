import { sql, type Kysely, type Transaction } from 'kysely';
import type { Checkpoint } from '../../core/ports/event-store.ts';
import type { RecordedEvent } from '../../core/shared/event.ts';
import type { Schema } from '../database/schema.ts';
import { readAllWith } from './sql-event-store.ts';

export type BatchHandler = (events: RecordedEvent[], trx: Transaction<Schema>) => Promise<void>;

export interface SubscriptionOptions {
  /** Durable subscriptions keep their checkpoint in the `checkpoints` table, committed with the handler's writes. */
  durable: boolean;
  batchSize?: number;
  /** Event types this subscriber cares about; others are read past but not delivered, so the checkpoint still moves. */
  types?: readonly string[];
  /** Safety-net poll interval when no wake-up arrives. */
  pollMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * Keeps two processes (a server and a rebuild) from projecting the same
 * events, until the transaction ends. An advisory lock rather than a row
 * lock on the checkpoint: a row lock gives the transaction an id, and any
 * open transaction with an id hides every event written after it from all
 * readers (see readAllWith). With this lock, a batch that finds nothing
 * takes no id, and one that does takes it only when it writes.
 */
export async function lockSubscription(trx: Transaction<Schema>, name: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext('brume-subscription'), hashtext(${name}))`.execute(trx);
}

/**
 * Follows the log from a checkpoint, delivering each event exactly once and
 * in commit order. A durable subscription commits its checkpoint in the same
 * transaction as the handler's writes, so a crash neither skips nor repeats.
 * Woken by `wake()` (local appends, NOTIFY); polls as a safety net.
 */
export class CatchUpSubscription {
  private checkpoint: Checkpoint = { transactionId: '0', globalPosition: 0 };
  private running = false;
  private chain: Promise<unknown> = Promise.resolve();
  private wakeUp: (() => void) | undefined;
  private pending = false;
  private loop: Promise<void> | undefined;
  private readonly waiters = new Set<{ target: Checkpoint; resolve: () => void }>();

  constructor(
    private readonly db: Kysely<Schema>,
    readonly name: string,
    private readonly handler: BatchHandler,
    private readonly options: SubscriptionOptions,
  ) {
    this.types = options.types ? new Set(options.types) : undefined;
  }

  private readonly types: ReadonlySet<string> | undefined;

  /** The global position of the last event handled. */
  get position(): number {
    return this.checkpoint.globalPosition;
  }

  async start(): Promise<void> {
    if (this.options.durable) {
      await this.db.insertInto('checkpoints').values({ name: this.name, transaction_id: '0', global_position: 0 })
        .onConflict((oc) => oc.column('name').doNothing()).execute();
    }
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    await this.chain.catch(() => {});
  }

  /** Ask the loop to look for new events now. */
  wake(): void {
    this.pending = true;
    this.wakeUp?.();
  }

  /** Handles everything visible now; returns how many events it handled. */
  catchUp(): Promise<number> {
    const next = this.chain.then(async () => {
      let total = 0;
      for (;;) {
        const n = await this.handleBatch();
        total += n;
        if (n === 0) return total;
      }
    });
    this.chain = next.catch(() => {});
    return next;
  }

  /**
   * Resolves true once the subscription has handled the event at `position`
   * (or at a known checkpoint), false after the timeout. Events are handled
   * in commit order, not position order, so the target is that event's
   * (transaction, position) pair.
   */
  async waitFor(target: number | Checkpoint, timeoutMs = 5000): Promise<boolean> {
    const checkpoint = typeof target === 'number' ? await checkpointOf(this.db, target) : target;
    if (!checkpoint) return typeof target === 'number' && target <= 0;
    if (this.hasHandled(checkpoint)) return true;
    this.wake();
    return new Promise((resolve) => {
      const waiter = { target: checkpoint, resolve: () => { clearTimeout(timer); resolve(true); } };
      const timer = setTimeout(() => { this.waiters.delete(waiter); resolve(this.hasHandled(checkpoint)); }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Whether the event at this checkpoint has been handled. */
  hasHandled(target: Checkpoint): boolean {
    const here = BigInt(this.checkpoint.transactionId);
    const there = BigInt(target.transactionId);
    return here > there || (here === there && this.checkpoint.globalPosition >= target.globalPosition);
  }

  private async run(): Promise<void> {
    const pollMs = this.options.pollMs ?? 2000;
    while (this.running) {
      this.pending = false;
      try {
        await this.catchUp();
      } catch (error) {
        this.options.onError?.(error);
      }
      if (!this.running) break;
      if (this.pending) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        this.wakeUp = () => { clearTimeout(timer); resolve(); };
      });
      this.wakeUp = undefined;
    }
  }

  private async handleBatch(): Promise<number> {
    const limit = this.options.batchSize ?? 500;
    // The new checkpoint is made public only after the batch's transaction has committed: a waiter released
    // earlier (read-your-writes) would read the read models on another connection before the rows are visible.
    const { handled, checkpoint: reached } = await this.db.transaction().execute(async (trx) => {
      let after = this.checkpoint;
      if (this.options.durable) {
        await lockSubscription(trx, this.name);
        const row = await trx.selectFrom('checkpoints').select(['transaction_id', 'global_position'])
          .where('name', '=', this.name).executeTakeFirstOrThrow();
        after = { transactionId: String(row.transaction_id), globalPosition: Number(row.global_position) };
      }
      const events = await readAllWith(trx, { after, limit });
      if (events.length === 0) return { handled: 0, checkpoint: after };
      const wanted = this.types ? events.filter((e) => this.types!.has(e.type)) : events;
      if (wanted.length > 0) await this.handler(wanted, trx);
      const last = events[events.length - 1]!;
      const checkpoint = { transactionId: last.transactionId, globalPosition: last.globalPosition };
      if (this.options.durable) {
        await trx.updateTable('checkpoints')
          .set({ transaction_id: sql`${checkpoint.transactionId}::xid8` as never, global_position: checkpoint.globalPosition, updated_at: new Date() })
          .where('name', '=', this.name).execute();
      }
      return { handled: events.length, checkpoint };
    });
    this.checkpoint = reached;
    for (const waiter of this.waiters) {
      if (this.hasHandled(waiter.target)) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
    return handled;
  }
}

/** The (transaction, position) pair of the event at a global position, if there is one. */
export async function checkpointOf(db: Kysely<Schema>, position: number): Promise<Checkpoint | undefined> {
  if (position <= 0) return undefined;
  const row = await db.selectFrom('events').select('transaction_id').where('global_position', '=', position).executeTakeFirst();
  return row ? { transactionId: String(row.transaction_id), globalPosition: position } : undefined;
}
