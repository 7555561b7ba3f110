import { SYSTEM_ACTOR } from '../../core/shared/event.ts';
import { TASK_TYPES } from '../../core/tasks/task-types.ts';
import { commandMeta, type Brume } from './brume.ts';

/** Task types whose client runs on the machine (so a silent client means a dead one). */
const CLIENT_TYPE_IDS = TASK_TYPES.filter((t) => t.kind !== 'server-side').map((t) => t.id);

/**
 * Fires durable deadlines. A checked-in client that stops polling keeps its
 * deadline in its TaskCheckedIn event (and the task read model); this
 * watcher requeues every task whose deadline has passed. An in-progress
 * task whose client has not reported for `staleTaskMinutes` fails with
 * that reason, freeing its slot. Because deadlines are data, a restart
 * changes nothing: the first tick after it finds the same lapsed tasks.
 * Each tick also clears captures left half-sent by tasks that ended.
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
    await this.failSilent(now);
    await this.brume.imageStore.sweep((taskId) => this.brume.bootIndex.hasActiveTask(taskId)).catch(() => {});
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

  private async failSilent(now: Date): Promise<void> {
    const silentSince = new Date(now.getTime() - this.brume.imaging.staleTaskMinutes * 60_000);
    const silent = await this.brume.database.db.selectFrom('rm_tasks').select(['task_id', 'last_report_at'])
      .where('state', '=', 'in-progress').where('type_id', 'in', CLIENT_TYPE_IDS).where('last_report_at', '<', silentSince).execute();
    for (const { task_id, last_report_at } of silent) {
      const last = this.brume.progressBoard.noteOf(task_id);
      await this.brume.commands.tasks.fail(
        commandMeta(SYSTEM_ACTOR, { commandId: `silent-${task_id}`, reason: 'client stopped reporting' }),
        task_id, { reason: `the client stopped reporting: nothing heard since ${new Date(last_report_at as unknown as string).toISOString()}${last ? `; last: ${last}` : ''}` },
      );
      this.brume.progressBoard.forget(task_id);
    }
  }
}
