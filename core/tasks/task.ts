import type { DomainEvent } from '../shared/event.ts';

/** What happens to the machine after its task: FOG reboots; shutdown and stay are options. */
export type AfterTask = 'reboot' | 'shutdown' | 'stay';

export interface TaskOptions {
  afterTask: AfterTask;
  /** Send Wake-on-LAN before the task so the machine boots into it. */
  wakeBefore: boolean;
}

export interface TaskCreatedData {
  taskId: string;
  hostId: string;
  typeId: number;
  imageId: string | null;
  storageNodeId: string | null;
  options: TaskOptions;
  /** Set when the task is one member's share of a group task. */
  groupRunId: string | null;
  /** Set when the task re-runs an earlier one with the same parameters. */
  replayOf: string | null;
}

export interface TaskProgress {
  bytesDone: number;
  bytesTotal: number;
  rateBytesPerSecond: number;
  partition: string | null;
  /** Seconds left at the current rate; null when the rate is zero or unknown. */
  etaSeconds?: number | null;
}

type TaskEventOf<T extends string, D = object> = DomainEvent<T, { taskId: string; hostId: string } & D>;

export type TaskCreated = DomainEvent<'TaskCreated', TaskCreatedData>;
/**
 * `deadline`: when the client's place in the queue lapses unless it polls again.
 * `queueId`: the storage node queue it waits in (imaging tasks; absent for others).
 */
export type TaskCheckedIn = TaskEventOf<'TaskCheckedIn', { at: string; deadline: string; queueId?: string | null }>;
/**
 * `queueId`: the queue whose slot the task holds (null: it needs none).
 * `imageRevision`: for deploys, the revision pinned for the whole task, so a
 * capture committing meanwhile does not change the bytes under a client.
 */
export type TaskStarted = TaskEventOf<'TaskStarted', { at: string; queueId?: string | null; imageRevision?: number | null }>;
export type TaskProgressed = TaskEventOf<'TaskProgressed', TaskProgress>;
/** For imaging tasks: the image revision deployed to the host, or the one the capture created. */
export type TaskCompleted = TaskEventOf<'TaskCompleted', { imageId?: string | null; imageRevision?: number | null }>;
export type TaskFailed = TaskEventOf<'TaskFailed', { reason: string; command: string | null; output: string | null }>;
export type TaskCancelled = TaskEventOf<'TaskCancelled', { reason: string }>;
/** The client stopped polling past its deadline: it loses its place, the task waits again. */
export type TaskRequeued = TaskEventOf<'TaskRequeued', { reason: string }>;
/**
 * Wake-on-LAN went out for the task (or could not): for which MACs, to which
 * addresses, which sends failed and why those targets. It changes no state;
 * it is on the stream so an auditor can see whether and where a machine was woken.
 */
export type TaskWakeOnLanSent = TaskEventOf<'TaskWakeOnLanSent', WakeOnLanRecord>;

export interface WakeOnLanRecord {
  macs: string[];
  port: number;
  /** Addresses at least one packet was handed to the network for. */
  sentTo: string[];
  failed: { address: string; error: string }[];
  /** Why these targets (`host 192.0.2.50 is in 192.0.2.0/24`), or why none. */
  basis: string;
}

export type TaskEvent =
  | TaskCreated | TaskCheckedIn | TaskStarted | TaskProgressed
  | TaskCompleted | TaskFailed | TaskCancelled | TaskRequeued | TaskWakeOnLanSent;

export const TASK_STREAM = 'task';

export type TaskStatus = 'queued' | 'checked-in' | 'in-progress' | 'complete' | 'failed' | 'cancelled';
export const ACTIVE_TASK_STATUSES: readonly TaskStatus[] = ['queued', 'checked-in', 'in-progress'];
export const FINISHED_TASK_STATUSES: readonly TaskStatus[] = ['complete', 'failed', 'cancelled'];

/** FOG's numeric task states, for people and scripts that know them. */
export const FOG_STATE_IDS: Record<TaskStatus, number> = {
  queued: 1, 'checked-in': 2, 'in-progress': 3, complete: 4, cancelled: 5, failed: 6,
};
