import { describe, expect, it } from 'vitest';
import type { HostMac } from '../../../core/hosts/host.ts';
import { broadcastOf, contains, formatIpv4, parseCidr, parseIpv4 } from '../../../core/shared/ipv4.ts';
import { wakeTargets, type WakeTargetsConfig, type WolSubnet } from '../../../core/wake-on-lan/wake-targets.ts';
import { MAC_A, MAC_B, MAC_C, additional, primary } from '../support/fixtures.ts';

const subnet = (cidr: string, ...directed: string[]): WolSubnet => {
  const parsed = parseCidr(cidr);
  if (!parsed.ok) throw new Error(parsed.message);
  return { ...parsed.value, directed };
};

const CONFIG: WakeTargetsConfig = {
  subnets: [subnet('192.0.2.0/24'), subnet('198.18.0.0/16', '198.19.0.255', '198.19.1.255'), subnet('198.18.4.0/22')],
  defaultTargets: [],
};

describe('wake targets', () => {
  it('given a host in a configured subnet, sends to that subnet\'s broadcast address', () => {
    expect(wakeTargets({ ip: '192.0.2.50', macs: [primary(MAC_A)] }, CONFIG)).toEqual({
      ok: true, macs: [MAC_A], addresses: ['192.0.2.255'], basis: 'host 192.0.2.50 is in 192.0.2.0/24',
    });
  });

  it('given a subnet with directed broadcast addresses, sends to the broadcast and each of them', () => {
    expect(wakeTargets({ ip: '198.18.9.9', macs: [primary(MAC_A)] }, CONFIG)).toMatchObject({
      ok: true, addresses: ['198.18.255.255', '198.19.0.255', '198.19.1.255'], basis: 'host 198.18.9.9 is in 198.18.0.0/16',
    });
  });

  it('given a host in two overlapping subnets, sends through both, each address once', () => {
    const config = { ...CONFIG, subnets: [...CONFIG.subnets, subnet('198.18.5.0/24', '198.19.0.255')] };
    expect(wakeTargets({ ip: '198.18.5.7', macs: [primary(MAC_A)] }, config)).toMatchObject({
      ok: true,
      addresses: ['198.18.255.255', '198.19.0.255', '198.19.1.255', '198.18.7.255', '198.18.5.255'],
      basis: 'host 198.18.5.7 is in 198.18.0.0/16, 198.18.4.0/22, 198.18.5.0/24',
    });
  });

  it('wakes every MAC of the host, primary first, including pending ones and those ignored for imaging', () => {
    const macs: HostMac[] = [
      additional(MAC_B), { mac: MAC_C, role: 'pending', ignoreForImaging: false }, { ...primary(MAC_A), ignoreForImaging: true }, additional(MAC_B),
    ];
    expect(wakeTargets({ ip: '192.0.2.50', macs }, CONFIG)).toMatchObject({ ok: true, macs: [MAC_A, MAC_B, MAC_C] });
  });

  describe('when no configured subnet applies', () => {
    const withDefaults = { ...CONFIG, defaultTargets: ['255.255.255.255', '192.0.2.255', '255.255.255.255'] };

    it.each([
      [null, 'the host has no IP address; using the default targets'],
      ['203.0.113.9', 'no configured Wake-on-LAN subnet contains 203.0.113.9; using the default targets'],
      ['host.example', 'the host\'s IP "host.example" is not an IPv4 address; using the default targets'],
    ])('given IP %s, falls back to the default targets and says why', (ip, basis) => {
      expect(wakeTargets({ ip, macs: [primary(MAC_A)] }, withDefaults)).toEqual({
        ok: true, macs: [MAC_A], addresses: ['255.255.255.255', '192.0.2.255'], basis,
      });
    });

    it.each([
      [null, CONFIG, 'the host has no IP address and no default Wake-on-LAN targets are configured'],
      ['203.0.113.9', CONFIG, 'no configured Wake-on-LAN subnet contains 203.0.113.9 and no default Wake-on-LAN targets are configured'],
      ['203.0.113.9', { subnets: [], defaultTargets: [] }, 'no Wake-on-LAN subnets are configured (host 203.0.113.9) and no default Wake-on-LAN targets are configured'],
    ] as const)('given IP %s and no default targets, sends nowhere and gives the reason', (ip, config, reason) => {
      expect(wakeTargets({ ip, macs: [primary(MAC_A)] }, config)).toEqual({ ok: false, reason });
    });
  });

  it('given a host without a MAC, gives the reason', () => {
    expect(wakeTargets({ ip: '192.0.2.50', macs: [] }, CONFIG)).toEqual({ ok: false, reason: 'the host has no MAC address to wake' });
  });
});

describe('IPv4 arithmetic', () => {
  it('reads and writes dotted quads, refusing leading zeros and out-of-range octets', () => {
    expect(parseIpv4('192.0.2.1')).toBe(0xc0000201);
    expect(formatIpv4(0xc0000201)).toBe('192.0.2.1');
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    for (const bad of ['192.0.2', '192.0.2.256', '192.0.02.1', '1.2.3.4.5', '', 'a.b.c.d']) expect(parseIpv4(bad)).toBeNull();
  });

  it.each([
    ['192.0.2.0/24', '192.0.2.255'], ['198.18.0.0/15', '198.19.255.255'], ['198.18.0.4/30', '198.18.0.7'], ['0.0.0.0/0', '255.255.255.255'],
  ])('gives %s the broadcast address %s', (cidr, broadcast) => {
    expect(broadcastOf(subnet(cidr))).toBe(broadcast);
  });

  it('knows which addresses a network holds', () => {
    const net = subnet('198.18.0.0/15');
    expect(contains(net, parseIpv4('198.19.200.1')!)).toBe(true);
    expect(contains(net, parseIpv4('198.20.0.1')!)).toBe(false);
    expect(contains(subnet('0.0.0.0/0'), parseIpv4('203.0.113.1')!)).toBe(true);
  });

  it.each([
    ['192.0.2.7/24', '"192.0.2.7/24" has host bits set; its network is 192.0.2.0/24'],
    ['192.0.2.0/31', '"192.0.2.0/31" has no broadcast address; use a prefix of /30 or shorter'],
    ['192.0.2.0/32', '"192.0.2.0/32" has no broadcast address'],
    ['192.0.2.0/33', '"192.0.2.0/33" is not a subnet'],
    ['192.0.2.0', '"192.0.2.0" is not a subnet such as 192.0.2.0/24'],
    ['192.0.2.0/24/1', 'is not a subnet'],
    ['192.0.2.0/abc', 'is not a subnet'],
  ])('refuses the subnet %s', (cidr, message) => {
    const parsed = parseCidr(cidr);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain(message);
  });
});
