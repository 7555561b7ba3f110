import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Database } from '../../adapters/database/open-database.ts';
import { Subnet } from '../../core/shared/ipv4.ts';
import { LeasePool } from '../../adapters/dhcp/lease-pool.ts';
import type { Lease } from '../../adapters/dhcp/lease-store.ts';
import { SqlLeaseStore } from '../../adapters/dhcp/sql-lease-store.ts';

const subnet = new Subnet('192.0.2.1', '255.255.255.0');
const T0 = Date.parse('2030-01-01T00:00:00Z');
const none = { hostId: null, hostname: null };
const noWish = { reserved: null, requested: null };
const lease = (mac: string, ip: string, expiresAt = new Date(T0 + 3600_000)): Lease => ({ mac, ip, hostId: null, hostname: null, expiresAt });

describe('the lease pool (memory)', () => {
  const pool = (first = '192.0.2.10', last = '192.0.2.12', more: Partial<ConstructorParameters<typeof LeasePool>[0]> = {}) =>
    new LeasePool({ first, last, subnet, excluded: ['192.0.2.1', '192.0.2.11'], offerHoldMs: 30_000, quarantineMs: 600_000, ...more });

  it('offers free addresses in order, skipping excluded ones, and holds each offer for its client', () => {
    const p = pool();
    expect(p.offer('m1', noWish, T0)).toBe('192.0.2.10');
    expect(p.offer('m2', noWish, T0)).toBe('192.0.2.12');
    expect(p.offer('m3', noWish, T0)).toBeNull();
    // The same client asking again keeps its offer.
    expect(p.offer('m1', noWish, T0 + 1000)).toBe('192.0.2.10');
    // Once the hold lapses, the address is free again.
    expect(p.offer('m3', noWish, T0 + 31_000)).toBe('192.0.2.10');
  });

  it('prefers the reservation, then the previous address, then the requested one', () => {
    const p = pool('192.0.2.10', '192.0.2.20');
    expect(p.offer('m1', { reserved: '192.0.2.50', requested: '192.0.2.15' }, T0)).toBe('192.0.2.50');
    p.bind('m2', '192.0.2.14', T0, 60, none);
    expect(p.offer('m2', { reserved: null, requested: '192.0.2.15' }, T0)).toBe('192.0.2.14');
    expect(p.offer('m3', { reserved: null, requested: '192.0.2.15' }, T0)).toBe('192.0.2.15');
    // Requests outside the pool, of the network/broadcast address or of brume's own address are not honoured.
    expect(p.offer('m4', { reserved: null, requested: '192.0.2.200' }, T0)).toBe('192.0.2.10');
    expect(p.available('m5', '192.0.2.0', T0)).toBe(false);
    expect(p.available('m5', '192.0.2.255', T0)).toBe(false);
    expect(p.available('m5', '192.0.2.1', T0)).toBe(false);
    expect(p.available('m5', '198.51.100.7', T0)).toBe(false);
  });

  it('never hands a registered host\'s address to another client, even while that host is off', () => {
    // 192.0.2.10 is registered to the host owning MAC "owner".
    const reservedForOther = (ip: string, mac: string) => ip === '192.0.2.10' && mac !== 'owner';
    const p = pool('192.0.2.10', '192.0.2.12', { reservedForOther });
    expect(p.offer('stranger', noWish, T0)).toBe('192.0.2.12');
    expect(p.offer('stranger-2', { reserved: null, requested: '192.0.2.10' }, T0)).toBeNull();
    expect(p.available('stranger', '192.0.2.10', T0)).toBe(false);
    expect(p.offer('owner', { reserved: '192.0.2.10', requested: null }, T0)).toBe('192.0.2.10');
  });

  it('reuses the longest-expired lease only when no never-used address is left', () => {
    const p = pool();
    p.bind('old', '192.0.2.10', T0, 60, none);
    p.bind('older', '192.0.2.12', T0 - 30_000, 60, none);
    expect(p.offer('new', noWish, T0 + 10_000)).toBeNull();
    expect(p.offer('new', noWish, T0 + 120_000)).toBe('192.0.2.12');
    const granted = p.bind('new', '192.0.2.12', T0 + 120_000, 60, none);
    expect(granted.ip).toBe('192.0.2.12');
    expect(p.leaseOf('older')).toBeUndefined();
  });

  it('releases (the lease is remembered, expired) and quarantines declined addresses', () => {
    const p = pool();
    p.bind('m1', '192.0.2.10', T0, 3600, none);
    expect(p.release('m1', '192.0.2.12', T0)).toBeNull();
    expect(p.release('m1', '192.0.2.10', T0 + 5)?.expiresAt).toEqual(new Date(T0 + 5));
    expect(p.counts(T0 + 10)).toMatchObject({ leases: 1, active: 0 });
    expect(p.decline('m2', '192.0.2.10', T0)).toBe(false);
    p.bind('m2', '192.0.2.12', T0, 3600, none);
    expect(p.decline('m2', '192.0.2.12', T0)).toBe(true);
    expect(p.available('m3', '192.0.2.12', T0 + 599_000)).toBe(false);
    expect(p.available('m3', '192.0.2.12', T0 + 601_000)).toBe(true);
  });

  it('loads persisted leases and respects them', () => {
    const p = pool();
    p.load([lease('m1', '192.0.2.10'), lease('gone', '192.0.2.12', new Date(T0 - 1))]);
    expect(p.available('m2', '192.0.2.10', T0)).toBe(false);
    expect(p.offer('m1', noWish, T0)).toBe('192.0.2.10');
    expect(p.offer('m2', noWish, T0)).toBe('192.0.2.12');
  });
});

