import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type BootMeasurement = 'dhcp' | 'tftp' | 'script';
export const BOOT_MEASUREMENTS: readonly BootMeasurement[] = ['dhcp', 'tftp', 'script'];

/** The programs each measurement drives, with the Debian package each comes from. */
const TOOLS: Record<BootMeasurement, [program: string, pkg: string][]> = {
  dhcp: [['ip', 'iproute2'], ['perfdhcp', 'kea-admin'], ['dnsmasq', 'dnsmasq-base']],
  tftp: [['ip', 'iproute2'], ['in.tftpd', 'tftpd-hpa'], ['curl', 'curl']],
  script: [['ip', 'iproute2'], ['nginx', 'nginx'], ['wrk', 'wrk'], ['curl', 'curl']],
};

/** The peers' packages, for the machine line of the report. */
const PEER_PACKAGES: Record<BootMeasurement, string[]> = {
  dhcp: ['kea-admin', 'dnsmasq-base'],
  tftp: ['tftpd-hpa'],
  script: ['nginx', 'wrk'],
};

function installed(program: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    try { accessSync(`${dir}/${program}`, constants.X_OK); return true; } catch { /* next */ }
  }
  return false;
}

/**
 * Why a measurement cannot run here, or null when it can: it needs root
 * (network namespaces) and its peers' programs.
 */
export function cannotRun(measurement: BootMeasurement): string | null {
  if (process.getuid?.() !== 0) {
    return 'needs root: it creates network namespaces and veth pairs (removed afterwards); run it as root, e.g. "sudo npm run bench -- --only=dhcp,tftp,script"';
  }
  const missing = TOOLS[measurement].filter(([program]) => !installed(program));
  if (missing.length === 0) return null;
  const packages = [...new Set(missing.map(([, pkg]) => pkg))];
  return `needs ${missing.map(([program]) => program).join(', ')}: apt-get install ${packages.join(' ')} (or sudo infra/test-peers/install.sh)`;
}

/** "dnsmasq-base 2.90-4~deb12u1, ..." for the measurements that ran. */
export async function peerVersions(measurements: readonly BootMeasurement[]): Promise<string> {
  const packages = [...new Set(measurements.flatMap((m) => PEER_PACKAGES[m]))];
  const versions: string[] = [];
  for (const pkg of packages) {
    const version = await run('dpkg-query', ['-W', '-f=${Version}', pkg]).then((r) => r.stdout.trim(), () => 'version unknown');
    versions.push(`${pkg} ${version}`);
  }
  return versions.join(', ');
}
