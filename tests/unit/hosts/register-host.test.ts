import { describe, expect, it } from 'vitest';
import { registerHost, type RegisterHost } from '../../../core/hosts/register-host.ts';
import { MAC_A, MAC_B, additional, hostDeleted, hostRegistered, hosts, primary } from '../support/fixtures.ts';

const command = (overrides: Partial<RegisterHost> = {}): RegisterHost => ({ hostId: 'host-1', name: 'lab-01', macs: [MAC_A], ...overrides });
const register = (overrides: Partial<RegisterHost> = {}) => hosts.given([]).when((state) => registerHost(command(overrides), state));

describe('registerHost', () => {
  it('records a host with defaults for every optional field', () => {
    register().then([hostRegistered()]);
  });

  it('records every field normalised: trimmed name and IP, MACs parsed with roles', () => {
    register({
      name: ' lab-02 ', description: 'Room 2, left bench', macs: ['00-C0-4F-18-62-63', '00c04f186264'],
      ip: ' 192.0.2.10', imageId: 'image-1', storageNodeId: 'node-1', site: 'north',
    }).then([hostRegistered({
      name: 'lab-02', description: 'Room 2, left bench', macs: [primary(MAC_A), additional(MAC_B)],
      ip: '192.0.2.10', imageId: 'image-1', storageNodeId: 'node-1', site: 'north',
    })]);
  });

  it('treats empty strings for optional ids as unset', () => {
    register({ imageId: '', storageNodeId: '', site: '', ip: '' }).then([hostRegistered()]);
  });

  it('leaves the host registered with no inventory yet', () => {
    const { state } = register({ name: 'lab-09' }).then([hostRegistered({ name: 'lab-09' })]);
    expect(state).toEqual({ ...hostRegistered({ name: 'lab-09' }).data, status: 'registered', inventory: null });
  });

  it('refuses a host id that is already registered', () => {
    hosts.given([hostRegistered()]).when((state) => registerHost(command({ name: 'other' }), state))
      .thenFails({ code: 'conflict', message: 'host host-1 already exists' });
  });

  it('refuses to reuse the id of a deleted host (its history stays)', () => {
    hosts.given([hostRegistered(), hostDeleted()]).when((state) => registerHost(command(), state))
      .thenFails({ code: 'conflict', message: 'host host-1 already exists' });
  });

  it.each([
    ['name', { name: 'bad_name' }, /may only hold letters/],
    ['macs', { macs: [] }, /at least one MAC/],
    ['macs[0]', { macs: ['nope'] }, /is not a MAC address/],
    ['description', { description: 'x'.repeat(1001) }, 'description is longer than 1000 characters'],
    ['description', { description: 12 }, 'description must be text'],
    ['ip', { ip: '300.1.1.1' }, /not an IPv4 address/],
    ['imageId', { imageId: 5 }, 'imageId must be an id string'],
    ['storageNodeId', { storageNodeId: 'n'.repeat(101) }, 'storageNodeId must be an id string'],
    ['site', { site: ['north'] }, 'site must be an id string'],
  ] as const)('refuses a bad %s', (field, overrides, message) => {
    register(overrides).thenFails({ code: 'validation', field, message });
  });

  it('checks the name before the MACs', () => {
    register({ name: '', macs: [] }).thenFails({ code: 'validation', field: 'name' });
  });
});