describe('leases in dhcp_leases (group commit)', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase({});
    await migrate(database.db);
  });
  afterAll(async () => { await database?.close(); });
  beforeEach(async () => { await database.db.deleteFrom('dhcp_leases').execute(); });

  it('saves, moves and removes leases, and loads them back', async () => {
    const store = new SqlLeaseStore(database.db);
    await store.write({ kind: 'save', lease: { ...lease('m1', '192.0.2.10'), hostId: 'h1', hostname: 'lab-01' } });
    await store.write({ kind: 'save', lease: lease('m2', '192.0.2.11') });
    await store.write({ kind: 'save', lease: { ...lease('m1', '192.0.2.12'), hostId: 'h1', hostname: 'lab-01' } });
    // m3 takes m2's (expired) address: m2's row goes, the UNIQUE(ip) constraint holds.
    await store.write({ kind: 'save', lease: lease('m3', '192.0.2.11') });
    await store.write({ kind: 'remove', mac: 'nobody' });
    const loaded = (await store.load()).sort((a, b) => a.mac.localeCompare(b.mac));
    expect(loaded).toEqual([
      { mac: 'm1', ip: '192.0.2.12', hostId: 'h1', hostname: 'lab-01', expiresAt: new Date(T0 + 3600_000) },
      { mac: 'm3', ip: '192.0.2.11', hostId: null, hostname: null, expiresAt: new Date(T0 + 3600_000) },
    ]);
    await store.write({ kind: 'remove', mac: 'm1' });
    expect((await store.load()).map((l) => l.mac)).toEqual(['m3']);
    await store.close();
  });

  it('puts changes that arrive while a commit runs into the next transaction, and resolves each after its commit', async () => {
    const store = new SqlLeaseStore(database.db);
    const writes = Array.from({ length: 200 }, (_, i) =>
      store.write({ kind: 'save', lease: lease(`m${i}`, `192.0.2.${(i % 250) + 1}`) }).then(async () => {
        // Resolved means durable: the row is visible to any reader now.
        const row = await database.db.selectFrom('dhcp_leases').select('ip').where('mac', '=', `m${i}`).executeTakeFirst();
        return row !== undefined;
      }));
    expect(await Promise.all(writes)).toEqual(Array(200).fill(true));
    const { writes: written, commits } = store.stats();
    expect(written).toBe(200);
    // The first change commits alone; everything queued behind it shares the next commit.
    expect(commits).toBeLessThanOrEqual(3);
    await store.close();
  });

  it('applies changes of one batch in order', async () => {
    const store = new SqlLeaseStore(database.db);
    await Promise.all([
      store.write({ kind: 'save', lease: lease('a', '192.0.2.10') }),
      store.write({ kind: 'save', lease: lease('b', '192.0.2.11') }),
      store.write({ kind: 'save', lease: lease('a', '192.0.2.12') }),
      store.write({ kind: 'save', lease: lease('b', '192.0.2.10') }),
      store.write({ kind: 'remove', mac: 'a' }),
    ]);
    expect(await store.load()).toEqual([lease('b', '192.0.2.10')]);
    await store.close();
  });

  it('rejects every change of a batch whose transaction fails, and refuses writes after close', async () => {
    const other = await openDatabase({});
    await migrate(other.db);
    const store = new SqlLeaseStore(other.db);
    await store.write({ kind: 'save', lease: lease('a', '192.0.2.10') });
    await other.close();
    await expect(store.write({ kind: 'save', lease: lease('b', '192.0.2.11') })).rejects.toThrow();
    expect(store.stats().failedCommits).toBe(1);
    await store.close();
    await expect(store.write({ kind: 'remove', mac: 'a' })).rejects.toThrow(/closed/);
  });
});
