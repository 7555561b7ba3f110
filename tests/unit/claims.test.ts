import { describe, expect, it } from 'vitest';
import { claimsFor, describeClaim, type ClaimKind, type ClaimOp } from '../../core/claims.ts';
import { deleteHost } from '../../core/hosts/delete-host.ts';
import { updateHost } from '../../core/hosts/update-host.ts';
import type { DomainEvent } from '../../core/shared/event.ts';
import type { Result } from '../../core/shared/result.ts';
import { storageNode } from '../../core/storage-nodes/storage-node.ts';
import { fold } from './support/given-when-then.ts';
import {
  MAC_A, MAC_B, MAC_C, STORAGE_NODE, additional, cancelled, checkedIn, completed, failed, groupCreated, hostDeleted, hostRegistered, hostState, imageCreated,
  imageDeleted, membersAdded, primary, progressed, requeued, started, storageNodeCreated, taskCreated, userCreated,
} from './support/fixtures.ts';

const claim = (kind: ClaimKind, value: string): ClaimOp => ({ op: 'claim', kind, value });
const release = (kind: ClaimKind, value: string): ClaimOp => ({ op: 'release', kind, value });
const event = (type: string, data: object): DomainEvent => ({ type, data });
const updated = (type: string, changes: object, previous: object) => event(type, { id: 'x-1', changes, previous });

describe('claimsFor: hosts', () => {
  it('claims the lowercased name and every MAC of a registered host', () => {
    expect(claimsFor(hostRegistered({ name: 'Lab-01', macs: [primary(MAC_A), additional(MAC_B)] }))).toEqual([
      claim('host-name', 'lab-01'), claim('mac', MAC_A), claim('mac', MAC_B),
    ]);
  });

  it('releases the name and every MAC of a deleted host', () => {
    expect(claimsFor(hostDeleted('host-1', 'Lab-01', [primary(MAC_A), additional(MAC_B)]))).toEqual([
      release('host-name', 'lab-01'), release('mac', MAC_A), release('mac', MAC_B),
    ]);
  });

  it('moves the name claim on a rename, releasing first', () => {
    expect(claimsFor(event('HostUpdated', { hostId: 'h', changes: { name: 'Lab-02' }, previous: { name: 'LAB-01' } })))
      .toEqual([release('host-name', 'lab-01'), claim('host-name', 'lab-02')]);
  });

  it('releases removed MACs and claims added ones, leaving kept ones alone', () => {
    const changes = { macs: [primary(MAC_B), additional(MAC_C)] };
    const previous = { macs: [primary(MAC_A), additional(MAC_B)] };
    expect(claimsFor(event('HostUpdated', { hostId: 'h', changes, previous }))).toEqual([release('mac', MAC_A), claim('mac', MAC_C)]);
  });

  it('does nothing when only MAC roles change or other fields change', () => {
    const changes = { macs: [additional(MAC_A), primary(MAC_B)], description: 'x' };
    const previous = { macs: [primary(MAC_A), additional(MAC_B)], description: '' };
    expect(claimsFor(event('HostUpdated', { hostId: 'h', changes, previous }))).toEqual([]);
    expect(claimsFor(event('HostUpdated', { hostId: 'h', changes: { ip: '192.0.2.1' }, previous: { ip: null } }))).toEqual([]);
  });

  it('handles a rename and a MAC change in one update', () => {
    const data = { hostId: 'h', changes: { name: 'b', macs: [primary(MAC_B)] }, previous: { name: 'a', macs: [primary(MAC_A)] } };
    expect(claimsFor(event('HostUpdated', data))).toEqual([
      release('host-name', 'a'), claim('host-name', 'b'), release('mac', MAC_A), claim('mac', MAC_B),
    ]);
  });

  it('takes nothing for an inventory report', () => {
    expect(claimsFor(event('HostInventoryReported', { hostId: 'h', inventory: {} }))).toEqual([]);
  });
});

