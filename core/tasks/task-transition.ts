import { conflict, notFound, ok, type Result } from '../shared/result.ts';
import type { TaskEvent } from './task.ts';
import { canTake, statusOf, type TaskSnapshot } from './task-machine.ts';

/**
 * Shared by every lifecycle operation: the event is recorded only when the
 * machine in its current state accepts it; otherwise the caller learns which
 * state refused it.
 */
export function decideTransition(taskId: string, snapshot: TaskSnapshot, event: TaskEvent, verb: string): Result<TaskEvent[]> {
  const status = statusOf(snapshot);
  if (status === null) return notFound(`task ${taskId} does not exist`);
  if (!canTake(snapshot, event)) return conflict(`task ${taskId} is ${status}; it cannot be ${verb}`);
  return ok([event]);
}

export const hostOf = (snapshot: TaskSnapshot): string => snapshot.context.hostId ?? '';
