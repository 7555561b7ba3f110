import { conflict, notFound, ok, type Result } from '../shared/result.ts';
import type { CreateTask } from './create-task.ts';
import { statusOf, type TaskSnapshot } from './task-machine.ts';

export interface ReplayTask {
  taskId: string;
  newTaskId: string;
}

/**
 * Re-runs a finished, failed or cancelled task: the answer is the command
 * that creates the new task with the same type, host, image and options,
 * linked to the original. Creating it goes through the same rules as any
 * task (the host must still exist, have no other active task...).
 */
export function replayTask(command: ReplayTask, snapshot: TaskSnapshot): Result<CreateTask> {
  const status = statusOf(snapshot);
  if (status === null) return notFound(`task ${command.taskId} does not exist`);
  if (status !== 'complete' && status !== 'failed' && status !== 'cancelled') {
    return conflict(`task ${command.taskId} is still ${status}; only finished, failed or cancelled tasks can be replayed`);
  }
  const original = snapshot.context;
  return ok({
    taskId: command.newTaskId,
    type: original.typeId,
    hostId: original.hostId!,
    imageId: original.imageId ?? undefined,
    options: original.options,
    groupRunId: null,
    replayOf: command.taskId,
  });
}
