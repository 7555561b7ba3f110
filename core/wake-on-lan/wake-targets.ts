import type { HostMac } from '../hosts/host.ts';
import { broadcastOf, contains, parseIpv4, type Ipv4Network } from '../shared/ipv4.ts';

/** A subnet brume wakes machines in, with the extra addresses its packets also go to. */
export interface WolSubnet extends Ipv4Network {
  /**
   * Directed broadcast (or relay) addresses for hosts of this subnet, e.g.
   * the broadcast address of a VLAN that a router forwards to. The subnet's
   * own broadcast address is always a target and need not be listed.
   */
  directed: readonly string[];
}

export interface WakeTargetsConfig {
  subnets: readonly WolSubnet[];
  /** Where packets go for a host without an IP or outside every configured subnet. */
  defaultTargets: readonly string[];
}

/** What wakeTargets needs from a host. */
export interface WakeHost {
  ip: string | null;
  macs: readonly HostMac[];
}

/**
 * Where to send and for which MACs, with why (recorded for the auditor);
 * or why nothing can be sent, which the caller must record rather than
 * send nowhere in silence.
 */
export type WakePlan =
  | { ok: true; macs: string[]; addresses: string[]; basis: string }
  | { ok: false; reason: string };

/**
 * Decides the magic packets' destinations for one host: the broadcast
 * address of every configured subnet that contains the host's IP, plus the
 * directed addresses configured for those subnets; the default targets when
 * the host has no IP or no subnet matches.
 *
 * Every MAC of the host is woken, as FOG does, including pending ones and
 * those ignored for imaging: "ignore for imaging" is about which NIC carries
 * an image, not which NIC has Wake-on-LAN enabled (often only the onboard
 * one), and a packet for a NIC that is not on the wire wakes nothing.
 *
 * @example
 * wakeTargets({ ip: '192.0.2.50', macs }, { subnets: [{ network: '192.0.2.0', prefix: 24, directed: [] }], defaultTargets: [] })
 * // { ok: true, macs: ['52:54:00:12:34:56'], addresses: ['192.0.2.255'], basis: 'host 192.0.2.50 is in 192.0.2.0/24' }
 */
export function wakeTargets(host: WakeHost, config: WakeTargetsConfig): WakePlan {
  const macs = macsToWake(host.macs);
  if (macs.length === 0) return { ok: false, reason: 'the host has no MAC address to wake' };

  const ip = host.ip ? parseIpv4(host.ip) : null;
  const matching = ip === null ? [] : config.subnets.filter((subnet) => contains(subnet, ip));
  if (matching.length) {
    const addresses = unique(matching.flatMap((subnet) => [broadcastOf(subnet), ...subnet.directed]));
    const names = matching.map((s) => `${s.network}/${s.prefix}`).join(', ');
    return { ok: true, macs, addresses, basis: `host ${host.ip} is in ${names}` };
  }

  const why = !host.ip
    ? 'the host has no IP address'
    : ip === null
      ? `the host's IP "${host.ip}" is not an IPv4 address`
      : config.subnets.length
        ? `no configured Wake-on-LAN subnet contains ${host.ip}`
        : `no Wake-on-LAN subnets are configured (host ${host.ip})`;
  if (config.defaultTargets.length === 0) {
    return { ok: false, reason: `${why} and no default Wake-on-LAN targets are configured` };
  }
  return { ok: true, macs, addresses: unique(config.defaultTargets), basis: `${why}; using the default targets` };
}

/** The primary MAC first, then the others in their order, each once. */
function macsToWake(macs: readonly HostMac[]): string[] {
  const ordered = [...macs.filter((m) => m.role === 'primary'), ...macs.filter((m) => m.role !== 'primary')];
  return unique(ordered.map((m) => m.mac.toLowerCase()));
}

const unique = (values: readonly string[]): string[] => [...new Set(values)];
