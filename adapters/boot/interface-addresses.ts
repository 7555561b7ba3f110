import { execFileSync } from 'node:child_process';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { formatIpv4, maskOf } from '../../core/shared/ipv4.ts';

/**
 * IPv4 addresses of every interface, including interfaces that are up but
 * have no carrier yet. Node's os.networkInterfaces() leaves those out (libuv
 * lists only RUNNING interfaces), yet a boot server must start before its
 * first client plugs in: a tap device before QEMU opens it, a port whose
 * cable is out. So ask iproute2, which every Linux server has, and fall back
 * to Node's view where `ip` is missing.
 *
 * @example
 * interfaceAddresses().tap0 // [{ address: '192.0.2.1', netmask: '255.255.255.0', ... }]
 */
export function interfaceAddresses(): NodeJS.Dict<NetworkInterfaceInfo[]> {
  try {
    const listed = JSON.parse(execFileSync('ip', ['-j', '-4', 'addr', 'show'], { encoding: 'utf8', timeout: 5000 })) as {
      ifname: string; address?: string; addr_info?: { family: string; local: string; prefixlen: number }[];
    }[];
    const result: NodeJS.Dict<NetworkInterfaceInfo[]> = {};
    for (const link of listed) {
      result[link.ifname] = (link.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => ({
        address: a.local, netmask: formatIpv4(maskOf(a.prefixlen)), family: 'IPv4', mac: link.address ?? '00:00:00:00:00:00',
        internal: link.ifname === 'lo', cidr: `${a.local}/${a.prefixlen}`,
      }));
    }
    return result;
  } catch {
    return networkInterfaces();
  }
}
