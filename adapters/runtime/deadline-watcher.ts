import { SYSTEM_ACTOR } from '../../core/shared/event.ts';
import { commandMeta, type Brume } from './brume.ts';

/**
 * Fires durable deadlines. A checked-in client that stops polling keeps its
 * deadline in its TaskCheckedIn event (and the task read model); this
 * watcher requeues every task whose deadline has passed. Because the
 * deadline is data, a restart changes nothing: the first tick after it
 * finds the same lapsed tasks.
 */
export class DeadlineWatcher {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<number> | undefined;

  constructor(private readonly brume: Brume, private readonly intervalMs = 10_000, private readonly now = () => new Date()) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
  }

  /** Requeues every lapsed check-in once; returns how many. */
  tick(): Promise<number> {
    this.ticking ??= this.requeueLapsed().finally(() => { this.ticking = undefined; });
    return this.ticking;
  }

  private async requeueLapsed(): Promise<number> {
    const now = this.now();
    const lapsed = await this.brume.database.db.selectFrom('rm_tasks').select('task_id')
      .where('state', '=', 'checked-in').where('check_in_deadline', '<', now).execute();
    let requeued = 0;
    for (const { task_id } of lapsed) {
      // The command id makes a second watcher (another server on the same PostgreSQL) a no-op.
      const outcome = await this.brume.commands.tasks.requeue(
        commandMeta(SYSTEM_ACTOR, { commandId: `requeue-${task_id}-${now.toISOString().slice(0, 16)}`, reason: 'check-in deadline passed' }),
        task_id, now,
      );
      if (outcome.ok && !outcome.replayed) requeued++;
    }
    return requeued;
  }
}
