import { isIPv4 } from 'node:net';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { ConfigError } from '../runtime/config.ts';
import { integerVar } from '../runtime/env-values.ts';

/** Where the TFTP server listens, what it serves and how far it lets clients negotiate. */
export interface TftpConfig {
  enabled: boolean;
  host: string;
  port: number;
  /** Absolute path of the boot-files directory (shared with the HTTP boot routes). */
  bootFilesDir: string;
  /** Cap on the negotiated windowsize (RFC 7440): clients asking more get this. */
  maxWindow: number;
  /** Cap on the negotiated blksize (RFC 2348): clients asking more get this. */
  maxBlksize: number;
  /** A transfer starting while fewer than this many others run gets a thread of its own (the native addon); else the event loop. */
  threads: number;
}

/** The TFTP variables, for `brume serve --help` and the docs, in the shape of CONFIG_VARIABLES. */
export const TFTP_CONFIG_VARIABLES = [
  ['BRUME_TFTP', 'auto', 'TFTP server: on, off, or auto (on unless DHCP mode is off)'],
  ['BRUME_TFTP_HOST', '0.0.0.0', 'IPv4 address the TFTP server binds'],
  ['BRUME_TFTP_PORT', '69', 'UDP port of the TFTP server (below 1024 needs root or CAP_NET_BIND_SERVICE)'],
  ['BRUME_BOOT_FILES_DIR', './boot-files', 'boot files served by TFTP and HTTP; fill it with infra/boot-files/install-ipxe.sh'],
  ['BRUME_TFTP_MAX_WINDOW', '16', 'largest TFTP windowsize (RFC 7440) granted to a client, 1 for lock-step only'],
  ['BRUME_TFTP_MAX_BLKSIZE', '1468', 'largest TFTP blksize (RFC 2348) granted; 1468 fills one Ethernet frame without IP fragments'],
  ['BRUME_TFTP_THREADS', '<2 x CPU count>', 'a TFTP transfer that starts while fewer than this many others run gets a thread of its own (the native addon npm install builds), else the event loop; 0: always the event loop'],
] as const;

/** Transfers that may start on threads while others run (BRUME_TFTP_THREADS' default): a few, not a crowd. */
export const DEFAULT_TFTP_THREADS = 2 * availableParallelism();

/**
 * The windowsize cap stays far below 32768 so that a 16-bit ACK number always
 * names one block unambiguously across block-number rollover, and so one
 * window is a burst a switch port can absorb.
 */
const MAX_WINDOW_LIMIT = 1024;

/**
 * Reads the TFTP configuration; a bad value throws a ConfigError naming the variable.
 *
 * @example
 * tftpConfigFromEnv({ BRUME_TFTP_PORT: '6969' }, { dhcpEnabled: true })
 * // { enabled: true, host: '0.0.0.0', port: 6969, bootFilesDir: '/.../boot-files', maxWindow: 16, maxBlksize: 1468, threads: 4 }
 */
export function tftpConfigFromEnv(env: NodeJS.ProcessEnv, context: { dhcpEnabled: boolean }): TftpConfig {
  const mode = (env.BRUME_TFTP?.trim() || 'auto').toLowerCase();
  if (!['auto', 'on', 'off'].includes(mode)) throw new ConfigError(`BRUME_TFTP must be auto, on or off, not "${env.BRUME_TFTP}"`);
  const host = env.BRUME_TFTP_HOST?.trim() || '0.0.0.0';
  if (!isIPv4(host)) throw new ConfigError(`BRUME_TFTP_HOST must be an IPv4 address (0.0.0.0 for all), not "${env.BRUME_TFTP_HOST}"`);
  return {
    enabled: mode === 'on' || (mode === 'auto' && context.dhcpEnabled),
    host,
    port: integerVar(env, 'BRUME_TFTP_PORT', 69, 0, 65535, 'a port number'),
    bootFilesDir: resolve(env.BRUME_BOOT_FILES_DIR?.trim() || './boot-files'),
    maxWindow: integerVar(env, 'BRUME_TFTP_MAX_WINDOW', 16, 1, MAX_WINDOW_LIMIT, 'a window of blocks'),
    maxBlksize: integerVar(env, 'BRUME_TFTP_MAX_BLKSIZE', 1468, 8, 65464, 'a block size in bytes (RFC 2348)'),
    threads: integerVar(env, 'BRUME_TFTP_THREADS', DEFAULT_TFTP_THREADS, 0, 1000, 'a number of transfers'),
  };
}
