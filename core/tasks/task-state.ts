import type { TaskEvent } from './task.ts';
import { emptyTaskSnapshot, evolveTask, type TaskSnapshot } from './task-machine.ts';

/** A task's state is its machine snapshot; this names the fold for the command handler. */
export type TaskState = TaskSnapshot;
export const initialTaskState = emptyTaskSnapshot;
export const evolveTaskState = (state: TaskState, event: TaskEvent): TaskState => evolveTask(state, event);
