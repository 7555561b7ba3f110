import type { Commands } from '../../core/application/index.ts';
import { BOOT_CLIENT_ACTOR } from '../../core/shared/event.ts';
import type { TaskProgress } from '../../core/tasks/task.ts';
import { commandMeta } from '../runtime/brume.ts';

export interface LiveProgress extends TaskProgress {
  etaSeconds: number | null;
  /** When the client last reported. */
  at: string;
}

export interface ProgressBoardOptions {
  /** At most one TaskProgressed event per task this often (a partition change is always recorded). */
  minEventIntervalMs?: number;
  now?: () => number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/**
 * Progress from imaging clients. Agents report every few seconds; the
 * latest report of each task is kept here for the API and the dashboard,
 * and the log gets a TaskProgressed event only every `minEventIntervalMs`
 * per task, or when the client moves to another partition: enough for an
 * auditor and for the stale-task watcher, without one event per report.
 *
 * @example
 * const board = new ProgressBoard(() => brume.commands);
 * await board.report(taskId, { bytesDone, bytesTotal, rateBytesPerSecond, partition: 'part2' });
 * board.latest(taskId); // { ..., etaSeconds: 23, at }
 */
export class ProgressBoard {
  private readonly live = new Map<string, LiveProgress>();
  private readonly recorded = new Map<string, { at: number; partition: string | null }>();
  /** The last thing that went wrong for a task's client (an upload cut off), for the reason if it then goes silent. */
  private readonly notes = new Map<string, string>();
  private readonly minIntervalMs: number;
  private readonly now: () => number;

  constructor(private readonly commands: () => Commands, private readonly options: ProgressBoardOptions = {}) {
    this.minIntervalMs = options.minEventIntervalMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** Records a report; returns the command outcome when it was written as an event, else `held`. */
  async report(taskId: string, progress: Omit<TaskProgress, 'etaSeconds'>) {
    const now = this.now();
    const left = progress.bytesTotal - progress.bytesDone;
    const etaSeconds = progress.rateBytesPerSecond > 0 && left >= 0 ? Math.round(left / progress.rateBytesPerSecond) : null;
    const previous = this.recorded.get(taskId);
    const due = !previous || now - previous.at >= this.minIntervalMs || previous.partition !== (progress.partition ?? null);
    if (!due) {
      this.live.set(taskId, { ...progress, partition: progress.partition ?? null, etaSeconds, at: new Date(now).toISOString() });
      return { written: false as const };
    }
    const outcome = await this.commands().tasks.progress(commandMeta(BOOT_CLIENT_ACTOR, { correlationId: taskId, causationId: taskId }), taskId, { ...progress, etaSeconds, taskId });
    if (outcome.ok) {
      this.recorded.set(taskId, { at: now, partition: progress.partition ?? null });
      this.live.set(taskId, { ...progress, partition: progress.partition ?? null, etaSeconds, at: new Date(now).toISOString() });
    }
    return { written: true as const, outcome };
  }

  /** The freshest report of a task, if its client reported since this server started. */
  latest(taskId: string): LiveProgress | undefined {
    return this.live.get(taskId);
  }

  /** The freshest report of every task that has one (the dashboard's live view). */
  all(): { taskId: string; progress: LiveProgress }[] {
    return [...this.live].map(([taskId, progress]) => ({ taskId, progress }));
  }

  /** Remembers what last went wrong for the task's client. */
  note(taskId: string, what: string): void {
    this.notes.set(taskId, what);
  }

  noteOf(taskId: string): string | undefined {
    return this.notes.get(taskId);
  }

  /** Forgets a task that ended. */
  forget(taskId: string): void {
    this.live.delete(taskId);
    this.recorded.delete(taskId);
    this.notes.delete(taskId);
  }
}
