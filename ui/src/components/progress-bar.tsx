import type { TaskProgress } from './registry-types.ts';
import { formatBytes, formatDuration } from './time-and-size.tsx';

/** What a bar shows: the figures a client reports (a task's progress, or the live feed's latest report). */
export type ProgressFigures = Pick<TaskProgress, 'percent'>
  & Partial<Pick<TaskProgress, 'bytesDone' | 'bytesTotal' | 'rateBytesPerSecond' | 'etaSeconds' | 'partition'>>;

/**
 * "25.0%", "41 MB/s", "3 min 10 s left", "partition sda2", "2.1 GB of 8.4 GB": the
 * parts that are known, most wanted first (a narrow line cuts the last).
 */
function describe(figures: ProgressFigures, ended: boolean): string[] {
  if (ended) {
    const parts = [`${figures.percent.toFixed(1)}% when it ended`];
    if (figures.bytesTotal) parts.push(`${formatBytes(figures.bytesDone ?? 0)} of ${formatBytes(figures.bytesTotal)}`);
    return parts;
  }
  const parts = [`${figures.percent.toFixed(1)}%`];
  if (figures.rateBytesPerSecond) parts.push(`${formatBytes(figures.rateBytesPerSecond)}/s`);
  // The client's own ETA when it sent one, otherwise what the rate says.
  const eta = figures.etaSeconds ?? (figures.rateBytesPerSecond && figures.bytesTotal
    ? Math.max(0, (figures.bytesTotal - (figures.bytesDone ?? 0)) / figures.rateBytesPerSecond) : null);
  if (eta !== null) parts.push(`${formatDuration(eta)} left`);
  if (figures.partition) parts.push(`partition ${figures.partition}`);
  if (figures.bytesTotal) parts.push(`${formatBytes(figures.bytesDone ?? 0)} of ${formatBytes(figures.bytesTotal)}`);
  return parts;
}

/**
 * A task's progress: the bar (role=progressbar, so assistive technology
 * reads the value and the figures) and one line of figures under it. The
 * height never changes, whether figures are there yet or not, so a list of
 * bars does not move as reports stream in. Without figures it says
 * `waiting` (e.g. "waiting for the first report") and has no value.
 *
 * @example
 * <ProgressBar label="deploy on lab-01" figures={live.progress.get(task.id) ?? task.progress} waiting="waiting for a slot" />
 */
export function ProgressBar({ label, figures, waiting = 'no report yet', ended = false, compact = false }: {
  label: string;
  figures: ProgressFigures | null | undefined;
  waiting?: string;
  /** The task stopped (complete, failed, cancelled): the last figures, said as such. */
  ended?: boolean;
  /** For a row in a list: a narrower bar. */
  compact?: boolean;
}) {
  const percent = figures ? Math.min(100, Math.max(0, figures.percent)) : 0;
  const parts = figures ? describe(figures, ended) : [waiting];
  return (
    <div class={`progress-bar${figures ? '' : ' progress-bar-idle'}${compact ? ' progress-bar-compact' : ''}`}>
      <div
        class="progress-bar-track"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={figures ? percent : undefined}
        aria-valuetext={parts.join(', ')}
      >
        <div class="progress-bar-fill" style={{ transform: `scaleX(${percent / 100})` }} />
      </div>
      <div class="progress-bar-figures num" aria-hidden="true" title={parts.join(' · ')}>{parts.join(' · ')}</div>
    </div>
  );
}
