import { commitImageRevision, currentRevision, deleteImageRevision, type ImageRevision } from '../images/image-revisions.ts';
import type { EventStore, StreamAppend } from '../ports/event-store.ts';
import { decideSlot, waitMessage } from '../queues/queue-steps.ts';
import { DEFAULT_QUEUE_ID, aheadOf, queueIdFor, type SlotQueueEvent } from '../queues/slot-queue.ts';
import { streamIdOf } from '../shared/event.ts';
import { conflict, notFound, ok, type Result } from '../shared/result.ts';
import { DEFAULT_MAX_CLIENTS } from '../storage-nodes/storage-node.ts';
import { checkInTask, completeTask, DEFAULT_CHECK_IN_TIMEOUT_SECONDS, failTask, startTask } from '../tasks/client-reports.ts';
import { TASK_STREAM, type TaskEvent } from '../tasks/task.ts';
import { applyNewTaskEvents, statusOf, type TaskSnapshot } from '../tasks/task-machine.ts';
import { taskTypeFor } from '../tasks/task-types.ts';
import { IMAGE_REVISIONS, SLOT_QUEUES, STORAGE_NODES, TASKS, load, loadIncremental } from './aggregates.ts';
import { runCommand, type CommandMeta, type CommandOutcome } from './command-runner.ts';
import { queueAppendFor } from './queue-appends.ts';
import { IMAGE_STREAM } from '../images/image.ts';

/** What a booted client is told when it checks in. */
export type CheckInAnswer =
  | { action: 'wait'; ahead: number; message: string; queueId: string }
  | { action: 'go'; taskId: string; imageRevision: number | null; resumed: boolean }
  | { action: 'stop'; reason: string };

export interface ImagingSettings {
  /** Slots of brume's own queue, for tasks whose host names no storage node. */
  defaultMaxClients?: number;
  /** How long a waiting client keeps its place without polling. */
  checkInTimeoutSeconds?: number;
}

const taskStream = (taskId: string) => streamIdOf(TASK_STREAM, taskId);

/**
 * The booted client's side of a task: checking in (joining its storage
 * node's queue and being granted a slot), and finishing a capture, which
 * commits the image revision and completes the task in one append.
 */
