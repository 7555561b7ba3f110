import { assign, initialTransition, setup, transition, type SnapshotFrom } from 'xstate';
import type { DomainEvent } from '../shared/event.ts';

/**
 * The imaging queue of one storage node: who waits for a slot, in which
 * order, and who holds one. FOG's rules (fog-behaviour.md, queue mode):
 * a checked-in client gets a slot only while one is free and no client that
 * checked in earlier on the same node still waits (FIFO by check-in time,
 * ties by task id). Slots free on complete, fail or cancel; a waiting client
 * whose check-in lapsed leaves the line.
 *
 * The queue is its own stream (`slot-queue-<node id>`), appended in the same
 * transaction as the task event that causes each change, so two clients
 * racing for the last slot conflict on the queue's version and one of them
 * is decided again. Like the task machine, this machine has no timers: a
 * check-in deadline is data on the task, fired by the deadline watcher.
 */

export const SLOT_QUEUE_STREAM = 'slot-queue';
/** Tasks whose host names no storage node queue on brume itself. */
export const DEFAULT_QUEUE_ID = 'default';

type QueueEventOf<T extends string, D = object> = DomainEvent<T, { queueId: string; taskId: string } & D>;

/** A checked-in client joined the line (`at` is its check-in time). */
export type SlotQueueJoined = QueueEventOf<'SlotQueueJoined', { hostId: string; at: string }>;
/** The client got a slot; `maxClients` is the node's slot count at that moment, for the auditor. */
export type SlotGranted = QueueEventOf<'SlotGranted', { at: string; maxClients: number }>;
/** A waiting client left the line without a slot (its check-in lapsed, or the task ended). */
export type SlotQueueLeft = QueueEventOf<'SlotQueueLeft', { reason: string }>;
/** A client gave its slot back (its task completed, failed or was cancelled). */
export type SlotReleased = QueueEventOf<'SlotReleased', { reason: string }>;

export type SlotQueueEvent = SlotQueueJoined | SlotGranted | SlotQueueLeft | SlotReleased;

export interface Waiting {
  taskId: string;
  /** Check-in time. */
  at: string;
  hostId: string;
}

export interface Holder {
  taskId: string;
  hostId: string;
  /** When it got the slot. */
  since: string;
}

export interface SlotQueueContext {
  /** In line order: check-in time, then task id. */
  waiting: Waiting[];
  /** Tasks holding a slot, in the order they got it. */
  active: Holder[];
}

type MachineEvent = { [E in SlotQueueEvent as E['type']]: { type: E['type'] } & E['data'] }[SlotQueueEvent['type']];

const inLine = (a: Waiting, b: Waiting): number => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0);

/** Whether the task holds a slot. */
export const holds = (context: SlotQueueContext, taskId: string): boolean => context.active.some((h) => h.taskId === taskId);

/** How many clients are before this one in line, or -1 when it is not waiting. */
export const aheadOf = (context: SlotQueueContext, taskId: string): number =>
  context.waiting.findIndex((w) => w.taskId === taskId);

/** Free slots right now under `maxClients` (never negative: an admin may lower it while slots are held). */
export const freeSlots = (context: SlotQueueContext, maxClients: number): number => Math.max(0, maxClients - context.active.length);

export const slotQueueMachine = setup({
  types: { context: {} as SlotQueueContext, events: {} as MachineEvent },
  guards: {
    notQueued: ({ context, event }) => !holds(context, event.taskId) && aheadOf(context, event.taskId) < 0,
    // FIFO: the n free slots go to the first n in line, so nobody overtakes an earlier check-in.
    slotFreeForIt: ({ context, event }) => {
      if (event.type !== 'SlotGranted') return false;
      const ahead = aheadOf(context, event.taskId);
      return ahead >= 0 && ahead < freeSlots(context, event.maxClients);
    },
    waiting: ({ context, event }) => aheadOf(context, event.taskId) >= 0,
    holdsSlot: ({ context, event }) => holds(context, event.taskId),
  },
}).createMachine({
  id: 'slot-queue',
  context: { waiting: [], active: [] },
  initial: 'open',
  states: {
    open: {
      on: {
        SlotQueueJoined: {
          guard: 'notQueued',
          actions: assign(({ context, event }) => ({ waiting: [...context.waiting, { taskId: event.taskId, at: event.at, hostId: event.hostId }].sort(inLine) })),
        },
        SlotGranted: {
          guard: 'slotFreeForIt',
          actions: assign(({ context, event }) => ({
            waiting: context.waiting.filter((w) => w.taskId !== event.taskId),
            active: [...context.active, {
              taskId: event.taskId, since: event.at, hostId: context.waiting.find((w) => w.taskId === event.taskId)?.hostId ?? '',
            }],
          })),
        },
        SlotQueueLeft: {
          guard: 'waiting',
          actions: assign(({ context, event }) => ({ waiting: context.waiting.filter((w) => w.taskId !== event.taskId) })),
        },
        SlotReleased: {
          guard: 'holdsSlot',
          actions: assign(({ context, event }) => ({ active: context.active.filter((h) => h.taskId !== event.taskId) })),
        },
      },
    },
  },
});

export type SlotQueueSnapshot = SnapshotFrom<typeof slotQueueMachine>;

const toMachineEvent = (event: SlotQueueEvent): MachineEvent => ({ type: event.type, ...event.data }) as MachineEvent;

export const emptySlotQueue = (): SlotQueueSnapshot => initialTransition(slotQueueMachine)[0];

/** Folds a stored queue event in. */
export const evolveSlotQueue = (snapshot: SlotQueueSnapshot, event: SlotQueueEvent): SlotQueueSnapshot =>
  transition(slotQueueMachine, snapshot, toMachineEvent(event))[0];

/** Whether the queue in this state accepts the event (the decide functions ask before recording). */
export const queueAccepts = (snapshot: SlotQueueSnapshot, event: SlotQueueEvent): boolean => snapshot.can(toMachineEvent(event));

/** The queue a task's client waits in: its storage node's, or brume's own. */
export const queueIdFor = (storageNodeId: string | null | undefined): string => storageNodeId || DEFAULT_QUEUE_ID;
