import type { TaskEvent } from '../tasks/task.ts';
import { evolveTask, statusOf, type TaskSnapshot } from '../tasks/task-machine.ts';
import {
  aheadOf, freeSlots, queueAccepts, type SlotGranted, type SlotQueueEvent, type SlotQueueSnapshot,
} from './slot-queue.ts';

/**
 * The queue events a task's new events imply, so the two are appended
 * together: a first check-in joins the line; a requeue, or an end while
 * waiting, leaves it; an end while holding a slot releases the slot.
 *
 * @example
 * queueEventsFor(checkedInTask, [cancelledEvent])
 * // [{ type: 'SlotQueueLeft', data: { queueId: 'node-1', taskId, reason: 'cancelled: wrong room' } }]
 */
export function queueEventsFor(task: TaskSnapshot, events: readonly TaskEvent[]): SlotQueueEvent[] {
  const implied: SlotQueueEvent[] = [];
  let current = task;
  for (const event of events) {
    const status = statusOf(current);
    const { queueId, holdsSlot } = current.context;
    const { taskId } = event.data;
    if (event.type === 'TaskCheckedIn' && status === 'queued' && event.data.queueId) {
      implied.push({ type: 'SlotQueueJoined', data: { queueId: event.data.queueId, taskId, hostId: event.data.hostId, at: event.data.at } });
    } else if (queueId && status === 'checked-in' && event.type !== 'TaskCheckedIn' && event.type !== 'TaskStarted') {
      implied.push({ type: 'SlotQueueLeft', data: { queueId, taskId, reason: endReason(event) } });
    } else if (queueId && holdsSlot && status === 'in-progress' && event.type !== 'TaskProgressed') {
      implied.push({ type: 'SlotReleased', data: { queueId, taskId, reason: endReason(event) } });
    }
    current = evolveTask(current, event);
  }
  return implied;
}

function endReason(event: TaskEvent): string {
  switch (event.type) {
    case 'TaskCompleted': return 'complete';
    case 'TaskFailed': return `failed: ${event.data.reason}`;
    case 'TaskCancelled': return `cancelled: ${event.data.reason}`;
    case 'TaskRequeued': return `requeued: ${event.data.reason}`;
    default: return event.type;
  }
}

/** Where a waiting client stands: granted a slot, or how many are before it and how busy the node is. */
export type SlotDecision =
  | { granted: true; event: SlotGranted }
  | { granted: false; ahead: number; inUse: number; maxClients: number; why: 'full' | 'behind' | 'disabled' | 'not-waiting' };

/**
 * Whether the client of `taskId` (already in line) gets a slot now.
 *
 * @example
 * decideSlot(queue, { queueId: 'node-1', taskId, maxClients: 10, enabled: true, at: new Date() })
 * // { granted: false, ahead: 3, inUse: 10, maxClients: 10, why: 'full' }
 */
export function decideSlot(
  queue: SlotQueueSnapshot,
  request: { queueId: string; taskId: string; maxClients: number; enabled: boolean; at: Date },
): SlotDecision {
  const ahead = aheadOf(queue.context, request.taskId);
  const inUse = queue.context.active.length;
  const refused = (why: 'full' | 'behind' | 'disabled' | 'not-waiting') =>
    ({ granted: false as const, ahead: Math.max(ahead, 0), inUse, maxClients: request.maxClients, why });
  if (ahead < 0) return refused('not-waiting');
  if (!request.enabled) return refused('disabled');
  const event: SlotGranted = {
    type: 'SlotGranted',
    data: { queueId: request.queueId, taskId: request.taskId, at: request.at.toISOString(), maxClients: request.maxClients },
  };
  if (queueAccepts(queue, event)) return { granted: true, event };
  return refused(freeSlots(queue.context, request.maxClients) === 0 ? 'full' : 'behind');
}

/** The line as people read it: "No free slot on storage node main (10 of 10 in use): 3 machines before you". */
export function waitMessage(nodeName: string, decision: Extract<SlotDecision, { granted: false }>): string {
  if (decision.why === 'disabled') return `storage node ${nodeName} is disabled; waiting until an admin enables it`;
  const before = decision.ahead === 1 ? '1 machine before you' : `${decision.ahead} machines before you`;
  if (decision.why === 'behind') return `Waiting for the ${before.replace(' before you', '')} checked in before you (${decision.inUse} of ${decision.maxClients} slots in use on storage node ${nodeName})`;
  return `No free slot on storage node ${nodeName} (${decision.inUse} of ${decision.maxClients} in use): ${before}`;
}
