import type { NetNamespace } from '../../tests/e2e/support/netns.ts';
import type { ServerSide } from '../boot/lab.ts';

/** One simulated machine in the client namespace: its own NIC (a macvlan), MAC and address. */
export interface ClientLink {
  device: string;
  mac: string;
  address: string;
}

/**
 * Gives the client namespace `count` macvlan devices on the link to
 * `side`'s server, each with its own MAC (02:be:<tag>:00:00:NN, locally
 * administered) and address (<net>.2.N/16, beside the lab's own).
 * brume checks that a client's source address belongs to the MAC it
 * claims (its neighbour table), so ten machines need ten MACs and ten
 * addresses, as on a real network. arp_ignore=1 makes only the device
 * holding an address answer ARP for it. curl picks a device with
 * `--interface if!<device>`. The devices go with the namespace.
 */
export async function addClientLinks(client: NetNamespace, side: ServerSide, count: number, prefix: string, tag: string): Promise<ClientLink[]> {
  await client.exec('sysctl', ['-q', '-w', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2']);
  const net = side.clientAddress.split('.').slice(0, 2).join('.');
  const links: ClientLink[] = [];
  for (let n = 1; n <= count; n++) {
    const link = { device: `${prefix}${n}`, mac: `02:be:${tag}:00:00:${n.toString(16).padStart(2, '0')}`, address: `${net}.2.${n}` };
    await client.exec('ip', ['link', 'add', 'link', side.clientDevice, 'name', link.device, 'address', link.mac, 'type', 'macvlan', 'mode', 'bridge']);
    await client.exec('ip', ['addr', 'add', `${link.address}/16`, 'dev', link.device]);
    await client.exec('ip', ['link', 'set', link.device, 'up']);
    links.push(link);
  }
  return links;
}
