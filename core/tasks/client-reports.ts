import { invalid, ok, type Result } from '../shared/result.ts';
import type { TaskEvent } from './task.ts';
import type { TaskSnapshot } from './task-machine.ts';
import { decideTransition, hostOf } from './task-transition.ts';

/**
 * The transitions a booted client (or the server on its behalf) reports:
 * check-in, start, progress, completion, failure, and the requeue of a
 * client that stopped polling. Each is one machine event.
 */

/** FOG gives a checked-in client 600 s without a poll before it loses its place. */
export const DEFAULT_CHECK_IN_TIMEOUT_SECONDS = 600;
/** Shorter than a slow machine's reboot would requeue clients that are only restarting. */
export const MIN_CHECK_IN_TIMEOUT_SECONDS = 60;

export function checkInTask(
  command: { taskId: string; at: Date; timeoutSeconds?: number; queueId?: string | null },
  snapshot: TaskSnapshot,
): Result<TaskEvent[]> {
  const timeout = command.timeoutSeconds ?? DEFAULT_CHECK_IN_TIMEOUT_SECONDS;
  if (!Number.isInteger(timeout) || timeout < MIN_CHECK_IN_TIMEOUT_SECONDS || timeout > 86_400) {
    return invalid(`check-in timeout must be ${MIN_CHECK_IN_TIMEOUT_SECONDS} to 86400 seconds`, 'timeoutSeconds');
  }
  const deadline = new Date(command.at.getTime() + timeout * 1000);
  return decideTransition(command.taskId, snapshot, {
    type: 'TaskCheckedIn',
    data: {
      taskId: command.taskId, hostId: hostOf(snapshot), at: command.at.toISOString(), deadline: deadline.toISOString(),
      ...(command.queueId ? { queueId: command.queueId } : {}),
    },
  }, 'checked in');
}

/** `queueId`: the queue whose slot the task takes; `imageRevision`: the revision a deploy is pinned to. */
export function startTask(
  command: { taskId: string; at: Date; queueId?: string | null; imageRevision?: number | null },
  snapshot: TaskSnapshot,
): Result<TaskEvent[]> {
  return decideTransition(command.taskId, snapshot, {
    type: 'TaskStarted',
    data: {
      taskId: command.taskId, hostId: hostOf(snapshot), at: command.at.toISOString(),
      ...(command.queueId ? { queueId: command.queueId } : {}),
      ...(command.imageRevision != null ? { imageRevision: command.imageRevision } : {}),
    },
  }, 'started');
}

/** A client's figures: bytes done and total and the rate, numbers >= 0, done no more than total. */
export function checkProgressFigures(figures: { bytesDone?: unknown; bytesTotal?: unknown; rateBytesPerSecond?: unknown }): Result<void> {
  for (const field of ['bytesDone', 'bytesTotal', 'rateBytesPerSecond'] as const) {
    const value = figures[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return invalid(`${field} must be a number >= 0`, field);
  }
  if ((figures.bytesDone as number) > (figures.bytesTotal as number)) return invalid('bytesDone cannot exceed bytesTotal', 'bytesDone');
  return ok(undefined);
}

export function reportTaskProgress(
  command: {
    taskId: string; bytesDone: number; bytesTotal: number; rateBytesPerSecond: number; partition?: string | null;
    etaSeconds?: number | null;
  },
  snapshot: TaskSnapshot,
): Result<TaskEvent[]> {
  const checked = checkProgressFigures(command);
  if (!checked.ok) return checked;
  return decideTransition(command.taskId, snapshot, {
    type: 'TaskProgressed',
    data: {
      taskId: command.taskId, hostId: hostOf(snapshot),
      bytesDone: command.bytesDone, bytesTotal: command.bytesTotal,
      rateBytesPerSecond: command.rateBytesPerSecond, partition: command.partition ?? null,
      ...(command.etaSeconds !== undefined ? { etaSeconds: command.etaSeconds } : {}),
    },
  }, 'given progress');
}

/** `image`: for imaging tasks, the revision deployed to the host or created by the capture. */
export function completeTask(
  command: { taskId: string; image?: { imageId: string; revision: number } | null },
  snapshot: TaskSnapshot,
): Result<TaskEvent[]> {
  const image = command.image ? { imageId: command.image.imageId, imageRevision: command.image.revision } : {};
  return decideTransition(command.taskId, snapshot, {
    type: 'TaskCompleted', data: { taskId: command.taskId, hostId: hostOf(snapshot), ...image },
  }, 'completed');
}

export function failTask(
  command: { taskId: string; reason: unknown; command?: string | null; output?: string | null },
  snapshot: TaskSnapshot,
): Result<TaskEvent[]> {
  if (typeof command.reason !== 'string' || command.reason.trim() === '') return invalid('a failure needs a reason', 'reason');
  // The failing command's output is kept, but bounded: a runaway log must not bloat the event store.
  const output = command.output ? command.output.slice(-16_000) : null;
  return decideTransition(command.taskId, snapshot, {
    type: 'TaskFailed',
    data: { taskId: command.taskId, hostId: hostOf(snapshot), reason: command.reason.trim().slice(0, 1000), command: command.command ?? null, output },
  }, 'failed');
}

/** Fired by the deadline scheduler when a checked-in client has not polled in time. */
export function requeueTask(command: { taskId: string; now: Date }, snapshot: TaskSnapshot): Result<TaskEvent[]> {
  const deadline = snapshot.context.deadline;
  const decided = decideTransition(command.taskId, snapshot, {
    type: 'TaskRequeued',
    data: { taskId: command.taskId, hostId: hostOf(snapshot), reason: `client stopped polling; its check-in lapsed at ${deadline}` },
  }, 'requeued');
  if (decided.ok && deadline && new Date(deadline) > command.now) {
    return invalid(`task ${command.taskId}'s check-in is good until ${deadline}`);
  }
  return decided;
}
