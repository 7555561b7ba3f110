import { assign, initialTransition, setup, transition, type SnapshotFrom } from 'xstate';
import type { TaskCreatedData, TaskEvent, TaskProgress, TaskStatus } from './task.ts';
import { taskTypeFor } from './task-types.ts';

/**
 * The task lifecycle. The machine's events ARE the task's domain events, so
 * rebuilding a task is folding its stream through `transition()`, and
 * deciding a command is asking whether the snapshot `can()` take the event
 * the command would record.
 *
 *   queued -> checked-in -> in-progress -> complete | failed | cancelled
 *
 * Guards FOG lacks come from the final states: nothing completes a cancelled
 * task, nothing checks in after completion. There are no `after` timers:
 * a check-in deadline is data in the TaskCheckedIn event, fired by a
 * scheduler that survives restarts.
 *
 * Actions are effect descriptors. `transition()` returns them without
 * running anything; the caller runs them for new events only.
 */
export interface TaskContext extends Partial<TaskCreatedData> {
  checkedInAt: string | null;
  deadline: string | null;
  startedAt: string | null;
  progress: TaskProgress | null;
  /** Why the task failed or was cancelled. */
  reason: string | null;
  /** The storage node queue the client waits in or holds a slot of. */
  queueId: string | null;
  /** Whether the task holds a slot of `queueId` (it started as an imaging task). */
  holdsSlot: boolean;
  /** The image revision a deploy was pinned to when it started. */
  imageRevision: number | null;
}

type MachineEvent = { [E in TaskEvent as E['type']]: { type: E['type'] } & E['data'] }[TaskEvent['type']];

/**
 * Side effects new events ask for. Slots are not an effect: releasing one is
 * a queue event appended with the task event, so a crash cannot leak it.
 */
export type TaskEffect = { type: 'wakeHost' };

/** FOG's Wake-Up task (14): sending the packets is the whole task, so creating one always wakes. */
export const WAKE_UP_TYPE_ID = taskTypeFor('wake-up')!.id;

export const taskMachine = setup({
  types: { context: {} as TaskContext, events: {} as MachineEvent },
  actions: {
    wakeHost: () => {},
    // A transition with neither target nor action counts as refused by `can()`; this gives it one.
    keepRecord: () => {},
  },
  guards: {
    wantsWake: ({ event }) => event.type === 'TaskCreated' && (event.options.wakeBefore || event.typeId === WAKE_UP_TYPE_ID),
  },
}).createMachine({
  id: 'task',
  initial: 'draft',
  context: { checkedInAt: null, deadline: null, startedAt: null, progress: null, reason: null, queueId: null, holdsSlot: false, imageRevision: null },
  states: {
    draft: {
      on: {
        TaskCreated: [
          { guard: 'wantsWake', target: 'queued', actions: [assign(({ event }) => strip(event)), 'wakeHost'] },
          { target: 'queued', actions: assign(({ event }) => strip(event)) },
        ],
      },
    },
    queued: {
      on: {
        TaskCheckedIn: {
          target: 'checked-in',
          actions: assign(({ event }) => ({ checkedInAt: event.at, deadline: event.deadline, queueId: event.queueId ?? null })),
        },
        // Tasks that need no queue slot (server-side, boot-environment) may start straight away.
        TaskStarted: { target: 'in-progress', actions: assign(({ event }) => started(event)) },
        TaskFailed: { target: 'failed', actions: assign(({ event }) => ({ reason: event.reason })) },
        TaskCancelled: { target: 'cancelled', actions: assign(({ event }) => ({ reason: event.reason })) },
        // A record for the auditor: the wake is sent while the task waits for its machine.
        TaskWakeOnLanSent: { actions: 'keepRecord' },
      },
    },
    'checked-in': {
      on: {
        // A client that polls again after a reboot checks in again: its deadline moves, its place does not.
        TaskCheckedIn: { actions: assign(({ event }) => ({ deadline: event.deadline })) },
        TaskStarted: { target: 'in-progress', actions: assign(({ event }) => started(event)) },
        TaskCompleted: { target: 'complete', actions: assign({ deadline: null }) },
        TaskRequeued: { target: 'queued', actions: assign({ checkedInAt: null, deadline: null, queueId: null }) },
        TaskFailed: { target: 'failed', actions: assign(({ event }) => ({ reason: event.reason, deadline: null })) },
        TaskCancelled: { target: 'cancelled', actions: assign(({ event }) => ({ reason: event.reason, deadline: null })) },
      },
    },
    'in-progress': {
      on: {
        TaskProgressed: {
          actions: assign(({ event }) => ({
            progress: {
              bytesDone: event.bytesDone, bytesTotal: event.bytesTotal, rateBytesPerSecond: event.rateBytesPerSecond,
              partition: event.partition, etaSeconds: event.etaSeconds ?? null,
            },
          })),
        },
        TaskCompleted: { target: 'complete', actions: assign({ holdsSlot: false }) },
        TaskFailed: { target: 'failed', actions: assign(({ event }) => ({ reason: event.reason, holdsSlot: false })) },
        TaskCancelled: { target: 'cancelled', actions: assign(({ event }) => ({ reason: event.reason, holdsSlot: false })) },
      },
    },
    complete: { type: 'final' },
    failed: { type: 'final' },
    cancelled: { type: 'final' },
  },
});

const started = (event: { at: string; queueId?: string | null; imageRevision?: number | null }): Partial<TaskContext> => ({
  startedAt: event.at, deadline: null,
  ...(event.queueId ? { queueId: event.queueId, holdsSlot: true } : {}),
  imageRevision: event.imageRevision ?? null,
});

const strip = ({ type: _type, ...data }: { type: string } & TaskCreatedData): Partial<TaskContext> => data;

export type TaskSnapshot = SnapshotFrom<typeof taskMachine>;

const toMachineEvent = (event: TaskEvent): MachineEvent => ({ type: event.type, ...event.data }) as MachineEvent;

/** The snapshot before any event. */
export const emptyTaskSnapshot = (): TaskSnapshot => initialTransition(taskMachine)[0];

/** Folds a stored event into the snapshot; effects are discarded (replay runs none). */
export const evolveTask = (snapshot: TaskSnapshot, event: TaskEvent): TaskSnapshot =>
  transition(taskMachine, snapshot, toMachineEvent(event))[0];

/**
 * Applies new events, returning the snapshot and the effects they ask for.
 * Throws if an event is not allowed, which a decide function must have checked.
 */
export function applyNewTaskEvents(snapshot: TaskSnapshot, events: TaskEvent[]): { snapshot: TaskSnapshot; effects: TaskEffect[] } {
  const effects: TaskEffect[] = [];
  let current = snapshot;
  for (const event of events) {
    if (!canTake(current, event)) throw new Error(`task in state ${statusOf(current)} cannot take ${event.type}`);
    const [next, actions] = transition(taskMachine, current, toMachineEvent(event));
    for (const action of actions) if (action.type === 'wakeHost') effects.push({ type: action.type });
    current = next;
  }
  return { snapshot: current, effects };
}

export const canTake = (snapshot: TaskSnapshot, event: TaskEvent): boolean => snapshot.can(toMachineEvent(event));

/** The task's status, or null before it was created. */
export const statusOf = (snapshot: TaskSnapshot): TaskStatus | null =>
  snapshot.value === 'draft' ? null : (snapshot.value as TaskStatus);
