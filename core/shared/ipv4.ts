/**
 * IPv4 arithmetic for DHCP pools and subnets and Wake-on-LAN broadcasts.
 * Addresses are handled as unsigned 32-bit numbers.
 */

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const DOTTED_QUAD = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/**
 * Reads a dotted-quad IPv4 address; null when it is not one (no leading
 * zeros, which some tools read as octal).
 *
 * @example
 * parseIpv4('192.0.2.1') // 3221225985
 */
export function parseIpv4(text: string): number | null {
  const match = DOTTED_QUAD.exec(text.trim());
  if (!match) return null;
  return ((Number(match[1]) << 24) | (Number(match[2]) << 16) | (Number(match[3]) << 8) | Number(match[4])) >>> 0;
}

/** @example formatIpv4(3221225985) // '192.0.2.1' */
export const formatIpv4 = (value: number): string =>
  [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.');

/** The netmask of a prefix length, e.g. 24 -> 255.255.255.0, as a number. */
export const maskOf = (prefix: number): number => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

export interface Ipv4Network {
  /** The network address, host bits zero, e.g. `192.0.2.0`. */
  network: string;
  prefix: number;
}

/**
 * Reads `a.b.c.d/n`. A /31 or /32 has no broadcast address to wake through,
 * and host bits must be zero so a typo (`192.0.2.7/24`) is not silently
 * taken for another network.
 *
 * @example
 * parseCidr('192.0.2.0/24') // { ok: true, value: { network: '192.0.2.0', prefix: 24 } }
 */
export function parseCidr(text: string): { ok: true; value: Ipv4Network } | { ok: false; message: string } {
  const [address, prefixText, ...rest] = text.trim().split('/');
  const base = parseIpv4(address ?? '');
  if (base === null || prefixText === undefined || rest.length || !/^\d{1,2}$/.test(prefixText) || Number(prefixText) > 32) {
    return { ok: false, message: `"${text}" is not a subnet such as 192.0.2.0/24` };
  }
  const prefix = Number(prefixText);
  if (prefix > 30) return { ok: false, message: `"${text}" has no broadcast address; use a prefix of /30 or shorter` };
  const network = (base & maskOf(prefix)) >>> 0;
  if (network !== base) {
    return { ok: false, message: `"${text}" has host bits set; its network is ${formatIpv4(network)}/${prefix}` };
  }
  return { ok: true, value: { network: formatIpv4(network), prefix } };
}

/** Whether `ip` lies in the network. */
export function contains(net: Ipv4Network, ip: number): boolean {
  const mask = maskOf(net.prefix);
  return ((ip & mask) >>> 0) === parseIpv4(net.network);
}

/**
 * The network's broadcast address (all host bits set).
 *
 * @example
 * broadcastOf({ network: '192.0.2.0', prefix: 24 }) // '192.0.2.255'
 */
export const broadcastOf = (net: Ipv4Network): string =>
  formatIpv4(((parseIpv4(net.network) ?? 0) | ~maskOf(net.prefix)) >>> 0);

/** True for a dotted-quad IPv4 address without leading zeros ("192.0.2.1", not "192.0.2.01"). */
export const isIpv4 = (text: string): boolean => DOTTED_QUAD.test(text);

/** "192.0.2.1" -> 3221225985; the caller checks isIpv4 first. */
export const ipToInt = (ip: string): number => parseIpv4(ip) ?? 0;

/** 3221225985 -> "192.0.2.1". */
export const intToIp = formatIpv4;

/** A contiguous netmask ("255.255.255.0") as its prefix length, or null when it has holes. */
export function prefixLength(netmask: string): number | null {
  const mask = ipToInt(netmask);
  const inverted = ~mask >>> 0;
  if ((inverted & (inverted + 1)) !== 0) return null;
  return 32 - Math.log2(inverted + 1);
}

/** An IPv4 subnet: `contains` tells whether an address is on it (network and broadcast included). */
export class Subnet {
  readonly network: number;
  readonly mask: number;

  constructor(address: string, netmask: string) {
    this.mask = ipToInt(netmask);
    this.network = (ipToInt(address) & this.mask) >>> 0;
  }

  get broadcast(): number {
    return (this.network | (~this.mask >>> 0)) >>> 0;
  }

  contains(ip: string | number): boolean {
    const n = typeof ip === 'number' ? ip : isIpv4(ip) ? ipToInt(ip) : null;
    return n !== null && ((n & this.mask) >>> 0) === this.network;
  }

  /** A host address on this subnet: neither the network nor the broadcast address (a /31 or /32 has no such distinction). */
  isHost(ip: string | number): boolean {
    const n = typeof ip === 'number' ? ip : isIpv4(ip) ? ipToInt(ip) : null;
    if (n === null || !this.contains(n)) return false;
    if (this.mask >>> 0 >= 0xfffffffe) return true;
    return n !== this.network && n !== this.broadcast;
  }

  toString(): string {
    return `${intToIp(this.network)}/${prefixLength(intToIp(this.mask)) ?? intToIp(this.mask)}`;
  }
}
