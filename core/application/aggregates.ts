import { evolveGroup, GROUP_STREAM, group, type GroupEvent, type GroupState } from '../groups/group.ts';
import { evolveHost, HOST_STREAM, initialHostState, type HostEvent, type HostState } from '../hosts/host.ts';
import { IMAGE_STREAM, image, type ImageEvent, type ImageState } from '../images/image.ts';
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
  event.type === 'ImageRevisionCommitted' ? state : image.evolve(state, event);

export const HOSTS: AggregateSpec<HostState, HostEvent> = { streamType: HOST_STREAM, initial: initialHostState, evolve: evolveHost };
export const IMAGES: AggregateSpec<ImageState, ImageEvent> = { streamType: IMAGE_STREAM, initial: image.initialState, evolve: imageEvolve };
export const GROUPS: AggregateSpec<GroupState, GroupEvent> = { streamType: GROUP_STREAM, initial: group.initialState, evolve: evolveGroup };
export const STORAGE_NODES: AggregateSpec<StorageNodeState, StorageNodeEvent> = {
  streamType: STORAGE_NODE_STREAM, initial: storageNode.initialState, evolve: storageNode.evolve,
};
export const TASKS: AggregateSpec<TaskState, TaskEvent> = { streamType: TASK_STREAM, initial: initialTaskState, evolve: evolveTaskState };
export const USERS: AggregateSpec<UserState, UserEvent> = { streamType: USER_STREAM, initial: initialUserState, evolve: evolveUser };

export function load<S, E extends { type: string; data: object }>(store: EventStore, spec: AggregateSpec<S, E>, id: string) {
  return loadAggregate(store, streamIdOf(spec.streamType, id), spec.initial, spec.evolve);
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
