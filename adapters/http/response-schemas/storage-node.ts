import { arrayOf, boolean, dateTime, integer, orNull, page, ref, shape, shared, string } from './schema-kit.ts';

export const StorageNode = shared('StorageNode', shape({
  id: string,
  name: string,
  address: { ...string, description: 'host name or IP, optionally :port' },
  maxClients: integer,
  master: boolean,
  site: orNull(string),
  enabled: boolean,
  slotsUsed: { ...integer, description: 'tasks in progress on the node' },
  slotsFree: integer,
  waiting: { ...integer, description: 'checked-in tasks waiting for a slot' },
  createdAt: dateTime,
  updatedAt: dateTime,
  version: integer,
}));

export const StorageNodePage = page('StorageNodePage', StorageNode, false);

const queued = { taskId: string, hostId: orNull(string), hostName: orNull(string) };

/** A storage node's imaging queue (or brume's own, queueId `default`) as its stream has it. */
export const Queue = shared('Queue', shape({
  queueId: string,
  name: string,
  maxClients: integer,
  enabled: boolean,
  active: { ...arrayOf(shape({ ...queued, since: dateTime })), description: 'holding a slot' },
  waiting: { ...arrayOf(shape({ ...queued, checkedInAt: dateTime, position: integer })), description: 'in line order' },
}));

export const QueueList = shared('QueueList', shape({ items: arrayOf(ref(Queue)) }));

export const storageNodeSchemas = [StorageNode, StorageNodePage, Queue, QueueList];
