import { evolveGroup, GROUP_STREAM, group, type GroupEvent, type GroupState } from '../groups/group.ts';
import { evolveHost, HOST_STREAM, initialHostState, type HostEvent, type HostState } from '../hosts/host.ts';
import { IMAGE_STREAM, image, type ImageEvent, type ImageState } from '../images/image.ts';
import { evolveImageWithRevisions, initialImageWithRevisions, type ImageWithRevisions } from '../images/image-revisions.ts';
import {
  SLOT_QUEUE_STREAM, emptySlotQueue, evolveSlotQueue, type SlotQueueEvent, type SlotQueueSnapshot,
} from '../queues/slot-queue.ts';
import type { EventStore } from '../ports/event-store.ts';
import { streamIdOf } from '../shared/event.ts';
import { STORAGE_NODE_STREAM, storageNode, type StorageNodeEvent, type StorageNodeState } from '../storage-nodes/storage-node.ts';
import { TASK_STREAM, type TaskEvent } from '../tasks/task.ts';
import { evolveTaskState, initialTaskState, type TaskState } from '../tasks/task-state.ts';
import { evolveUser, initialUserState, USER_STREAM, type UserEvent, type UserState } from '../users/user.ts';
import { checkExpected, loadAggregate, runCommand, type CommandMeta, type CommandOutcome } from './command-runner.ts';
import { ok, type Result } from '../shared/result.ts';

/** How to rebuild each aggregate from its stream. */
export interface AggregateSpec<S, E> {
  streamType: string;
  initial: () => S;
  evolve: (state: S, event: E) => S;
}

const imageEvolve = (state: ImageState, event: ImageEvent): ImageState =>
  event.type === 'ImageRevisionCommitted' || event.type === 'ImageRevisionDeleted' ? state : image.evolve(state, event);

export const HOSTS: AggregateSpec<HostState, HostEvent> = { streamType: HOST_STREAM, initial: initialHostState, evolve: evolveHost };
export const IMAGES: AggregateSpec<ImageState, ImageEvent> = { streamType: IMAGE_STREAM, initial: image.initialState, evolve: imageEvolve };
/** The same image stream, folded with its captured revisions (captures and deploys need them). */
export const IMAGE_REVISIONS: AggregateSpec<ImageWithRevisions, ImageEvent> = {
  streamType: IMAGE_STREAM, initial: initialImageWithRevisions, evolve: evolveImageWithRevisions,
};
export const SLOT_QUEUES: AggregateSpec<SlotQueueSnapshot, SlotQueueEvent> = {
  streamType: SLOT_QUEUE_STREAM, initial: emptySlotQueue, evolve: evolveSlotQueue,
};
export const GROUPS: AggregateSpec<GroupState, GroupEvent> = { streamType: GROUP_STREAM, initial: group.initialState, evolve: evolveGroup };
export const STORAGE_NODES: AggregateSpec<StorageNodeState, StorageNodeEvent> = {
  streamType: STORAGE_NODE_STREAM, initial: storageNode.initialState, evolve: storageNode.evolve,
};
export const TASKS: AggregateSpec<TaskState, TaskEvent> = { streamType: TASK_STREAM, initial: initialTaskState, evolve: evolveTaskState };
export const USERS: AggregateSpec<UserState, UserEvent> = { streamType: USER_STREAM, initial: initialUserState, evolve: evolveUser };

export function load<S, E extends { type: string; data: object }>(store: EventStore, spec: AggregateSpec<S, E>, id: string) {
  return loadAggregate(store, streamIdOf(spec.streamType, id), spec.initial, spec.evolve);
}

/** Folded states kept per store, for aggregates whose streams keep growing. */
const folded = new WeakMap<EventStore, Map<string, { state: unknown; version: number }>>();

/**
 * Like `load`, for aggregates whose streams grow without end and are read
 * all the time: a storage node's queue sees every imaging task, and every
 * waiting client's poll reads it. The folded state is kept in memory (per
 * store; states are immutable) and caught up with only the events after its
 * version. A stream that went backwards (a database replaced under a live
 * process) is read again from the start.
 */
export async function loadIncremental<S, E extends { type: string; data: object }>(
  store: EventStore, spec: AggregateSpec<S, E>, id: string,
): Promise<{ state: S; version: number }> {
  const streamId = streamIdOf(spec.streamType, id);
  let cache = folded.get(store);
  if (!cache) folded.set(store, (cache = new Map()));
  const known = cache.get(streamId) as { state: S; version: number } | undefined;
  const { version, events } = await store.readStream(streamId, known ? { fromVersion: known.version + 1 } : {});
  if (known && (version < known.version || (events.length > 0 && events[0]!.version !== known.version + 1))) {
    cache.delete(streamId);
    return loadIncremental(store, spec, id);
  }
  let state = known?.state ?? spec.initial();
  for (const event of events) state = spec.evolve(state, { type: event.type, data: event.data } as E);
  cache.set(streamId, { state, version });
  return { state, version };
}

/** Loads several aggregates of one kind at once (e.g. a group's members). */
export async function loadMany<S, E extends { type: string; data: object }>(
  store: EventStore, spec: AggregateSpec<S, E>, ids: readonly string[],
): Promise<Map<string, S>> {
  const loaded = await Promise.all(ids.map(async (id) => [id, (await load(store, spec, id)).state] as const));
  return new Map(loaded);
}

export interface ChangeOptions {
  /** Check the caller's If-Match against the loaded version (default true). */
  checkVersion?: boolean;
}

/**
 * The shape of most commands: load one aggregate, check the caller's
 * If-Match, decide, append to its stream. `resultOf` gets the state before
 * and the version after.
 */
export function changeAggregate<S, E extends { type: string; data: object }, R>(
  store: EventStore,
  meta: CommandMeta,
  spec: AggregateSpec<S, E>,
  id: string,
  decide: (state: S) => Result<E[]> | Promise<Result<E[]>>,
  resultOf: (state: S, version: number) => R,
  options: ChangeOptions = {},
): Promise<CommandOutcome<R>> {
  const streamId = streamIdOf(spec.streamType, id);
  return runCommand(store, meta, async () => {
    const { state, version } = await load(store, spec, id);
    if (options.checkVersion !== false) {
      const expected = checkExpected(meta, streamId, version);
      if (!expected.ok) return expected;
    }
    const decided = await decide(state);
    if (!decided.ok) return decided;
    return ok({
      appends: [{ streamId, streamType: spec.streamType, expectedVersion: version, events: decided.value }],
      result: resultOf(state, version + decided.value.length),
    });
  });
}
