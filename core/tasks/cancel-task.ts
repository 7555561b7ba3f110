import { invalid, type Result } from '../shared/result.ts';
import type { TaskEvent } from './task.ts';
import type { TaskSnapshot } from './task-machine.ts';
import { decideTransition, hostOf } from './task-transition.ts';

export interface CancelTask {
  taskId: string;
  reason: unknown;
}

/** Cancels an active task. The reason is required: auditors ask "why". */
export function cancelTask(command: CancelTask, snapshot: TaskSnapshot): Result<TaskEvent[]> {
  if (typeof command.reason !== 'string' || command.reason.trim() === '') {
    return invalid('say why the task is cancelled', 'reason');
  }
  if (command.reason.length > 1000) return invalid('reason is longer than 1000 characters', 'reason');
  return decideTransition(
    command.taskId,
    snapshot,
    { type: 'TaskCancelled', data: { taskId: command.taskId, hostId: hostOf(snapshot), reason: command.reason.trim() } },
    'cancelled',
  );
}
