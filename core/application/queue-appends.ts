import type { EventStore, StreamAppend } from '../ports/event-store.ts';
import { queueEventsFor } from '../queues/queue-steps.ts';
import { evolveSlotQueue, queueAccepts, SLOT_QUEUE_STREAM, type SlotQueueEvent, type SlotQueueSnapshot } from '../queues/slot-queue.ts';
import { streamIdOf } from '../shared/event.ts';
import type { TaskEvent } from '../tasks/task.ts';
import type { TaskSnapshot } from '../tasks/task-machine.ts';
import { SLOT_QUEUES, loadIncremental } from './aggregates.ts';

/**
 * The queue stream's share of a task step: the queue events the task's new
 * events imply (plus any the caller decided, such as a grant), checked
 * against the queue's state and appended at its loaded version, so racing
 * clients conflict and are decided again. An implied event the queue does
 * not accept (a task that checked in before queues existed) is dropped: a
 * cancel or a failure must never be blocked by the queue's bookkeeping.
 */
export async function queueAppendFor(
  store: EventStore, task: TaskSnapshot, taskEvents: readonly TaskEvent[], decided: SlotQueueEvent[] = [],
  loaded?: { queueId: string; state: SlotQueueSnapshot; version: number },
): Promise<StreamAppend | null> {
  const events = [...queueEventsFor(task, taskEvents), ...decided];
  if (events.length === 0) return null;
  const queueId = events[0]!.data.queueId;
  const { state, version } = loaded?.queueId === queueId ? loaded : await loadIncremental(store, SLOT_QUEUES, queueId);
  let current = state;
  const accepted: SlotQueueEvent[] = [];
  for (const event of events) {
    if (event.data.queueId !== queueId || !queueAccepts(current, event)) continue;
    accepted.push(event);
    current = evolveSlotQueue(current, event);
  }
  if (accepted.length === 0) return null;
  return { streamId: streamIdOf(SLOT_QUEUE_STREAM, queueId), streamType: SLOT_QUEUE_STREAM, expectedVersion: version, events: accepted };
}
