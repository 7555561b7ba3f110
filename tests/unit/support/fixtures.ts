/** Event builders and aggregates shared by the unit specs. Defaults describe one ordinary host, image, group and task. */
import { evolveGroup, group, type GroupEvent, type GroupFields, type GroupState } from '../../../core/groups/group.ts';
import {
  evolveHost, initialHostState, type HostEvent, type HostMac, type HostRegistered, type HostState,
} from '../../../core/hosts/host.ts';
import { image, type ImageFields, type ImageState } from '../../../core/images/image.ts';
import { storageNode, type StorageNodeFields, type StorageNodeState } from '../../../core/storage-nodes/storage-node.ts';
import type { TaskCreated, TaskCreatedData, TaskEvent } from '../../../core/tasks/task.ts';
import { emptyTaskSnapshot, evolveTask, type TaskSnapshot } from '../../../core/tasks/task-machine.ts';
import { evolveUser, initialUserState, type Role, type UserEvent, type UserState } from '../../../core/users/user.ts';
import type { CatalogEvent } from '../../../core/shared/catalog-entity.ts';
import { fold, specFor, type Aggregate } from './given-when-then.ts';

export const MAC_A = '00:c0:4f:18:62:63';
export const MAC_B = '00:c0:4f:18:62:64';
export const MAC_C = '00:c0:4f:18:62:65';

export const primary = (mac: string): HostMac => ({ mac, role: 'primary', ignoreForImaging: false });
export const additional = (mac: string): HostMac => ({ mac, role: 'additional', ignoreForImaging: false });

// ---- aggregates

export const HOST: Aggregate<HostState, HostEvent> = { initial: initialHostState, evolve: evolveHost };
export const IMAGE: Aggregate<ImageState, CatalogEvent<'Image', ImageFields>> = { initial: image.initialState, evolve: image.evolve };
export const STORAGE_NODE: Aggregate<StorageNodeState, CatalogEvent<'StorageNode', StorageNodeFields>> = {
  initial: storageNode.initialState, evolve: storageNode.evolve,
};
export const GROUP: Aggregate<GroupState, GroupEvent> = { initial: group.initialState, evolve: evolveGroup };
export const TASK: Aggregate<TaskSnapshot, TaskEvent> = { initial: emptyTaskSnapshot, evolve: evolveTask };
export const USER: Aggregate<UserState, UserEvent> = { initial: initialUserState, evolve: evolveUser };

export const hosts = specFor(HOST);
export const images = specFor(IMAGE);
export const storageNodes = specFor(STORAGE_NODE);
export const groups = specFor(GROUP);
export const tasks = specFor(TASK);
export const users = specFor(USER);

// ---- hosts

export const hostRegistered = (data: Partial<HostRegistered['data']> = {}): HostRegistered => ({
  type: 'HostRegistered',
  data: {
    hostId: 'host-1', name: 'lab-01', description: '', macs: [primary(MAC_A)],
    ip: null, imageId: null, storageNodeId: null, site: null, ...data,
  },
});

export const hostDeleted = (hostId = 'host-1', name = 'lab-01', macs = [primary(MAC_A)]): HostEvent => ({
  type: 'HostDeleted', data: { hostId, name, macs },
});

/** A host's state after the given events, or registered with these fields. */
export const hostState = (data: Partial<HostRegistered['data']> = {}, ...more: HostEvent[]): HostState =>
  fold(HOST, [hostRegistered(data), ...more]);

// ---- catalog

export const imageCreated = (data: Partial<ImageFields> & { id?: string } = {}): CatalogEvent<'Image', ImageFields> => ({
  type: 'ImageCreated',
  data: { id: 'image-1', name: 'win11', description: '', type: 'n', os: '', compression: 6, ...data },
});

export const imageDeleted = (id = 'image-1', name = 'win11'): CatalogEvent<'Image', ImageFields> => ({
  type: 'ImageDeleted', data: { id, name, description: '', type: 'n', os: '', compression: 6 },
});

