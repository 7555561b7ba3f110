import { BootFiles } from '../boot-files/boot-files.ts';
import { bootConfigFromEnv, type BootConfig } from '../boot/boot-config.ts';
import { dhcpConfigFromEnv, type DhcpConfig } from '../dhcp/dhcp-config.ts';
import { startDhcpServer, type DhcpServer } from '../dhcp/dhcp-server.ts';
import { SqlLeaseStore } from '../dhcp/sql-lease-store.ts';
import type { BootHttpConfig } from '../http/routes/boot.ts';
import { startTftpServer } from '../tftp/tftp-server.ts';
import { tftpConfigFromEnv, type TftpConfig } from '../tftp/tftp-config.ts';
import type { Brume } from './brume.ts';

/** Everything `brume serve` needs to answer booting machines. */
export interface BootRespondersConfig {
  dhcp: DhcpConfig;
  tftp: TftpConfig;
  boot: BootConfig;
}

/** Reads the DHCP, TFTP and boot settings; errors name the variable. */
export function bootRespondersConfigFromEnv(env: NodeJS.ProcessEnv, http: { httpHost: string; httpPort: number }): BootRespondersConfig {
  const dhcp = dhcpConfigFromEnv(env);
  const tftp = tftpConfigFromEnv(env, { dhcpEnabled: dhcp.mode !== 'off' });
  const boot = bootConfigFromEnv(env, { ...http, dhcpInterface: dhcp.interfaceName ?? undefined });
  // Bound to 0.0.0.0 on a machine with several addresses, TFTP replies would leave from whichever
  // address the route picks, and PXE clients drop replies from an address they did not ask.
  if (!env.BRUME_TFTP_HOST?.trim() && dhcp.interfaceName) tftp.host = boot.serverAddress;
  return { dhcp, tftp, boot };
}

/** The boot routes' settings: the HTTP side of the same configuration, sharing TFTP's boot-files store. */
export const bootHttpConfigOf = (config: BootRespondersConfig, files: BootFiles): BootHttpConfig =>
  ({ ...config.boot, filesDir: config.tftp.bootFilesDir, files });

export interface BootResponders {
  /** One line per responder, for the start-up banner. */
  summary: string[];
  dhcp: DhcpServer | undefined;
  close(): Promise<void>;
}

type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

/**
 * Starts the DHCP and TFTP responders the configuration enables, both backed
 * by the boot index and boot activity in memory. If one cannot start, the
 * ones already started are closed before the error propagates.
 */
export async function startBootResponders(brume: Brume, config: BootRespondersConfig, files: BootFiles, log: Log): Promise<BootResponders> {
  const summary: string[] = [];
  const closers: (() => Promise<void>)[] = [];
  const close = async () => { for (const c of closers.reverse()) await c().catch(() => {}); };
  let dhcp: DhcpServer | undefined;
  try {
    if (config.dhcp.mode !== 'off') {
      dhcp = await startDhcpServer({
        config: config.dhcp, backend: brume.bootActivity, leases: new SqlLeaseStore(brume.database.db),
        bootServerAddress: config.boot.serverAddress, httpBaseUrl: config.boot.httpBaseUrl,
        log: (level, message) => log(level === 'debug' ? 'info' : level, `dhcp: ${message}`),
      });
      const started = dhcp;
      closers.push(() => started.close());
      const filter = config.dhcp.registeredOnly ? ', registered hosts only' : '';
      summary.push(config.dhcp.mode === 'full'
        ? `DHCP (full) on ${config.dhcp.interfaceName}: pool ${config.dhcp.pool?.first}-${config.dhcp.pool?.last}${filter}`
        : `proxyDHCP on ${config.dhcp.interfaceName}, ports ${dhcp.ports.dhcp} and ${dhcp.ports.proxy}${filter}`);
    } else {
      summary.push('DHCP off (set BRUME_DHCP_MODE=proxy or full, with BRUME_DHCP_INTERFACE, to answer PXE clients)');
    }
    if (config.tftp.enabled) {
      const tftp = await startTftpServer({
        config: config.tftp, files, backend: brume.bootActivity,
        log: (level, message) => log(level, `tftp: ${message}`),
      });
      closers.push(() => tftp.close());
      summary.push(`TFTP on ${config.tftp.host}:${tftp.address().port}, files from ${config.tftp.bootFilesDir}`);
    }
    if (config.dhcp.mode !== 'off') {
      const wanted = [config.dhcp.bootFiles.bios, config.dhcp.bootFiles.efi64];
      const missing: string[] = [];
      for (const name of wanted) if (!(await files.read(name)).ok) missing.push(name);
      if (missing.length) {
        log('warn', `boot files missing from ${config.tftp.bootFilesDir}: ${missing.join(', ')}; PXE clients will fail to load them. `
          + 'Install Debian\'s iPXE binaries there with: sudo infra/boot-files/install-ipxe.sh ' + config.tftp.bootFilesDir);
      }
    }
    summary.push(`iPXE scripts at ${config.boot.httpBaseUrl}/boot/ipxe (boot server ${config.boot.serverAddress})`);
  } catch (error) {
    await close();
    throw error;
  }
  return { summary, dhcp, close };
}