describe.each([
  ['Image', 'image-name'],
  ['Group', 'group-name'],
  ['StorageNode', 'storage-node-name'],
] as const)('claimsFor: %s names', (prefix, kind) => {
  it('claims the lowercased name on create and releases it on delete', () => {
    expect(claimsFor(event(`${prefix}Created`, { id: 'x-1', name: 'Win 11' }))).toEqual([claim(kind, 'win 11')]);
    expect(claimsFor(event(`${prefix}Deleted`, { id: 'x-1', name: 'Win 11' }))).toEqual([release(kind, 'win 11')]);
  });

  it('moves the claim on a rename and takes nothing for other changes', () => {
    const extra = prefix === 'StorageNode' ? { master: false, site: null } : {};
    expect(claimsFor(updated(`${prefix}Updated`, { name: 'New' }, { name: 'Old', ...extra }))).toEqual([release(kind, 'old'), claim(kind, 'new')]);
    expect(claimsFor(updated(`${prefix}Updated`, { description: 'd' }, { description: '', ...extra }))).toEqual([]);
  });
});

describe('claimsFor: the catalog events the fixtures build', () => {
  it('matches what the decide functions record', () => {
    expect(claimsFor(imageCreated())).toEqual([claim('image-name', 'win11')]);
    expect(claimsFor(imageDeleted())).toEqual([release('image-name', 'win11')]);
    expect(claimsFor(groupCreated())).toEqual([claim('group-name', 'room-2')]);
    expect(claimsFor(membersAdded(['host-1']))).toEqual([]);
    expect(claimsFor(storageNodeCreated())).toEqual([claim('storage-node-name', 'store-1')]);
  });
});

describe('claimsFor: one master storage node per site', () => {
  const nodeUpdated = (changes: object, previous: { master: boolean; site: string | null; name?: string }) =>
    updated('StorageNodeUpdated', changes, previous);

  it('claims the site for a master created there, the default site when it has none', () => {
    expect(claimsFor(storageNodeCreated({ master: true, site: 'north' }))).toEqual([claim('storage-node-name', 'store-1'), claim('site-master', 'north')]);
    expect(claimsFor(storageNodeCreated({ master: true, site: null }))).toEqual([claim('storage-node-name', 'store-1'), claim('site-master', '(default site)')]);
  });

  it('releases the site when a master is deleted', () => {
    const data = { ...storageNodeCreated({ master: true, site: 'north' }).data };
    expect(claimsFor(event('StorageNodeDeleted', data))).toEqual([release('storage-node-name', 'store-1'), release('site-master', 'north')]);
    expect(claimsFor(event('StorageNodeDeleted', { ...data, master: false }))).toEqual([release('storage-node-name', 'store-1')]);
  });

  it.each([
    ['a node becomes master', { master: true }, { master: false, site: 'north' }, [claim('site-master', 'north')]],
    ['a master steps down', { master: false }, { master: true, site: 'north' }, [release('site-master', 'north')]],
    ['a master moves site', { site: 'south' }, { master: true, site: 'north' }, [release('site-master', 'north'), claim('site-master', 'south')]],
    ['a master moves to the default site', { site: null }, { master: true, site: 'north' }, [release('site-master', 'north'), claim('site-master', '(default site)')]],
    ['a node moves and becomes master', { site: 'south', master: true }, { master: false, site: 'north' }, [claim('site-master', 'south')]],
    ['a master moves and steps down', { site: 'south', master: false }, { master: true, site: 'north' }, [release('site-master', 'north')]],
    ['a non-master moves site', { site: 'south' }, { master: false, site: 'north' }, []],
    ['a master changes something else', { maxClients: 4 }, { master: true, site: 'north' }, []],
    ['a master "moves" from no site to the empty site', { site: '' }, { master: true, site: null }, []],
  ] as const)('when %s', (_case, changes, previous, ops) => {
    expect(claimsFor(nodeUpdated(changes, previous))).toEqual(ops);
  });

  it('releases before it claims when a master is renamed and moved', () => {
    expect(claimsFor(nodeUpdated({ name: 'B', site: 'south' }, { master: true, site: 'north', name: 'A' }))).toEqual([
      release('storage-node-name', 'a'), claim('storage-node-name', 'b'), release('site-master', 'north'), claim('site-master', 'south'),
    ]);
  });
});

