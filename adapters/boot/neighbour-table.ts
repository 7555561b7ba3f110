import { readFileSync } from 'node:fs';

/**
 * Looks up the MAC behind an IPv4 address in the kernel's neighbour (ARP)
 * table. A machine that fetches a file by TFTP or HTTP has just talked to
 * us, so the kernel knows its MAC even when brume's DHCP did not give it the
 * address (proxy mode, another DHCP server). The table is re-read at most
 * once per `maxAgeMs`.
 *
 * @example
 * const macOf = neighbourTable();
 * macOf('192.0.2.100'); // '52:54:00:12:34:56' or null
 */
export function neighbourTable(path = '/proc/net/arp', maxAgeMs = 1000): (ip: string) => string | null {
  let readAt = 0;
  let table = new Map<string, string>();
  const refresh = () => {
    table = new Map();
    try {
      for (const line of readFileSync(path, 'utf8').split('\n').slice(1)) {
        const [ip, , flags, mac] = line.trim().split(/\s+/);
        // Flags 0x0 means incomplete: no answer yet, no MAC to trust.
        if (ip && mac && flags !== '0x0' && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac) && mac !== '00:00:00:00:00:00') {
          table.set(ip, mac.toLowerCase());
        }
      }
    } catch {
      // No /proc (not Linux) or no permission: observations by address then stay unattributed.
    }
  };
  return (ip) => {
    if (Date.now() - readAt >= maxAgeMs) {
      readAt = Date.now();
      refresh();
    }
    return table.get(ip) ?? null;
  };
}
