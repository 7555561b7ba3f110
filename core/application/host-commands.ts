import { HOST_STREAM } from '../hosts/host.ts';
import { deleteHost } from '../hosts/delete-host.ts';
import { planHostImport, valuesNamedBy, type CsvLineError } from '../hosts/host-csv.ts';
import { registerHost, type RegisterHost } from '../hosts/register-host.ts';
import { reportInventory } from '../hosts/report-inventory.ts';
import { updateHost, type UpdateHost } from '../hosts/update-host.ts';
import type { EventStore, StreamAppend } from '../ports/event-store.ts';
import { streamIdOf } from '../shared/event.ts';
import { invalid, notFound, ok, type Result } from '../shared/result.ts';
import { GROUPS, HOSTS, IMAGES, STORAGE_NODES, changeAggregate, load } from './aggregates.ts';
import { checkExpected, runCommand, type CommandMeta, type CommandOutcome } from './command-runner.ts';
import type { Ids, Memberships } from './ports.ts';

export interface HostCommandResult {
  hostId: string;
  version: number;
}

export interface HostImportReport {
  dryRun: boolean;
  imported: { line: number; hostId: string; name: string; mac: string }[];
  rejected: CsvLineError[];
}

/** The host operations the API and the CLI share. */
export function hostCommands(store: EventStore, ids: Ids, memberships: Memberships) {
  const streamOf = (hostId: string) => streamIdOf(HOST_STREAM, hostId);

  /** References must point at live aggregates; checked before anything is recorded. */
  async function checkReferences(fields: { imageId?: unknown; storageNodeId?: unknown }): Promise<Result<void>> {
    if (typeof fields.imageId === 'string' && fields.imageId) {
      const { state } = await load(store, IMAGES, fields.imageId);
      if (state.status !== 'active') return notFound(`image ${fields.imageId} does not exist`, 'imageId');
    }
    if (typeof fields.storageNodeId === 'string' && fields.storageNodeId) {
      const { state } = await load(store, STORAGE_NODES, fields.storageNodeId);
      if (state.status !== 'active') return notFound(`storage node ${fields.storageNodeId} does not exist`, 'storageNodeId');
    }
    return ok(undefined);
  }

  return {
    register(meta: CommandMeta, input: Omit<RegisterHost, 'hostId'> & { groupIds?: unknown }): Promise<CommandOutcome<HostCommandResult>> {
      const hostId = ids.next();
      return runCommand(store, meta, async () => {
        const refs = await checkReferences(input);
        if (!refs.ok) return refs;
        const decided = registerHost({ ...input, hostId }, { status: 'absent' });
        if (!decided.ok) return decided;
        const appends: StreamAppend[] = [{ streamId: streamOf(hostId), streamType: HOST_STREAM, expectedVersion: 'no-stream', events: decided.value }];
        const groups = await groupMembershipAppends(hostId, input.groupIds, []);
        if (!groups.ok) return groups;
        appends.push(...groups.value);
        return ok({ appends, result: { hostId, version: decided.value.length } });
      });
    },

    update(meta: CommandMeta, hostId: string, changes: UpdateHost['changes'] & { groupIds?: unknown }): Promise<CommandOutcome<HostCommandResult>> {
      return runCommand(store, meta, async () => {
        const { state, version } = await load(store, HOSTS, hostId);
        const expected = checkExpected(meta, streamOf(hostId), version);
        if (!expected.ok) return expected;
        const { groupIds, ...hostChanges } = changes;
        const refs = await checkReferences(hostChanges);
        if (!refs.ok) return refs;
        const decided = updateHost({ hostId, changes: hostChanges }, state);
        if (!decided.ok) return decided;
        const appends: StreamAppend[] = [{ streamId: streamOf(hostId), streamType: HOST_STREAM, expectedVersion: version, events: decided.value }];
        if (groupIds !== undefined) {
          const current = await currentGroupsOf(hostId);
          const groups = await groupMembershipAppends(hostId, groupIds, current);
          if (!groups.ok) return groups;
          appends.push(...groups.value);
        }
        return ok({ appends, result: { hostId, version: version + decided.value.length } });
      });
    },

    remove(meta: CommandMeta, hostId: string): Promise<CommandOutcome<HostCommandResult>> {
      return runCommand(store, meta, async () => {
        const { state, version } = await load(store, HOSTS, hostId);
        const expected = checkExpected(meta, streamOf(hostId), version);
        if (!expected.ok) return expected;
        const decided = deleteHost({ hostId }, state);
        if (!decided.ok) return decided;
        const appends: StreamAppend[] = [{ streamId: streamOf(hostId), streamType: HOST_STREAM, expectedVersion: version, events: decided.value }];
        // A deleted host leaves its groups, so group tasks never pick it up.
        const groups = await groupMembershipAppends(hostId, [], await currentGroupsOf(hostId));
        if (groups.ok) appends.push(...groups.value);
        return ok({ appends, result: { hostId, version: version + 1 } });
      });
    },

    reportInventory: (meta: CommandMeta, hostId: string, inventory: unknown): Promise<CommandOutcome<HostCommandResult>> =>
      changeAggregate(store, meta, HOSTS, hostId, (state) => reportInventory({ hostId, inventory }, state),
        (_state, version) => ({ hostId, version }), { checkVersion: false }),

    /**
     * Imports a FOG host CSV. Every line is checked (format, MAC, name, image,
     * duplicates in the file and in brume); the accepted lines are then
     * recorded in one transaction, so an import is never half done. With
     * `allOrNothing`, one bad line stops the whole file.
     */
    async importCsv(
      meta: CommandMeta, csv: string,
      options: { dryRun?: boolean; allOrNothing?: boolean; onProgress?: (stage: 'checking' | 'writing', count: number) => void } = {},
    ): Promise<CommandOutcome<HostImportReport>> {
      if (typeof csv !== 'string' || csv.trim() === '') return invalid('the CSV file is empty', 'body');
      return runCommand(store, meta, async () => {
        options.onProgress?.('checking', csv.split('\n').length);
        const plan = await planImport(csv);
        const report: HostImportReport = {
          dryRun: options.dryRun === true,
          imported: plan.accepted.map((a) => ({ line: a.line, hostId: a.command.hostId, name: a.command.name, mac: a.command.macs[0]!.mac })),
          rejected: plan.rejected,
        };
        const refuseAll = options.allOrNothing === true && plan.rejected.length > 0;
        if (options.dryRun || refuseAll || plan.accepted.length === 0) {
          if (refuseAll) report.imported = [];
          return ok({ appends: [], result: report });
        }
        options.onProgress?.('writing', plan.accepted.length);
        const appends: StreamAppend[] = [];
        for (const { command } of plan.accepted) {
          const decided = registerHost(command, { status: 'absent' });
          if (!decided.ok) return decided;
          appends.push({ streamId: streamOf(command.hostId), streamType: HOST_STREAM, expectedVersion: 'no-stream', events: decided.value });
        }
        return ok({ appends, result: report });
      });
    },
  };

  async function planImport(csv: string) {
    // Everything the file names is looked up in three queries, then the plan is made in memory.
    const named = valuesNamedBy(csv);
    const [names, macs, images] = await Promise.all([
      store.claimOwners('host-name', named.names),
      store.claimOwners('mac', named.macs),
      store.claimOwners('image-name', named.imageNames),
    ]);
    return planHostImport(csv, {
      newHostId: () => ids.next(),
      imageIdByName: (name) => images.get(name.toLowerCase())?.slice(`${IMAGES.streamType}-`.length),
      nameTaken: (name) => names.has(name),
      macTaken: (mac) => macs.has(mac),
    });
  }

  async function currentGroupsOf(hostId: string): Promise<string[]> {
    return memberships.groupsOf(hostId);
  }

  async function groupMembershipAppends(hostId: string, wanted: unknown, current: string[]): Promise<Result<StreamAppend[]>> {
    if (wanted === undefined) return ok([]);
    if (!Array.isArray(wanted) || wanted.some((g) => typeof g !== 'string')) return invalid('groupIds must be a list of group ids', 'groupIds');
    const target = new Set(wanted as string[]);
    const appends: StreamAppend[] = [];
    for (const groupId of new Set([...target, ...current])) {
      const joins = target.has(groupId) && !current.includes(groupId);
      const leaves = !target.has(groupId) && current.includes(groupId);
      if (!joins && !leaves) continue;
      const { state, version } = await load(store, GROUPS, groupId);
      if (state.status !== 'active') {
        if (joins) return notFound(`group ${groupId} does not exist`, 'groupIds');
        continue;
      }
      appends.push({
        streamId: streamIdOf(GROUPS.streamType, groupId),
        streamType: GROUPS.streamType,
        expectedVersion: version,
        events: [{ type: joins ? 'GroupMembersAdded' : 'GroupMembersRemoved', data: { id: groupId, hostIds: [hostId] } }],
      });
    }
    return ok(appends);
  }
}