describe('claimsFor on what the decide functions record', () => {
  const claimsOf = (result: Result<DomainEvent[]>) => {
    if (!result.ok) throw new Error(result.error.message);
    return result.value.flatMap(claimsFor);
  };

  it('moves the site-master claim when a master node is moved, though only the site changed', () => {
    const state = fold(STORAGE_NODE, [storageNodeCreated({ master: true, site: 'north' })]);
    expect(claimsOf(storageNode.update({ id: 'node-1', changes: { site: 'south' } }, state)))
      .toEqual([release('site-master', 'north'), claim('site-master', 'south')]);
    expect(claimsOf(storageNode.update({ id: 'node-1', changes: { master: false } }, state))).toEqual([release('site-master', 'north')]);
  });

  it('moves the name and MAC claims of an updated host and releases them on delete', () => {
    const state = hostState({ name: 'Lab-01' });
    expect(claimsOf(updateHost({ hostId: 'host-1', changes: { name: 'lab-02', macs: [MAC_B] } }, state))).toEqual([
      release('host-name', 'lab-01'), claim('host-name', 'lab-02'), release('mac', MAC_A), claim('mac', MAC_B),
    ]);
    expect(claimsOf(deleteHost({ hostId: 'host-1' }, state))).toEqual([release('host-name', 'lab-01'), release('mac', MAC_A)]);
  });
});

describe('claimsFor: users and tasks', () => {
  it('claims the username of a new user and nothing for other user facts', () => {
    expect(claimsFor(userCreated('admin', 'alice'))).toEqual([claim('username', 'alice')]);
    expect(claimsFor(event('UserRoleChanged', { userId: 'u', role: 'admin', previous: 'operator' }))).toEqual([]);
    expect(claimsFor(event('UserDisabled', { userId: 'u', username: 'alice' }))).toEqual([]);
    expect(claimsFor(event('UserPasswordChanged', { userId: 'u' }))).toEqual([]);
  });

  it("claims the host's active-task slot when a task is created", () => {
    expect(claimsFor(taskCreated({ hostId: 'host-7' }))).toEqual([claim('active-task', 'host-7')]);
  });

  it.each([
    ['completes', completed()], ['fails', failed()], ['is cancelled', cancelled()],
  ])('releases the active-task claim when a task %s', (_case, e) => {
    expect(claimsFor(e)).toEqual([release('active-task', 'host-1')]);
  });

  it.each([
    ['check-in', checkedIn()], ['start', started()], ['progress', progressed()], ['requeue', requeued()],
  ])('keeps the active-task claim through a %s', (_case, e) => {
    expect(claimsFor(e)).toEqual([]);
  });

  it('takes nothing for events it does not know', () => {
    expect(claimsFor(event('GroupTaskRunStarted', { runId: 'r', tasks: [] }))).toEqual([]);
    expect(claimsFor(event('ImageRevisionCommitted', { id: 'i', revision: 2 }))).toEqual([]);
  });
});

describe('describeClaim', () => {
  it.each([
    ['host-name', 'lab-01', 'a host named "lab-01" already exists (host-1)'],
    ['mac', MAC_A, `MAC ${MAC_A} already belongs to host-1`],
    ['image-name', 'win11', 'an image named "win11" already exists (host-1)'],
    ['group-name', 'room-2', 'a group named "room-2" already exists (host-1)'],
    ['storage-node-name', 'store-1', 'a storage node named "store-1" already exists (host-1)'],
    ['site-master', 'north', 'site north already has a master storage node (host-1)'],
    ['username', 'alice', 'user "alice" already exists'],
    ['active-task', 'host-9', 'host host-9 already has an active task (host-1); cancel it or wait until it ends'],
  ] as const)('explains a %s conflict', (kind, value, message) => {
    expect(describeClaim(kind, value, 'host-1')).toBe(message);
  });
});
