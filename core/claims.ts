import type { DomainEvent } from './shared/event.ts';
import type { HostMac } from './hosts/host.ts';

/**
 * Uniqueness across aggregates (host names, MACs, image names, one active
 * task per host, one master storage node per site) cannot be decided by one
 * stream alone. Each event says which unique values it takes or gives back;
 * the store applies these claims in the same transaction as the append, so
 * two racing commands cannot both win. Claims are derived from events only,
 * so they can be rebuilt from the log like any read model.
 */
export type ClaimKind =
  | 'host-name' | 'mac' | 'image-name' | 'group-name' | 'storage-node-name'
  | 'site-master' | 'username' | 'active-task';

export interface ClaimOp {
  op: 'claim' | 'release';
  kind: ClaimKind;
  value: string;
}

const claim = (kind: ClaimKind, value: string): ClaimOp => ({ op: 'claim', kind, value });
const release = (kind: ClaimKind, value: string): ClaimOp => ({ op: 'release', kind, value });
const lower = (s: string) => s.toLowerCase();

function renamed(kind: ClaimKind, changes: Record<string, unknown>, previous: Record<string, unknown>): ClaimOp[] {
  if (typeof changes.name !== 'string') return [];
  return [release(kind, lower(String(previous.name))), claim(kind, lower(changes.name))];
}

const macsOf = (macs: unknown): string[] => (Array.isArray(macs) ? (macs as HostMac[]).map((m) => m.mac) : []);
const siteKey = (site: unknown) => (typeof site === 'string' && site ? site : '(default site)');

/** The claims one event makes or gives back, in order: releases before claims. */
export function claimsFor(event: DomainEvent): ClaimOp[] {
  const d = event.data as Record<string, any>;
  switch (event.type) {
    case 'HostRegistered':
      return [claim('host-name', lower(d.name)), ...macsOf(d.macs).map((m) => claim('mac', m))];
    case 'HostUpdated': {
      const ops = renamed('host-name', d.changes, d.previous);
      if (d.changes.macs) {
        const before = new Set(macsOf(d.previous.macs));
        const after = new Set(macsOf(d.changes.macs));
        ops.push(...[...before].filter((m) => !after.has(m)).map((m) => release('mac', m)));
        ops.push(...[...after].filter((m) => !before.has(m)).map((m) => claim('mac', m)));
      }
      return ops;
    }
    case 'HostDeleted':
      return [release('host-name', lower(d.name)), ...macsOf(d.macs).map((m) => release('mac', m))];
    case 'ImageCreated': return [claim('image-name', lower(d.name))];
    case 'ImageUpdated': return renamed('image-name', d.changes, d.previous);
    case 'ImageDeleted': return [release('image-name', lower(d.name))];
    case 'GroupCreated': return [claim('group-name', lower(d.name))];
    case 'GroupUpdated': return renamed('group-name', d.changes, d.previous);
    case 'GroupDeleted': return [release('group-name', lower(d.name))];
    case 'StorageNodeCreated':
      return [claim('storage-node-name', lower(d.name)), ...(d.master ? [claim('site-master', siteKey(d.site))] : [])];
    case 'StorageNodeUpdated': {
      // Storage node updates always record the previous master flag and site (see storage-node.ts).
      const ops = renamed('storage-node-name', d.changes, d.previous);
      const wasMaster = d.previous.master === true;
      const isMaster = d.changes.master ?? wasMaster;
      const siteBefore = siteKey(d.previous.site);
      const siteAfter = 'site' in d.changes ? siteKey(d.changes.site) : siteBefore;
      if (wasMaster && (!isMaster || siteAfter !== siteBefore)) ops.push(release('site-master', siteBefore));
      if (isMaster && (!wasMaster || siteAfter !== siteBefore)) ops.push(claim('site-master', siteAfter));
      return ops;
    }
    case 'StorageNodeDeleted':
      return [release('storage-node-name', lower(d.name)), ...(d.master ? [release('site-master', siteKey(d.site))] : [])];
    case 'UserCreated': return [claim('username', d.username)];
    case 'TaskCreated': return [claim('active-task', d.hostId)];
    case 'TaskCompleted':
    case 'TaskFailed':
    case 'TaskCancelled':
      return [release('active-task', d.hostId)];
    default:
      return [];
  }
}

/** How a claim conflict reads to a person. */
export function describeClaim(kind: ClaimKind, value: string, ownerStreamId: string): string {
  switch (kind) {
    case 'host-name': return `a host named "${value}" already exists (${ownerStreamId})`;
    case 'mac': return `MAC ${value} already belongs to ${ownerStreamId}`;
    case 'image-name': return `an image named "${value}" already exists (${ownerStreamId})`;
    case 'group-name': return `a group named "${value}" already exists (${ownerStreamId})`;
    case 'storage-node-name': return `a storage node named "${value}" already exists (${ownerStreamId})`;
    case 'site-master': return `site ${value} already has a master storage node (${ownerStreamId})`;
    case 'username': return `user "${value}" already exists`;
    case 'active-task': return `host ${value} already has an active task (${ownerStreamId}); cancel it or wait until it ends`;
  }
}
