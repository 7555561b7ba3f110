import type { TaskProgress, TaskStatus } from './registry-types.ts';
import { formatBytes, formatDuration } from './time-and-size.tsx';

export type { TaskStatus };
export const ACTIVE_STATES: TaskStatus[] = ['queued', 'checked-in', 'in-progress'];
export const FINISHED_STATES: TaskStatus[] = ['complete', 'failed', 'cancelled'];
export const isActive = (state: string): boolean => (ACTIVE_STATES as string[]).includes(state);


/** A task's state as a word with a colour and a shape (never colour alone). */
export function TaskStateBadge({ state }: { state: string }) {
  const mark = state === 'complete' ? '✓' : state === 'failed' ? '✕' : state === 'cancelled' ? '–' : '●';
  return <span class={`task-state task-state-${state}`}><span aria-hidden="true">{mark}</span> {state}</span>;
}

/** A progress bar with its figures; the bar is a <progress> so assistive technology reads the percentage. */
export function TaskProgressBar({ progress, compact = false, stopped = false }: { progress: TaskProgress | null; compact?: boolean; stopped?: boolean }) {
  if (!progress) return null;
  if (stopped) {
    return (
      <div class="task-progress">
        <progress max={100} value={progress.percent} aria-label={`${progress.percent}% when it ended`} />
        <span class="task-progress-figures">{progress.percent}% when it ended · {formatBytes(progress.bytesDone)} of {formatBytes(progress.bytesTotal)}</span>
      </div>
    );
  }
  const eta = progress.etaSeconds ?? (progress.rateBytesPerSecond > 0 ? (progress.bytesTotal - progress.bytesDone) / progress.rateBytesPerSecond : null);
  return (
    <div class={`task-progress${compact ? ' compact' : ''}`}>
      <progress max={100} value={progress.percent} aria-label={`${progress.percent}% done`} />
      <span class="task-progress-figures">
        {progress.percent}%{!compact && <> · {formatBytes(progress.bytesDone)} of {formatBytes(progress.bytesTotal)}</>}
        {progress.rateBytesPerSecond > 0 && <> · {formatBytes(progress.rateBytesPerSecond)}/s</>}
        {eta !== null && <> · {formatDuration(eta)} left</>}
      </span>
    </div>
  );
}
