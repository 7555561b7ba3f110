import { seededRandom } from './stats.ts';

/** Unicast OUIs of vendors found in school and office fleets (Dell, HP, Lenovo, Intel, QEMU). */
const OUIS = ['b8:ca:3a', '3c:d9:2b', '54:ee:75', 'a4:bb:6d', '52:54:00'];
const SITES = ['lyon', 'nantes', 'lille', 'brest', 'tours', 'metz', 'nice', 'pau'];

export interface HostSpec {
  name: string;
  mac: string;
  ip: string;
  description: string;
}

/**
 * `count` distinct hosts as an admin would have them: site-room-seat names,
 * MACs from a handful of vendors, one subnet per room. Deterministic:
 * the same seed gives the same fleet.
 */
export function fleet(count: number, seed = 1, prefix = ''): HostSpec[] {
  const random = seededRandom(seed);
  const macs = new Set<string>();
  const hosts: HostSpec[] = [];
  for (let i = 0; i < count; i++) {
    const site = i % SITES.length;
    const room = Math.floor(i / SITES.length / 40);
    const seat = Math.floor(i / SITES.length) % 40;
    let mac: string;
    do {
      const tail = Array.from({ length: 3 }, () => Math.floor(random() * 256).toString(16).padStart(2, '0')).join(':');
      mac = `${OUIS[Math.floor(random() * OUIS.length)]}:${tail}`;
    } while (macs.has(mac));
    macs.add(mac);
    hosts.push({
      name: `${prefix}${SITES[site]}-r${String(room).padStart(3, '0')}-pc${String(seat).padStart(2, '0')}`,
      mac,
      ip: `10.${site + 1}.${room % 256}.${seat + 10}`,
      description: `Room ${room}, seat ${seat}`,
    });
  }
  return hosts;
}

/** FOG's host CSV: `"mac","name","ip","description","os","image name"`. */
export const csvOf = (hosts: readonly HostSpec[], imageName: string) =>
  hosts.map((h) => [h.mac, h.name, h.ip, h.description, '', imageName].map((f) => `"${f}"`).join(',')).join('\n') + '\n';