/** Image states by id, as a task command's caller loads them. */
export const imagesById = (...histories: CatalogEvent<'Image', ImageFields>[][]): Map<string, ImageState> =>
  new Map(histories.map((events) => {
    const state = fold(IMAGE, events);
    return [state.status === 'absent' ? '?' : state.id, state];
  }));

export const storageNodeCreated = (
  data: Partial<StorageNodeFields> & { id?: string } = {},
): CatalogEvent<'StorageNode', StorageNodeFields> => ({
  type: 'StorageNodeCreated',
  data: { id: 'node-1', name: 'store-1', address: '192.0.2.20', maxClients: 10, master: false, site: null, enabled: true, ...data },
});

export const groupCreated = (data: Partial<GroupFields> & { id?: string } = {}): CatalogEvent<'Group', GroupFields> => ({
  type: 'GroupCreated', data: { id: 'group-1', name: 'room-2', description: '', imageId: null, ...data },
});

export const membersAdded = (hostIds: string[], id = 'group-1'): GroupEvent => ({ type: 'GroupMembersAdded', data: { id, hostIds } });
export const membersRemoved = (hostIds: string[], id = 'group-1'): GroupEvent => ({ type: 'GroupMembersRemoved', data: { id, hostIds } });

// ---- tasks

export const T0 = new Date('2026-03-01T08:00:00.000Z');
export const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

export const taskCreated = (data: Partial<TaskCreatedData> = {}): TaskCreated => ({
  type: 'TaskCreated',
  data: {
    taskId: 'task-1', hostId: 'host-1', typeId: 1, imageId: 'image-1', storageNodeId: null,
    options: { afterTask: 'reboot', wakeBefore: false }, groupRunId: null, replayOf: null, ...data,
  },
});

const ids = { taskId: 'task-1', hostId: 'host-1' };

/** Checked in at `seconds` after T0 with the default 600 s deadline. */
export const checkedIn = (seconds = 0): TaskEvent => ({
  type: 'TaskCheckedIn', data: { ...ids, at: at(seconds).toISOString(), deadline: at(seconds + 600).toISOString() },
});
export const started = (extra: { queueId?: string; imageRevision?: number } = {}, seconds = 10): TaskEvent =>
  ({ type: 'TaskStarted', data: { ...ids, at: at(seconds).toISOString(), ...extra } });
export const progressed = (bytesDone = 50, bytesTotal = 100): TaskEvent => ({
  type: 'TaskProgressed', data: { ...ids, bytesDone, bytesTotal, rateBytesPerSecond: 10, partition: null },
});
export const completed = (): TaskEvent => ({ type: 'TaskCompleted', data: { ...ids } });
export const failed = (reason = 'disk too small'): TaskEvent => ({
  type: 'TaskFailed', data: { ...ids, reason, command: null, output: null },
});
export const cancelled = (reason = 'wrong room'): TaskEvent => ({ type: 'TaskCancelled', data: { ...ids, reason } });
export const requeued = (reason = 'client stopped polling'): TaskEvent => ({ type: 'TaskRequeued', data: { ...ids, reason } });

/** Histories that leave a task in each status. */
export const HISTORY = {
  queued: [taskCreated()],
  'checked-in': [taskCreated(), checkedIn()],
  'in-progress': [taskCreated(), checkedIn(), started()],
  complete: [taskCreated(), checkedIn(), started(), completed()],
  failed: [taskCreated(), checkedIn(), started(), failed()],
  cancelled: [taskCreated(), cancelled()],
} satisfies Record<string, TaskEvent[]>;

export const taskSnapshot = (...events: TaskEvent[]): TaskSnapshot => fold(TASK, events);

// ---- users

export const userCreated = (role: Role = 'operator', username = 'alice', userId = 'user-1'): UserEvent => ({
  type: 'UserCreated', data: { userId, username, role },
});
