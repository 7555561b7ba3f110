import type { TaskProgress, TaskStatus } from './registry-types.ts';
import { ProgressBar } from './progress-bar.tsx';

export type { TaskStatus };
export const ACTIVE_STATES: TaskStatus[] = ['queued', 'checked-in', 'in-progress'];
export const FINISHED_STATES: TaskStatus[] = ['complete', 'failed', 'cancelled'];
export const isActive = (state: string): boolean => (ACTIVE_STATES as string[]).includes(state);


/** A task's state as a word with a colour and a shape (never colour alone). */
export function TaskStateBadge({ state }: { state: string }) {
  const mark = state === 'complete' ? '✓' : state === 'failed' ? '✕' : state === 'cancelled' ? '–' : '●';
  return <span class={`task-state task-state-${state}`}><span aria-hidden="true">{mark}</span> {state}</span>;
}

/** A task's bar in the task pages: the shared ProgressBar, with "when it ended" once the task stopped. */
export function TaskProgressBar({ progress, compact = false, stopped = false }: { progress: TaskProgress | null; compact?: boolean; stopped?: boolean }) {
  if (!progress) return null;
  return <ProgressBar label={stopped ? 'progress when the task ended' : 'progress'} figures={progress} ended={stopped} compact={compact} />;
}
