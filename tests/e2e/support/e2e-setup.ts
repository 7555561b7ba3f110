import { accessSync, constants } from 'node:fs';
import { NS_PREFIX, sh } from './netns.ts';

/** The programs the end-to-end suites drive, and the Debian package each comes from. */
export const E2E_TOOLS: [string, string][] = [
  ['ip', 'iproute2'], ['qemu-system-x86_64', 'qemu-system-x86'], ['dhclient', 'isc-dhcp-client'],
  ['udhcpc', 'udhcpc'], ['nmap', 'nmap'], ['atftp', 'atftp'], ['curl', 'curl'], ['tcpdump', 'tcpdump'],
];
const E2E_FILES: [string, string][] = [
  ['/usr/lib/ipxe/undionly.kpxe', 'ipxe'], ['/usr/lib/ipxe/ipxe.efi', 'ipxe'],
  ['/usr/lib/ipxe/qemu/efi-virtio.rom', 'ipxe-qemu'], ['/usr/share/OVMF/OVMF_CODE.fd', 'ovmf'],
];

/** Namespace names carry the creating process's pid; a run still going keeps its namespaces. */
function ownerAlive(name: string): boolean {
  const pid = Number(/-(\d+)-[a-z0-9]+$/.exec(name)?.[1]);
  if (!pid) return false;
  try { process.kill(pid, 0); return true; } catch { return false; }
}

function has(program: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    try { accessSync(`${dir}/${program}`, constants.X_OK); return true; } catch { /* next */ }
  }
  return false;
}

/**
 * The end-to-end suites create network namespaces, tap devices and QEMU
 * machines, which only root can do. Say so plainly instead of failing in
 * the middle of a test; and remove namespaces a crashed earlier run left.
 */
export default async function setup(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error('npm run test:e2e needs root: it creates network namespaces, veth/tap devices and QEMU machines '
      + '(all confined to namespaces it makes and removes). Run it as root, e.g. "sudo npm run test:e2e". '
      + 'The rest of the suite runs without root: npm test.');
  }
  const missing = new Set<string>();
  for (const [program, pkg] of E2E_TOOLS) if (!has(program)) missing.add(pkg);
  for (const [file, pkg] of E2E_FILES) { try { accessSync(file); } catch { missing.add(pkg); } }
  if (missing.size) {
    throw new Error(`npm run test:e2e needs these Debian packages: ${[...missing].join(' ')}. `
      + 'Install them with: sudo infra/test-peers/install.sh');
  }
  for (const name of (await sh('ip', ['netns', 'list'])).split('\n').map((l) => l.split(' ')[0] ?? '')) {
    if (!name.startsWith(NS_PREFIX) || ownerAlive(name)) continue;
    // A run killed hard leaves its servers running inside; end them with their namespace.
    const pids = (await sh('ip', ['netns', 'pids', name]).catch(() => '')).split(/\s+/).filter(Boolean);
    for (const pid of pids) { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ } }
    await sh('ip', ['netns', 'del', name]).catch(() => {});
  }
}
