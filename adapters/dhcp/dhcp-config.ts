import { existsSync } from 'node:fs';
import type { NetworkInterfaceInfo } from 'node:os';
import type { BootFiles } from '../../core/boot/client-arch.ts';
import { interfaceAddresses } from '../boot/interface-addresses.ts';
import { ConfigError } from '../runtime/config.ts';
import { booleanVar, integerVar } from '../runtime/env-values.ts';
import { ipToInt, isIpv4, Subnet } from '../../core/shared/ipv4.ts';

export type DhcpMode = 'off' | 'proxy' | 'full';

/** The DHCP responder's settings, checked. */
export interface DhcpConfig {
  mode: DhcpMode;
  /** The interface to serve; null only in tests, which then never broadcast. */
  interfaceName: string | null;
  /** Address the sockets bind: 0.0.0.0 with an interface (the device binding does the filtering). */
  listenAddress: string;
  /** brume's address on the served subnet: server identifier (option 54). */
  serverAddress: string;
  netmask: string;
  registeredOnly: boolean;
  /** Full mode's dynamic range. */
  pool: { first: string; last: string } | null;
  router: string | null;
  dns: string[];
  leaseSeconds: number;
  port: number;
  proxyPort: number;
  clientPort: number;
  bootFiles: BootFiles;
}

export const DHCP_CONFIG_VARIABLES = [
  ['BRUME_DHCP_MODE', 'off', 'off (never answers), proxy (boot information only, beside the site\'s DHCP server) or full (addresses and boot information)'],
  ['BRUME_DHCP_INTERFACE', '(unset)', 'network interface the DHCP responder serves, e.g. eth1; required unless the mode is off'],
  ['BRUME_DHCP_REGISTERED_ONLY', 'false', 'true: answer only machines whose MAC belongs to a registered host'],
  ['BRUME_DHCP_POOL', '(unset)', 'full mode: the addresses to hand out, first-last, inside the interface\'s subnet (e.g. 192.0.2.100-192.0.2.199)'],
  ['BRUME_DHCP_ROUTER', '(unset)', 'full mode: default gateway given to clients'],
  ['BRUME_DHCP_DNS', '(unset)', 'full mode: DNS servers given to clients, comma-separated'],
  ['BRUME_DHCP_LEASE_SECONDS', '3600', 'full mode: lease time'],
  ['BRUME_DHCP_PORT', '67', 'UDP port the DHCP responder listens on'],
  ['BRUME_DHCP_PROXY_PORT', '4011', 'proxy mode: UDP port for PXE clients\' follow-up requests'],
  ['BRUME_DHCP_CLIENT_PORT', '68', 'UDP port replies are sent to'],
  ['BRUME_BOOT_FILE_BIOS', 'undionly.kpxe', 'boot file for BIOS PXE clients (option 93 = 0)'],
  ['BRUME_BOOT_FILE_EFI64', 'ipxe.efi', 'boot file for x64 UEFI clients (7, 9; 16 over HTTP), e.g. snponly.efi'],
  ['BRUME_BOOT_FILE_EFI32', 'ipxe32.efi', 'boot file for IA32 UEFI clients (6)'],
  ['BRUME_BOOT_FILE_ARM64', '(unset)', 'boot file for ARM64 UEFI clients (11; 19 over HTTP); unset: they get no boot answer'],
] as const;

/** What the configuration needs to know about the machine's interfaces; injectable for tests. */
export interface InterfaceLookup {
  /** IPv4 addresses per interface, as os.networkInterfaces() gives them. */
  addresses(): NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** Whether an interface of that name exists at all (it may have no address). */
  exists(name: string): boolean;
}

const SYSTEM: InterfaceLookup = {
  // Not os.networkInterfaces(): it hides interfaces without carrier, and DHCP must start before its first client plugs in.
  addresses: () => interfaceAddresses(),
  exists: (name) => existsSync(`/sys/class/net/${name}`),
};

const MODES: readonly DhcpMode[] = ['off', 'proxy', 'full'];
const INTERFACE_NAME = /^[A-Za-z0-9_.:@-]{1,15}$/;
const BOOT_FILE = /^[\x21-\x7e]{1,127}$/;

/**
 * Reads and checks the DHCP settings. A bad value throws a ConfigError that
 * names the variable; with BRUME_DHCP_MODE=off nothing else is read.
 *
 * @example
 * const config = dhcpConfigFromEnv({ BRUME_DHCP_MODE: 'proxy', BRUME_DHCP_INTERFACE: 'eth1' });
 */
