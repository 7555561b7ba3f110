import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_CLIENTS, storageNode } from '../../../core/storage-nodes/storage-node.ts';
import { storageNodeCreated, storageNodes } from '../support/fixtures.ts';

const create = (fields: Record<string, unknown>) =>
  storageNodes.given([]).when((s) => storageNode.create({ id: 'node-1', name: 'store-1', address: '192.0.2.20', ...fields }, s));
const change = (changes: Record<string, unknown>, created = storageNodeCreated()) =>
  storageNodes.given([created]).when((s) => storageNode.update({ id: 'node-1', changes }, s));

describe('storage node', () => {
  it("defaults to FOG's 10 slots, not master, no site, enabled", () => {
    expect(DEFAULT_MAX_CLIENTS).toBe(10);
    create({}).then([storageNodeCreated()]);
  });

  it('records every field given', () => {
    create({ address: 'store.example.org:8080', maxClients: 25, master: true, site: 'north', enabled: false })
      .then([storageNodeCreated({ address: 'store.example.org:8080', maxClients: 25, master: true, site: 'north', enabled: false })]);
  });

  it.each([
    ['an IPv4 address', '192.0.2.20'],
    ['an IPv4 address with a port', '192.0.2.20:8080'],
    ['a host name', 'store-1'],
    ['a fully qualified name with a port', 'store-1.lab.example.org:443'],
    ['a bracketed IPv6 address', '[2001:db8::20]'],
    ['a bracketed IPv6 address with a port', '[::1]:8080'],
  ])('accepts %s as the address', (_case, address) => {
    create({ address }).thenMatches([{ data: { address } }]);
  });

  it('trims the address', () => {
    create({ address: ' store-1 ' }).thenMatches([{ data: { address: 'store-1' } }]);
  });

  it.each([
    ['a URL', 'http://store-1/'],
    ['a path', 'store-1/images'],
    ['a space inside', 'store 1'],
    ['a bare IPv6 address', '2001:db8::20'],
    ['a leading hyphen', '-store'],
    ['nothing', ''],
    ['a number', 1234],
  ])('refuses %s as the address', (_case, address) => {
    create({ address }).thenFails({ code: 'validation', field: 'address', message: 'address must be a host name or IP address, optionally with :port' });
  });

  // Regression: found by these specs and fixed in core.
  it.each(['store-1:99999', 'store-1:0'])('refuses the impossible port in %s', (address) => {
    create({ address }).thenFails({ code: 'validation', field: 'address' });
  });

  it.each([[0], [1001], [2.5], ['10']])('refuses maxClients %j', (maxClients) => {
    create({ maxClients }).thenFails({ code: 'validation', field: 'maxClients', message: 'maxClients must be a whole number from 1 to 1000' });
  });

  it.each([
    ['master', 'yes', 'master must be true or false'],
    ['enabled', 1, 'enabled must be true or false'],
    ['site', 42, 'site must be an id string'],
  ])('refuses a non-boolean or non-id %s', (field, value, message) => {
    create({ [field]: value }).thenFails({ code: 'validation', field, message });
  });

  it('records the master flag and site in previous on every update, changed or not', () => {
    change({ maxClients: 4 }, storageNodeCreated({ master: true, site: 'north' })).then([{
      type: 'StorageNodeUpdated',
      data: { id: 'node-1', changes: { maxClients: 4 }, previous: { maxClients: 10, master: true, site: 'north' } },
    }]);
  });

  it('records a move to another site with the master flag it keeps', () => {
    change({ site: 'south' }, storageNodeCreated({ master: true, site: 'north' })).then([{
      type: 'StorageNodeUpdated',
      data: { id: 'node-1', changes: { site: 'south' }, previous: { master: true, site: 'north' } },
    }]);
  });

  it('records nothing, not even previous values, for an update that changes nothing', () => {
    change({ master: false, site: null, enabled: true }).thenNothing();
  });

  it('folds a disable into the state', () => {
    const { state } = change({ enabled: false }).thenMatches([{ data: { changes: { enabled: false } } }]);
    expect(state).toMatchObject({ status: 'active', enabled: false, name: 'store-1' });
  });
});