export function imagingCommands(store: EventStore, settings: ImagingSettings = {}) {
  const timeoutSeconds = settings.checkInTimeoutSeconds ?? DEFAULT_CHECK_IN_TIMEOUT_SECONDS;

  async function queueOf(queueId: string): Promise<{ name: string; maxClients: number; enabled: boolean }> {
    if (queueId === DEFAULT_QUEUE_ID) return { name: 'brume', maxClients: settings.defaultMaxClients ?? DEFAULT_MAX_CLIENTS, enabled: true };
    const { state } = await load(store, STORAGE_NODES, queueId);
    if (state.status !== 'active') return { name: queueId, maxClients: 0, enabled: false };
    return { name: state.name, maxClients: state.maxClients, enabled: state.enabled };
  }

  /**
   * A client's check-in and every poll after it. The first joins the line;
   * a poll renews the deadline only once half of it is gone (a waiting
   * client polls every few seconds, the log should not); a client whose turn
   * has come starts the task and takes the slot in the same append.
   */
  async function checkIn(meta: CommandMeta, taskId: string, at: Date): Promise<CommandOutcome<CheckInAnswer>> {
    return runCommand(store, meta, async (): Promise<Result<{ appends: StreamAppend[]; result: CheckInAnswer }>> => {
      const { state: task, version } = await load(store, TASKS, taskId);
      const status = statusOf(task);
      if (status === null) return notFound(`task ${taskId} does not exist`);
      const done = (result: CheckInAnswer) => ok({ appends: [], result });
      if (status === 'complete' || status === 'failed' || status === 'cancelled') {
        return done({ action: 'stop', reason: `task is ${status}${task.context.reason ? `: ${task.context.reason}` : ''}` });
      }
      if (status === 'in-progress') {
        // The client rebooted or the server restarted mid-task: it starts its job again, same slot, same revision.
        return done({ action: 'go', taskId, imageRevision: task.context.imageRevision, resumed: true });
      }
      const type = taskTypeFor(task.context.typeId);
      const events: TaskEvent[] = [];
      const decide = (next: Result<TaskEvent[]>) => {
        if (next.ok) events.push(...next.value);
        return next;
      };
      const taskAppend = (): StreamAppend => ({ streamId: taskStream(taskId), streamType: TASK_STREAM, expectedVersion: version, events });
      const snapshotAfter = (): TaskSnapshot => applyNewTaskEvents(task, events).snapshot;

      if (type?.kind !== 'imaging') {
        // Inventory, wipes, debug shells: no image moves, no slot needed.
        const started = decide(startTask({ taskId, at }, task));
        if (!started.ok) return started;
        return ok({ appends: [taskAppend()], result: { action: 'go', taskId, imageRevision: null, resumed: false } });
      }

      let revision: ImageRevision | null = null;
      if (type.direction === 'down') {
        const { state: image } = await load(store, IMAGE_REVISIONS, task.context.imageId ?? '');
        revision = currentRevision(image);
        if (image.image.status !== 'active' || revision === null) {
          const why = image.image.status !== 'active'
            ? `image ${task.context.imageId} does not exist`
            : `image ${image.image.name} has no captured revision to deploy`;
          const failed = decide(failTask({ taskId, reason: why }, task));
          if (!failed.ok) return failed;
          const appends = [taskAppend()];
          const queue = await queueAppendFor(store, task, events);
          if (queue) appends.push(queue);
          return ok({ appends, result: { action: 'stop', reason: why } });
        }
      }

      const queueId = queueIdFor(task.context.storageNodeId);
      if (status === 'queued') {
        const joined = decide(checkInTask({ taskId, at, timeoutSeconds, queueId }, task));
        if (!joined.ok) return joined;
      } else if (task.context.deadline && new Date(task.context.deadline).getTime() - at.getTime() < (timeoutSeconds * 1000) / 2) {
        const renewed = decide(checkInTask({ taskId, at, timeoutSeconds }, task));
        if (!renewed.ok) return renewed;
      }
      // The queue as it will be once this check-in is in it.
      const loaded = await loadIncremental(store, SLOT_QUEUES, queueId);
      // A client checked in before it had a queue (or before queues existed) joins it now, keeping its check-in time.
      const rejoin: SlotQueueEvent[] = status === 'checked-in' && aheadOf(loaded.state.context, taskId) < 0
        ? [{ type: 'SlotQueueJoined', data: { queueId, taskId, hostId: task.context.hostId ?? '', at: task.context.checkedInAt ?? at.toISOString() } }]
        : [];
      const joinedQueue = await queueAppendFor(store, task, events, rejoin, { queueId, ...loaded });
      let queue = loaded.state;
      for (const event of joinedQueue?.events ?? []) queue = SLOT_QUEUES.evolve(queue, event as SlotQueueEvent);
      const node = await queueOf(queueId);
      const slot = decideSlot(queue, { queueId, taskId, maxClients: node.maxClients, enabled: node.enabled, at });
      if (!slot.granted) {
        const appends = events.length ? [taskAppend(), ...(joinedQueue ? [joinedQueue] : [])] : [];
        return ok({ appends, result: { action: 'wait', ahead: slot.ahead, message: waitMessage(node.name, slot), queueId } });
      }
      const checkedIn = snapshotAfter();
      const started = startTask({ taskId, at, queueId, imageRevision: revision?.revision ?? null }, checkedIn);
      if (!started.ok) return started;
      events.push(...started.value);
      const queueAppend = await queueAppendFor(store, task, events, [...rejoin, slot.event], { queueId, ...loaded });
      return ok({
        appends: [taskAppend(), ...(queueAppend ? [queueAppend] : [])],
        result: { action: 'go', taskId, imageRevision: revision?.revision ?? null, resumed: false },
      });
    });
  }

  /**
   * Ends a capture whose files the image store has verified: the revision
   * becomes the image's current one and the task completes, in one append,
   * so there is never a completed capture without its revision or the reverse.
   */
  async function commitCapture(
    meta: CommandMeta, taskId: string, capture: { sizeBytes: number; sha256: string; files: number },
  ): Promise<CommandOutcome<{ taskId: string; imageId: string; revision: number }>> {
    return runCommand(store, meta, async () => {
      const { state: task, version } = await load(store, TASKS, taskId);
      if (statusOf(task) === null) return notFound(`task ${taskId} does not exist`);
      const type = taskTypeFor(task.context.typeId);
      if (type?.direction !== 'up') return conflict(`task ${taskId} is not a capture`);
      const imageId = task.context.imageId ?? '';
      const { state: image, version: imageVersion } = await load(store, IMAGE_REVISIONS, imageId);
      const committed = commitImageRevision({ imageId, taskId, ...capture }, image);
      if (!committed.ok) return committed;
      const revision = committed.value[0]!.data.revision;
      const completed = completeTask({ taskId, image: { imageId, revision } }, task);
      if (!completed.ok) return completed;
      const appends: StreamAppend[] = [
        { streamId: taskStream(taskId), streamType: TASK_STREAM, expectedVersion: version, events: completed.value },
        { streamId: streamIdOf(IMAGE_STREAM, imageId), streamType: IMAGE_STREAM, expectedVersion: imageVersion, events: committed.value },
      ];
      const queue = await queueAppendFor(store, task, completed.value);
      if (queue) appends.push(queue);
      return ok({ appends, result: { taskId, imageId, revision } });
    });
  }

  /** A task as its client needs it: state, type, and its image with the revisions (read from the log, never stale). */
  async function describe(taskId: string) {
    const { state: task } = await load(store, TASKS, taskId);
    const status = statusOf(task);
    if (status === null) return null;
    const type = taskTypeFor(task.context.typeId) ?? null;
    const image = task.context.imageId ? (await load(store, IMAGE_REVISIONS, task.context.imageId)).state : null;
    return { status, context: task.context, type, image };
  }

  /** An image's revisions, oldest first, read from the log. */
  async function revisions(imageId: string) {
    const { state } = await load(store, IMAGE_REVISIONS, imageId);
    if (state.image.status !== 'active') return null;
    return { current: currentRevision(state)?.revision ?? null, revisions: state.revisions };
  }

  /**
   * Each queue as its stream has it: who holds a slot (since when) and who
   * waits, in line order, with the node's slots. Brume's own queue is always
   * included, after the given storage nodes'.
   */
  async function queues(storageNodeIds: readonly string[]) {
    const ids = [...new Set([...storageNodeIds, DEFAULT_QUEUE_ID])].sort((a, b) => Number(a === DEFAULT_QUEUE_ID) - Number(b === DEFAULT_QUEUE_ID));
    return Promise.all(ids.map(async (queueId) => {
      const { state } = await loadIncremental(store, SLOT_QUEUES, queueId);
      const { waiting, active } = state.context;
      return {
        queueId,
        ...(await queueOf(queueId)),
        active: active.map((h) => ({ taskId: h.taskId, hostId: h.hostId || null, since: h.since })),
        waiting: waiting.map((w, i) => ({ taskId: w.taskId, hostId: w.hostId || null, checkedInAt: w.at, position: i + 1 })),
      };
    }));
  }

  /** Deletes an old revision (`pinned`: revisions active deploys use); the caller removes its files after. */
  async function deleteRevision(meta: CommandMeta, imageId: string, revision: unknown, pinned: readonly number[]) {
    return runCommand(store, meta, async () => {
      const { state, version } = await load(store, IMAGE_REVISIONS, imageId);
      const decided = deleteImageRevision({ imageId, revision, pinned }, state);
      if (!decided.ok) return decided;
      return ok({
        appends: [{ streamId: streamIdOf(IMAGE_STREAM, imageId), streamType: IMAGE_STREAM, expectedVersion: version, events: decided.value }],
        result: { imageId, revision: decided.value[0]!.data.revision, capturedByTaskId: decided.value[0]!.data.capturedByTaskId },
      });
    });
  }

  return { checkIn, commitCapture, describe, revisions, queues, deleteRevision };
}
