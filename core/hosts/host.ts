import type { DomainEvent } from '../shared/event.ts';

/** How a MAC belongs to a host (FOG: primary, additional, pending). */
export const MAC_ROLES = ['primary', 'additional', 'pending'] as const;
export type MacRole = (typeof MAC_ROLES)[number];

export interface HostMac {
  mac: string;
  role: MacRole;
  /** FOG's "ignore for imaging": the NIC may boot but is never imaged through. */
  ignoreForImaging: boolean;
}

/** Hardware facts the client agent reports (fog-behaviour.md, inventory fields). */
export type Inventory = Record<string, string | number | string[] | null>;

/** The fields an operator sets on a host. */
export interface HostFields {
  name: string;
  description: string;
  macs: HostMac[];
  ip: string | null;
  imageId: string | null;
  storageNodeId: string | null;
  site: string | null;
}

export type HostRegistered = DomainEvent<'HostRegistered', { hostId: string } & HostFields>;
export type HostUpdated = DomainEvent<
  'HostUpdated',
  { hostId: string; changes: Partial<HostFields>; previous: Partial<HostFields> }
>;
export type HostDeleted = DomainEvent<'HostDeleted', { hostId: string; name: string; macs: HostMac[] }>;
export type HostInventoryReported = DomainEvent<'HostInventoryReported', { hostId: string; inventory: Inventory }>;

export type HostEvent = HostRegistered | HostUpdated | HostDeleted | HostInventoryReported;

export type HostState =
  | { status: 'absent' }
  | ({ status: 'registered' | 'deleted'; hostId: string; inventory: Inventory | null } & HostFields);

export const initialHostState = (): HostState => ({ status: 'absent' });

export const HOST_STREAM = 'host';

/** Folds one host event into the host's state. */
export function evolveHost(state: HostState, event: HostEvent): HostState {
  switch (event.type) {
    case 'HostRegistered': {
      const { hostId, ...fields } = event.data;
      return { status: 'registered', hostId, inventory: null, ...fields };
    }
    case 'HostUpdated':
      return state.status === 'absent' ? state : { ...state, ...event.data.changes };
    case 'HostDeleted':
      return state.status === 'absent' ? state : { ...state, status: 'deleted' };
    case 'HostInventoryReported':
      return state.status === 'absent' ? state : { ...state, inventory: event.data.inventory };
  }
}
