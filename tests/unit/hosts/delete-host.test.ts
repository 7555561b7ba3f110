import { describe, expect, it } from 'vitest';
import { deleteHost } from '../../../core/hosts/delete-host.ts';
import type { HostEvent } from '../../../core/hosts/host.ts';
import { MAC_A, MAC_B, additional, hostDeleted, hostRegistered, hosts, primary } from '../support/fixtures.ts';

const remove = (given: HostEvent[]) => hosts.given(given).when((state) => deleteHost({ hostId: 'host-1' }, state));

describe('deleteHost', () => {
  it('records the name and MACs it gives back, so their claims can be released', () => {
    const macs = [primary(MAC_A), additional(MAC_B)];
    const { state } = remove([hostRegistered({ name: 'lab-07', macs })]).then([hostDeleted('host-1', 'lab-07', macs)]);
    expect(state).toMatchObject({ status: 'deleted', hostId: 'host-1', name: 'lab-07', macs });
  });

  it('gives back the current name and MACs, not the ones it was registered with', () => {
    const renamed: HostEvent = {
      type: 'HostUpdated',
      data: { hostId: 'host-1', changes: { name: 'lab-02', macs: [primary(MAC_B)] }, previous: { name: 'lab-01', macs: [primary(MAC_A)] } },
    };
    remove([hostRegistered(), renamed]).then([hostDeleted('host-1', 'lab-02', [primary(MAC_B)])]);
  });

  it('refuses a host that does not exist', () => {
    remove([]).thenFails({ code: 'not-found', message: 'host host-1 does not exist' });
  });

  it('refuses to delete twice', () => {
    remove([hostRegistered(), hostDeleted()]).thenFails({ code: 'not-found', message: 'host host-1 does not exist' });
  });
});
