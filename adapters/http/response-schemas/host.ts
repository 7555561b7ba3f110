import { MAC_ROLES } from '../../../core/hosts/host.ts';
import {
  arrayOf, boolean, choice, dateTime, integer, mapOf, orNull, page, ref, shape, shared, string,
} from './schema-kit.ts';
import { HistoryEvent } from './history-event.ts';
import { Task } from './task.ts';

export const HostMac = shared('HostMac', shape({
  mac: { ...string, description: 'aa:bb:cc:dd:ee:ff' },
  role: choice(MAC_ROLES),
  ignoreForImaging: boolean,
}));

/** Hardware facts the client agent reports, by field name. */
export const Inventory = shared('Inventory', mapOf({
  anyOf: [{ type: 'string' }, { type: 'number' }, arrayOf(string), { type: 'null' }],
}), 'Hardware facts the client agent reported, by field name');

/** The fields GET /api/hosts/:id/as-of folds from the host's stream; the read model adds the rest. */
const hostFields = {
  name: string,
  description: string,
  macs: arrayOf(ref(HostMac)),
  ip: orNull(string),
  imageId: orNull(string),
  storageNodeId: orNull(string),
  site: orNull(string),
  inventory: orNull(ref(Inventory)),
};

const hostProperties = {
  id: string,
  ...hostFields,
  primaryMac: string,
  groupIds: arrayOf(string),
  activeTaskId: orNull(string),
  lastTaskId: orNull(string),
  deployed: orNull(shape({ imageId: string, revision: orNull(integer), at: orNull(dateTime) })),
  createdAt: dateTime,
  updatedAt: dateTime,
  version: integer,
};

/** A host as the list and the commands answer it (projections/sql/queries.ts hostView). */
export const Host = shared('Host', shape(hostProperties));

export const HostPage = page('HostPage', Host, true);

/** The last sighting of one boot stage of one of the host's MACs. */
export const BootStage = shared('BootStage', shape({
  mac: string,
  stage: string,
  at: dateTime,
  detail: mapOf(string),
}));

export const HostDetail = shared('HostDetail', shape({
  ...hostProperties,
  groups: arrayOf(shape({ id: string, name: string })),
  tasks: { ...arrayOf(ref(Task)), description: 'its last 20 tasks, newest first' },
  bootStages: arrayOf(ref(BootStage)),
  history: { ...arrayOf(ref(HistoryEvent)), description: 'its last 50 events, oldest first' },
}), 'A host with its groups, its last tasks, its boot stages and its recent history');

export const HostAsOf = shared('HostAsOf', shape({
  hostId: string,
  at: dateTime,
  status: choice(['registered', 'deleted']),
  ...hostFields,
  version: { ...integer, description: 'the version the host was at then' },
  lastEventAt: dateTime,
  lastEventType: string,
  currentVersion: { ...integer, description: 'the version the host is at now' },
}), 'A host as its stream had it at a past moment');

export const hostSchemas = [HostMac, Inventory, Host, HostPage, BootStage, HostDetail, HostAsOf];
