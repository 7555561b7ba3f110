import { parseCidr, parseIpv4 } from '../../core/shared/ipv4.ts';
import type { WakeTargetsConfig, WolSubnet } from '../../core/wake-on-lan/wake-targets.ts';
import { ConfigError } from '../runtime/config.ts';
import { integerVar } from '../runtime/env-values.ts';

/** Where and how Wake-on-LAN packets go. */
export interface WolConfig extends WakeTargetsConfig {
  /** UDP destination port of the magic packets. */
  port: number;
}

/**
 * The Wake-on-LAN variables, for `brume --help` and the docs, in the shape of CONFIG_VARIABLES.
 *
 * BRUME_WOL_SUBNETS syntax: entries separated by commas; each entry is a
 * subnet in CIDR form, optionally followed by `=` and extra addresses joined
 * by `+`. A host whose IP is in the subnet is woken through the subnet's
 * broadcast address and every extra address:
 *
 *   192.0.2.0/24                                  -> 192.0.2.255
 *   198.51.100.0/24=203.0.113.255+203.0.113.127   -> 198.51.100.255, 203.0.113.255, 203.0.113.127
 */
export const WOL_CONFIG_VARIABLES = [
  ['BRUME_WOL_SUBNETS', '(unset)',
    'subnets to wake machines in, comma-separated CIDR[=ADDRESS+ADDRESS...]: a host in a subnet is woken through the subnet\'s '
    + 'broadcast address plus the extra (directed broadcast) addresses, e.g. 192.0.2.0/24,198.51.100.0/24=203.0.113.255'],
  ['BRUME_WOL_DEFAULT_TARGETS', '(unset)',
    'comma-separated IPv4 addresses for hosts without an IP or outside every subnet, e.g. 255.255.255.255; '
    + 'when unset such hosts are not woken and their task records why'],
  ['BRUME_WOL_PORT', '9', 'UDP port of the magic packets (9 is usual, some networks use 7)'],
] as const;

const SUBNETS_EXAMPLE = 'write CIDR[=ADDRESS+ADDRESS...], e.g. 192.0.2.0/24,198.51.100.0/24=203.0.113.255';

/**
 * Reads the Wake-on-LAN configuration; a bad value throws a ConfigError naming the variable.
 *
 * @example
 * wolConfigFromEnv({ BRUME_WOL_SUBNETS: '192.0.2.0/24=198.18.0.255' })
 * // { subnets: [{ network: '192.0.2.0', prefix: 24, directed: ['198.18.0.255'] }], defaultTargets: [], port: 9 }
 */
export function wolConfigFromEnv(env: NodeJS.ProcessEnv = process.env): WolConfig {
  return {
    subnets: parseSubnets(env.BRUME_WOL_SUBNETS ?? ''),
    defaultTargets: parseAddressList('BRUME_WOL_DEFAULT_TARGETS', env.BRUME_WOL_DEFAULT_TARGETS ?? ''),
    port: integerVar(env, 'BRUME_WOL_PORT', 9, 1, 65535, 'a UDP port number'),
  };
}

function parseSubnets(text: string): WolSubnet[] {
  const subnets: WolSubnet[] = [];
  for (const entry of splitList(text)) {
    const [cidrText, extrasText, ...rest] = entry.split('=').map((part) => part.trim());
    if (rest.length) throw new ConfigError(`BRUME_WOL_SUBNETS entry "${entry}" has more than one "="; ${SUBNETS_EXAMPLE}`);
    const cidr = parseCidr(cidrText ?? '');
    if (!cidr.ok) throw new ConfigError(`BRUME_WOL_SUBNETS entry "${entry}": ${cidr.message}; ${SUBNETS_EXAMPLE}`);
    const name = `${cidr.value.network}/${cidr.value.prefix}`;
    if (subnets.some((s) => s.network === cidr.value.network && s.prefix === cidr.value.prefix)) {
      throw new ConfigError(`BRUME_WOL_SUBNETS lists ${name} twice; put all its extra addresses in one entry joined by "+"`);
    }
    const directed: string[] = [];
    if (extrasText !== undefined) {
      for (const extra of extrasText.split('+').map((a) => a.trim())) {
        if (!isTarget(extra)) {
          throw new ConfigError(`BRUME_WOL_SUBNETS entry "${entry}": "${extra}" is not an IPv4 address to send to; ${SUBNETS_EXAMPLE}`);
        }
        if (!directed.includes(extra)) directed.push(extra);
      }
    }
    subnets.push({ ...cidr.value, directed });
  }
  return subnets;
}

function parseAddressList(variable: string, text: string): string[] {
  const addresses: string[] = [];
  for (const address of splitList(text)) {
    if (!isTarget(address)) throw new ConfigError(`${variable} must list IPv4 addresses such as 255.255.255.255 or 192.0.2.255, not "${address}"`);
    if (!addresses.includes(address)) addresses.push(address);
  }
  return addresses;
}


const splitList = (text: string): string[] => text.split(',').map((s) => s.trim()).filter(Boolean);

/** An address packets may be sent to: any IPv4 address but 0.0.0.0 (which means "this host"). */
const isTarget = (text: string): boolean => {
  const value = parseIpv4(text);
  return value !== null && value !== 0 && text === text.trim();
};