export function dhcpConfigFromEnv(env: NodeJS.ProcessEnv = process.env, interfaces: InterfaceLookup = SYSTEM): DhcpConfig {
  const mode = (env.BRUME_DHCP_MODE?.trim() || 'off').toLowerCase() as DhcpMode;
  if (!MODES.includes(mode)) throw new ConfigError(`BRUME_DHCP_MODE must be off, proxy or full, not "${env.BRUME_DHCP_MODE}"`);
  const bootFiles: BootFiles = {
    bios: bootFile(env, 'BRUME_BOOT_FILE_BIOS', 'undionly.kpxe')!,
    efi64: bootFile(env, 'BRUME_BOOT_FILE_EFI64', 'ipxe.efi')!,
    efi32: bootFile(env, 'BRUME_BOOT_FILE_EFI32', 'ipxe32.efi'),
    arm64: bootFile(env, 'BRUME_BOOT_FILE_ARM64', null),
  };
  const common = {
    registeredOnly: booleanVar(env, 'BRUME_DHCP_REGISTERED_ONLY', false),
    leaseSeconds: integerVar(env, 'BRUME_DHCP_LEASE_SECONDS', 3600, 60, 365 * 86400, 'a number of seconds'),
    port: integerVar(env, 'BRUME_DHCP_PORT', 67, 1, 65535, 'a port number'),
    proxyPort: integerVar(env, 'BRUME_DHCP_PROXY_PORT', 4011, 1, 65535, 'a port number'),
    clientPort: integerVar(env, 'BRUME_DHCP_CLIENT_PORT', 68, 1, 65535, 'a port number'),
    bootFiles,
  };
  if (mode === 'off') {
    return { mode, interfaceName: null, listenAddress: '0.0.0.0', serverAddress: '0.0.0.0', netmask: '255.255.255.255', pool: null, router: null, dns: [], ...common };
  }
  if (common.port === common.proxyPort) throw new ConfigError(`BRUME_DHCP_PROXY_PORT must differ from BRUME_DHCP_PORT (both are ${common.port})`);

  const name = env.BRUME_DHCP_INTERFACE?.trim();
  if (!name) throw new ConfigError(`BRUME_DHCP_INTERFACE is required when BRUME_DHCP_MODE is ${mode}: name the interface to serve (e.g. eth1)`);
  if (!INTERFACE_NAME.test(name)) throw new ConfigError(`BRUME_DHCP_INTERFACE "${name.slice(0, 40)}" is not an interface name`);
  const all = interfaces.addresses();
  const ipv4 = (all[name] ?? []).filter((a) => a.family === 'IPv4' || (a.family as unknown) === 4);
  if (!all[name] && !interfaces.exists(name)) {
    const known = Object.keys(all).join(', ') || 'none';
    throw new ConfigError(`BRUME_DHCP_INTERFACE: there is no interface "${name}" on this machine (interfaces with addresses: ${known})`);
  }
  if (ipv4.length === 0) {
    throw new ConfigError(`BRUME_DHCP_INTERFACE: interface "${name}" has no IPv4 address; give it one on the network to serve (e.g. "ip addr add 192.0.2.1/24 dev ${name}")`);
  }

  const pool = range(env, mode);
  // With several addresses, serve from the one whose subnet holds the pool.
  const own = (pool && ipv4.find((a) => new Subnet(a.address, a.netmask).contains(pool.first))) || ipv4[0]!;
  const subnet = new Subnet(own.address, own.netmask);
  if (pool && !(subnet.contains(pool.first) && subnet.contains(pool.last))) {
    throw new ConfigError(`BRUME_DHCP_POOL ${pool.first}-${pool.last} must be inside ${subnet}, the subnet of ${name} (${own.address})`);
  }
  const router = env.BRUME_DHCP_ROUTER?.trim() || null;
  if (router !== null && !isIpv4(router)) throw new ConfigError(`BRUME_DHCP_ROUTER must be an IPv4 address, not "${router}"`);
  const dns = (env.BRUME_DHCP_DNS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const badDns = dns.find((s) => !isIpv4(s));
  if (badDns !== undefined) throw new ConfigError(`BRUME_DHCP_DNS must be IPv4 addresses separated by commas; "${badDns}" is not one`);
  if (dns.length > 8) throw new ConfigError('BRUME_DHCP_DNS lists more than 8 servers');
  return {
    mode, interfaceName: name, listenAddress: '0.0.0.0', serverAddress: own.address, netmask: own.netmask,
    pool, router, dns, ...common,
  };
}

function range(env: NodeJS.ProcessEnv, mode: DhcpMode): { first: string; last: string } | null {
  const text = env.BRUME_DHCP_POOL?.trim();
  if (!text) {
    if (mode === 'full') throw new ConfigError('BRUME_DHCP_POOL is required in full mode: the addresses to hand out, e.g. 192.0.2.100-192.0.2.199');
    return null;
  }
  const [first = '', last = '', ...rest] = text.split('-').map((s) => s.trim());
  if (rest.length > 0 || !isIpv4(first) || !isIpv4(last)) {
    throw new ConfigError(`BRUME_DHCP_POOL must be first-last, e.g. 192.0.2.100-192.0.2.199, not "${text.slice(0, 60)}"`);
  }
  if (ipToInt(first) > ipToInt(last)) throw new ConfigError(`BRUME_DHCP_POOL: ${first} comes after ${last}; write the lower address first`);
  if (ipToInt(last) - ipToInt(first) >= 65536) throw new ConfigError('BRUME_DHCP_POOL holds more than 65536 addresses');
  return { first, last };
}

function bootFile(env: NodeJS.ProcessEnv, name: string, fallback: string | null): string | null {
  const text = env[name]?.trim();
  if (!text) return fallback;
  if (!BOOT_FILE.test(text)) throw new ConfigError(`${name} must be a file name of 1 to 127 printable characters without spaces, not "${text.slice(0, 60)}"`);
  return text;
}
