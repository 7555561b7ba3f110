import { describe, expect, it } from 'vitest';
import { decideSlot, queueEventsFor, waitMessage } from '../../../core/queues/queue-steps.ts';
import {
  emptySlotQueue, evolveSlotQueue, queueAccepts, type SlotQueueEvent, type SlotQueueSnapshot,
} from '../../../core/queues/slot-queue.ts';
import type { TaskEvent } from '../../../core/tasks/task.ts';
import { emptyTaskSnapshot, evolveTask } from '../../../core/tasks/task-machine.ts';

const Q = 'node-1';
const joined = (taskId: string, second: number): SlotQueueEvent =>
  ({ type: 'SlotQueueJoined', data: { queueId: Q, taskId, hostId: `host-${taskId}`, at: `2026-01-01T00:00:${String(second).padStart(2, '0')}.000Z` } });
const granted = (taskId: string, maxClients = 2): SlotQueueEvent =>
  ({ type: 'SlotGranted', data: { queueId: Q, taskId, at: '2026-01-01T00:01:00.000Z', maxClients } });
const released = (taskId: string): SlotQueueEvent => ({ type: 'SlotReleased', data: { queueId: Q, taskId, reason: 'complete' } });
const left = (taskId: string): SlotQueueEvent => ({ type: 'SlotQueueLeft', data: { queueId: Q, taskId, reason: 'requeued' } });

const given = (...events: SlotQueueEvent[]): SlotQueueSnapshot => events.reduce(evolveSlotQueue, emptySlotQueue());
const slotFor = (queue: SlotQueueSnapshot, taskId: string, maxClients = 2, enabled = true) =>
  decideSlot(queue, { queueId: Q, taskId, maxClients, enabled, at: new Date('2026-01-01T00:01:00Z') });

describe('the slot queue', () => {
  it('given clients checking in out of order, keeps them in line by check-in time, then task id', () => {
    const queue = given(joined('c', 5), joined('a', 1), joined('b', 5));
    expect(queue.context.waiting.map((w) => w.taskId)).toEqual(['a', 'b', 'c']);
  });

  it('given a free slot, grants it to the first in line and refuses a later client', () => {
    const queue = given(joined('a', 1), joined('b', 2), joined('c', 3), granted('x-holder-placeholder'));
    expect(queue.context.active).toEqual([]); // a grant to someone not in line is refused
    expect(given(joined('a', 1), granted('a')).context.active).toEqual([{ taskId: 'a', hostId: 'host-a', since: '2026-01-01T00:01:00.000Z' }]);
    const busy = given(joined('h', 0), granted('h'), joined('a', 1), joined('b', 2));
    expect(slotFor(busy, 'a')).toMatchObject({ granted: true });
    expect(slotFor(busy, 'b')).toEqual({ granted: false, ahead: 1, inUse: 1, maxClients: 2, why: 'behind' });
  });

  it('given every slot in use, tells the waiting client how many are before it', () => {
    const full = given(joined('h1', 0), granted('h1'), joined('h2', 0), granted('h2'), joined('a', 1), joined('b', 2));
    const refused = slotFor(full, 'b');
    expect(refused).toEqual({ granted: false, ahead: 1, inUse: 2, maxClients: 2, why: 'full' });
    if (refused.granted) throw new Error('unreachable');
    expect(waitMessage('main', refused)).toBe('No free slot on storage node main (2 of 2 in use): 1 machine before you');
  });

  it('given a slot released, the next in line gets it', () => {
    const full = given(joined('h1', 0), granted('h1'), joined('h2', 0), granted('h2'), joined('a', 1));
    expect(slotFor(full, 'a').granted).toBe(false);
    expect(slotFor(evolveSlotQueue(full, released('h1')), 'a').granted).toBe(true);
  });

  it('given an admin lowered maxClients below the slots in use, grants nothing until enough are released', () => {
    const queue = given(joined('h1', 0), granted('h1', 3), joined('h2', 0), granted('h2', 3), joined('a', 1));
    expect(slotFor(queue, 'a', 1)).toMatchObject({ granted: false, why: 'full', inUse: 2 });
  });

  it('given a disabled node, grants nothing and says so', () => {
    const refused = slotFor(given(joined('a', 1)), 'a', 10, false);
    expect(refused).toMatchObject({ granted: false, why: 'disabled' });
    if (!refused.granted) expect(waitMessage('main', refused)).toMatch(/disabled/);
  });

  it('refuses to queue a client twice, to release a slot nobody holds, and to remove a client not in line', () => {
    const queue = given(joined('a', 1));
    expect(queueAccepts(queue, joined('a', 9))).toBe(false);
    expect(queueAccepts(queue, released('a'))).toBe(false);
    expect(queueAccepts(queue, left('b'))).toBe(false);
    expect(queueAccepts(queue, left('a'))).toBe(true);
  });
});

describe('queue events implied by task events', () => {
  const ids = { taskId: 't1', hostId: 'h1' };
  const created: TaskEvent = {
    type: 'TaskCreated',
    data: { ...ids, typeId: 1, imageId: 'i1', storageNodeId: Q, options: { afterTask: 'reboot', wakeBefore: false }, groupRunId: null, replayOf: null },
  };
  const checkedIn: TaskEvent = { type: 'TaskCheckedIn', data: { ...ids, at: '2026-01-01T00:00:00.000Z', deadline: '2026-01-01T00:10:00.000Z', queueId: Q } };
  const started: TaskEvent = { type: 'TaskStarted', data: { ...ids, at: '2026-01-01T00:01:00.000Z', queueId: Q, imageRevision: 2 } };
  const cancelled: TaskEvent = { type: 'TaskCancelled', data: { ...ids, reason: 'wrong room' } };
  const task = (...events: TaskEvent[]) => events.reduce(evolveTask, emptyTaskSnapshot());

  it('given a queued task, a check-in joins the line', () => {
    expect(queueEventsFor(task(created), [checkedIn])).toEqual([
      { type: 'SlotQueueJoined', data: { queueId: Q, taskId: 't1', hostId: 'h1', at: '2026-01-01T00:00:00.000Z' } },
    ]);
  });

  it('given a waiting task, cancelling it leaves the line', () => {
    expect(queueEventsFor(task(created, checkedIn), [cancelled])).toEqual([
      { type: 'SlotQueueLeft', data: { queueId: Q, taskId: 't1', reason: 'cancelled: wrong room' } },
    ]);
  });

  it('given a task holding a slot, cancelling it releases the slot; progress does not', () => {
    const holding = task(created, checkedIn, started);
    expect(queueEventsFor(holding, [cancelled])).toEqual([{ type: 'SlotReleased', data: { queueId: Q, taskId: 't1', reason: 'cancelled: wrong room' } }]);
    expect(queueEventsFor(holding, [{ type: 'TaskProgressed', data: { ...ids, bytesDone: 1, bytesTotal: 2, rateBytesPerSecond: 1, partition: null } }])).toEqual([]);
  });

  it('given a task that needs no slot (no queue at check-in), implies nothing', () => {
    expect(queueEventsFor(task(created), [{ type: 'TaskStarted', data: { ...ids, at: '2026-01-01T00:01:00.000Z' } }, { type: 'TaskCompleted', data: ids }])).toEqual([]);
  });
});
