import type { EventStore } from '../ports/event-store.ts';
import { GROUPS, IMAGES, STORAGE_NODES } from './aggregates.ts';
import { catalogCommands, groupMembershipCommand, imageRefChecker } from './catalog-commands.ts';
import { hostCommands } from './host-commands.ts';
import type { Credentials, Directory, Ids, Memberships } from './ports.ts';
import { imagingCommands, type ImagingSettings } from './imaging-commands.ts';
import { taskCommands, type TaskEffectRunner } from './task-commands.ts';
import { userCommands } from './user-commands.ts';
import { group } from '../groups/group.ts';
import { image } from '../images/image.ts';
import { storageNode } from '../storage-nodes/storage-node.ts';

export interface CommandDependencies {
  store: EventStore;
  ids: Ids;
  memberships: Memberships;
  credentials: Credentials;
  directory: Directory;
  runTaskEffects?: TaskEffectRunner;
  imaging?: ImagingSettings;
}

/**
 * Every command brume accepts, wired to one store. The HTTP API and the CLI
 * both call these, so they validate and fail the same way.
 *
 * @example
 * const commands = createCommands({ store, ids, memberships, credentials });
 * await commands.hosts.register(meta, { name: 'lab-01', macs: ['52:54:00:12:34:56'] });
 */
export function createCommands(deps: CommandDependencies) {
  const { store, ids } = deps;
  const imageRefs = imageRefChecker(store);
  return {
    hosts: hostCommands(store, ids, deps.memberships),
    images: catalogCommands(store, ids, image, IMAGES),
    storageNodes: catalogCommands(store, ids, storageNode, STORAGE_NODES),
    groups: { ...catalogCommands(store, ids, group, GROUPS, imageRefs), changeMembers: groupMembershipCommand(store) },
    tasks: taskCommands(store, ids, deps.runTaskEffects),
    imaging: imagingCommands(store, deps.imaging),
    users: userCommands(store, ids, deps.credentials, deps.directory),
  };
}

export type Commands = ReturnType<typeof createCommands>;
export type { CommandMeta, CommandOutcome } from './command-runner.ts';
