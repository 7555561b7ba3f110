import { changeGroupMembers, evolveGroup, GROUP_STREAM } from '../groups/group.ts';
import type { EventStore } from '../ports/event-store.ts';
import type { CatalogEvent, CatalogState, defineCatalogEntity } from '../shared/catalog-entity.ts';
import { streamIdOf } from '../shared/event.ts';
import { notFound, ok, type Result } from '../shared/result.ts';
import { GROUPS, HOSTS, IMAGES, changeAggregate, load, loadMany, type AggregateSpec } from './aggregates.ts';
import { checkExpected, runCommand, type CommandMeta, type CommandOutcome } from './command-runner.ts';
import type { Ids } from './ports.ts';

export interface EntityCommandResult {
  id: string;
  version: number;
}

type Entity<P extends string, F extends object> = ReturnType<typeof defineCatalogEntity<P, F>>;

/**
 * Create, update and delete for images, storage nodes and groups: one
 * implementation, parameterised by the entity's decide functions.
 * `checkRefs` validates fields that point at other aggregates.
 */
export function catalogCommands<P extends string, F extends object, S extends CatalogState<F>>(
  store: EventStore,
  ids: Ids,
  entity: Entity<P, F>,
  spec: AggregateSpec<S, any>,
  checkRefs: (fields: Partial<Record<keyof F, unknown>>) => Promise<Result<void>> = async () => ok(undefined),
) {
  const streamOf = (id: string) => streamIdOf(spec.streamType, id);
  const append = (id: string, expectedVersion: number | 'no-stream', events: CatalogEvent<P, F>[]) => ({
    streamId: streamOf(id), streamType: spec.streamType, expectedVersion, events,
  });

  return {
    create(meta: CommandMeta, input: Partial<Record<keyof F, unknown>>): Promise<CommandOutcome<EntityCommandResult>> {
      const id = ids.next();
      return runCommand(store, meta, async () => {
        const refs = await checkRefs(input);
        if (!refs.ok) return refs;
        const decided = entity.create({ ...input, id }, { status: 'absent' });
        if (!decided.ok) return decided;
        return ok({ appends: [append(id, 'no-stream', decided.value)], result: { id, version: 1 } });
      });
    },

    update: (meta: CommandMeta, id: string, changes: Partial<Record<keyof F, unknown>>): Promise<CommandOutcome<EntityCommandResult>> =>
      changeAggregate(store, meta, spec, id, async (state) => {
        const refs = await checkRefs(changes);
        return refs.ok ? entity.update({ id, changes }, state) : refs;
      }, (_state, version) => ({ id, version })),

    remove: (meta: CommandMeta, id: string): Promise<CommandOutcome<EntityCommandResult>> =>
      changeAggregate(store, meta, spec, id, (state) => entity.remove({ id }, state), (_state, version) => ({ id, version })),
  };
}

/** An image reference must name a live image. */
export const imageRefChecker = (store: EventStore) => async (fields: { imageId?: unknown }): Promise<Result<void>> => {
  if (typeof fields.imageId !== 'string' || !fields.imageId) return ok(undefined);
  const { state } = await load(store, IMAGES, fields.imageId);
  return state.status === 'active' ? ok(undefined) : notFound(`image ${fields.imageId} does not exist`, 'imageId');
};

/** Adds and removes group members from the group's side. */
export function groupMembershipCommand(store: EventStore) {
  return (meta: CommandMeta, groupId: string, change: { add?: unknown; remove?: unknown }): Promise<CommandOutcome<EntityCommandResult & { members: number }>> =>
    runCommand(store, meta, async () => {
      const { state, version } = await load(store, GROUPS, groupId);
      const expected = checkExpected(meta, streamIdOf(GROUP_STREAM, groupId), version);
      if (!expected.ok) return expected;
      const decided = changeGroupMembers({ groupId, add: change.add as string[], remove: change.remove as string[] }, state);
      if (!decided.ok) return decided;
      const added = decided.value.flatMap((e) => (e.type === 'GroupMembersAdded' ? e.data.hostIds : []));
      const hosts = await loadMany(store, HOSTS, added);
      const missing = added.find((id) => hosts.get(id)?.status !== 'registered');
      if (missing) return notFound(`host ${missing} does not exist`, 'add');
      let after = state;
      for (const event of decided.value) after = evolveGroup(after, event);
      const members = after.status === 'active' ? (after.members ?? []) : [];
      return ok({
        appends: [{ streamId: streamIdOf(GROUP_STREAM, groupId), streamType: GROUP_STREAM, expectedVersion: version, events: decided.value }],
        result: { id: groupId, version: version + decided.value.length, members: members.length },
      });
    });
}
