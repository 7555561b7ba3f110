import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { ConfigError } from '../runtime/config.ts';
import { booleanVar, integerVar } from '../runtime/env-values.ts';
import { interfaceAddresses } from './interface-addresses.ts';

/** How booting machines reach brume, and how the boot menu behaves. */
export interface BootConfig {
  /** The IPv4 address machines use to reach brume (DHCP next-server, TFTP). */
  serverAddress: string;
  /** Base URL of brume's HTTP server as booting machines see it, without a trailing slash. */
  httpBaseUrl: string;
  menuTimeoutSeconds: number;
  menuHidden: boolean;
  kernelArgs: string;
}

export const BOOT_CONFIG_VARIABLES = [
  ['BRUME_BOOT_SERVER_ADDRESS', '(the DHCP interface\'s address)', 'IPv4 address booting machines reach brume at (next-server, TFTP)'],
  ['BRUME_BOOT_HTTP_URL', 'http://<boot address>:<http port>', 'base URL booting machines fetch scripts and files from (set it behind a proxy)'],
  ['BRUME_BOOT_MENU_TIMEOUT', '5', 'seconds the boot menu waits before booting from the local disk'],
  ['BRUME_BOOT_MENU_HIDDEN', 'false', 'true: boot the local disk at once unless ESC is pressed during the timeout'],
  ['BRUME_BOOT_KERNEL_ARGS', '(none)', 'extra kernel arguments for the boot environment, e.g. "nomodeset"'],
] as const;

/** The first IPv4 address of an interface, or undefined. */
export function ipv4Of(interfaceName: string): string | undefined {
  return interfaceAddresses()[interfaceName]?.find((a) => a.family === 'IPv4')?.address;
}

/** A guess at this machine's address on the network when nothing says better: its first non-loopback IPv4. */
function firstExternalIpv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (found) return found.address;
  }
  return undefined;
}

/**
 * Reads the boot settings. The server address defaults, in order, to the
 * DHCP interface's address, the HTTP bind address, then the machine's
 * first external IPv4.
 */
export function bootConfigFromEnv(
  env: NodeJS.ProcessEnv,
  context: { httpHost: string; httpPort: number; dhcpInterface?: string | undefined },
): BootConfig {
  const explicit = env.BRUME_BOOT_SERVER_ADDRESS?.trim();
  if (explicit && !isIPv4(explicit)) throw new ConfigError(`BRUME_BOOT_SERVER_ADDRESS must be an IPv4 address, not "${explicit}"`);
  const fromInterface = context.dhcpInterface ? ipv4Of(context.dhcpInterface) : undefined;
  const fromHttp = isIPv4(context.httpHost) && context.httpHost !== '0.0.0.0' ? context.httpHost : undefined;
  const serverAddress = explicit || fromInterface || fromHttp || firstExternalIpv4() || '127.0.0.1';

  const url = env.BRUME_BOOT_HTTP_URL?.trim().replace(/\/+$/, '');
  if (url !== undefined && url !== '' && !/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(url)) {
    throw new ConfigError(`BRUME_BOOT_HTTP_URL must be an http:// or https:// URL, not "${env.BRUME_BOOT_HTTP_URL}"`);
  }
  const timeout = integerVar(env, 'BRUME_BOOT_MENU_TIMEOUT', 5, 0, 3600, 'a whole number of seconds');
  const kernelArgs = env.BRUME_BOOT_KERNEL_ARGS?.trim() ?? '';
  if (/[\n\r$]/.test(kernelArgs)) throw new ConfigError('BRUME_BOOT_KERNEL_ARGS must be one line without "$"');
  return {
    serverAddress,
    httpBaseUrl: url || `http://${serverAddress}:${context.httpPort}`,
    menuTimeoutSeconds: timeout,
    menuHidden: booleanVar(env, 'BRUME_BOOT_MENU_HIDDEN', false),
    kernelArgs,
  };
}
