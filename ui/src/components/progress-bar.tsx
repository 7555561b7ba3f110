import type { TaskProgress } from './registry-types.ts';
import { formatBytes, formatDuration } from './time-and-size.tsx';

/** What a bar shows: the figures a client reports (a task's progress, or the live feed's latest report). */
export type ProgressFigures = Pick<TaskProgress, 'percent'>
  & Partial<Pick<TaskProgress, 'bytesDone' | 'bytesTotal' | 'rateBytesPerSecond' | 'etaSeconds' | 'partition'>>;

/**
 * "25.0%", "41 MB/s", "3 min 10 s left", "partition sda2", "2.1 GB of 8.4 GB": the
 * parts that are known, most wanted first (a narrow line cuts the last).
 */
function describe(figures: ProgressFigures): string[] {
  const parts = [`${figures.percent.toFixed(1)}%`];
  if (figures.rateBytesPerSecond) parts.push(`${formatBytes(figures.rateBytesPerSecond)}/s`);
  if (figures.etaSeconds !== null && figures.etaSeconds !== undefined) parts.push(`${formatDuration(figures.etaSeconds)} left`);
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
export function ProgressBar({ label, figures, waiting = 'no report yet' }: { label: string; figures: ProgressFigures | null | undefined; waiting?: string }) {
  const percent = figures ? Math.min(100, Math.max(0, figures.percent)) : 0;
  const parts = figures ? describe(figures) : [waiting];
  return (
    <div class={`progress-bar${figures ? '' : ' progress-bar-idle'}`}>
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
