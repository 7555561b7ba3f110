import { describe, expect, it } from 'vitest';
import type { HostEvent } from '../../../core/hosts/host.ts';
import { updateHost, type UpdateHost } from '../../../core/hosts/update-host.ts';
import { MAC_A, MAC_B, additional, hostDeleted, hostRegistered, hosts, primary } from '../support/fixtures.ts';

const update = (changes: UpdateHost['changes'], given: HostEvent[] = [hostRegistered()]) =>
  hosts.given(given).when((state) => updateHost({ hostId: 'host-1', changes }, state));

const updated = (changes: object, previous: object): HostEvent =>
  ({ type: 'HostUpdated', data: { hostId: 'host-1', changes, previous } }) as HostEvent;

describe('updateHost', () => {
  it('records the new and previous value of a renamed host', () => {
    const { state } = update({ name: 'lab-02' }).then([updated({ name: 'lab-02' }, { name: 'lab-01' })]);
    expect(state).toMatchObject({ status: 'registered', name: 'lab-02', macs: [primary(MAC_A)] });
  });

  it('records only the fields that actually change', () => {
    update({ name: 'lab-01', description: 'Room 2', ip: '192.0.2.5', imageId: null })
      .then([updated({ description: 'Room 2', ip: '192.0.2.5' }, { description: '', ip: null })]);
  });

  it('compares normalised values: the same MACs in another spelling change nothing', () => {
    update({ macs: ['00-C0-4F-18-62-63'], name: ' lab-01 ' }).thenNothing();
  });

  it('records a changed MAC list with the previous list', () => {
    const { state } = update({ macs: [MAC_A, MAC_B] }).then([updated({ macs: [primary(MAC_A), additional(MAC_B)] }, { macs: [primary(MAC_A)] })]);
    expect(state).toMatchObject({ macs: [primary(MAC_A), additional(MAC_B)] });
  });

  it('clears an optional field with null or an empty string', () => {
    const given = [hostRegistered({ imageId: 'image-1', site: 'north' })];
    update({ imageId: '', site: null }, given).then([updated({ imageId: null, site: null }, { imageId: 'image-1', site: 'north' })]);
  });

  it('ignores fields given as undefined', () => {
    update({ name: undefined, description: 'x' }).then([updated({ description: 'x' }, { description: '' })]);
  });

  it('records nothing for an empty change', () => {
    update({}).thenNothing();
  });

  it('applies successive updates on top of each other when folded', () => {
    const given = [hostRegistered(), updated({ name: 'lab-02' }, { name: 'lab-01' })];
    update({ name: 'lab-03' }, given).then([updated({ name: 'lab-03' }, { name: 'lab-02' })]);
  });

  it.each([
    ['name', { name: '-x' }, /may not start or end with a hyphen/],
    ['macs', { macs: [] }, 'a host needs at least one MAC address'],
    ['ip', { ip: 'lab' }, /not an IPv4 address/],
    ['description', { description: {} }, 'description must be text'],
    ['storageNodeId', { storageNodeId: 3 }, 'storageNodeId must be an id string'],
  ] as const)('refuses an invalid %s', (field, changes, message) => {
    update(changes).thenFails({ code: 'validation', field, message });
  });

  it.each(['hostId', 'status', 'inventory', 'colour'])('refuses to change %s, which is not a host field', (key) => {
    update({ [key]: 'x' } as UpdateHost['changes'])
      .thenFails({ code: 'validation', field: key, message: `"${key}" is not a host field that can be changed` });
  });

  it('refuses a host that was never registered', () => {
    update({ name: 'lab-02' }, []).thenFails({ code: 'not-found', message: 'host host-1 does not exist' });
  });

  it('refuses a deleted host', () => {
    update({ name: 'lab-02' }, [hostRegistered(), hostDeleted()]).thenFails({ code: 'not-found', message: 'host host-1 does not exist' });
  });
});
