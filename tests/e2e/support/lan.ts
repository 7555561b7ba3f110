import { connect, NetNamespace } from './netns.ts';

/**
 * One Ethernet segment for several namespaces: a bridge living in its own
 * namespace, each member joined to it by a veth pair. Broadcasts reach every
 * member, as on a real LAN, and nothing reaches the host's network.
 *
 * @example
 * const lan = await Lan.create('proxy');
 * await lan.attach(server, '192.0.2.1/24');
 * await lan.attach(client, '');            // no address: it will ask DHCP
 * await lan.destroy();                     // the hub namespace, with every veth pair
 */
export class Lan {
  private ports = 0;

  private constructor(readonly hub: NetNamespace) {}

  static async create(label: string): Promise<Lan> {
    const hub = await NetNamespace.create(`${label}-lan`);
    try {
      // No STP and no forwarding delay: ports forward as soon as they are up.
      await hub.exec('ip', ['link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
      await hub.exec('ip', ['link', 'set', 'br0', 'up']);
    } catch (error) {
      await hub.destroy();
      throw error;
    }
    return new Lan(hub);
  }

  /** Plugs a namespace in as `device` with `cidr` (empty: no address); returns the device name. */
  async attach(member: NetNamespace, cidr: string, device = 'eth0'): Promise<string> {
    const port = `port${++this.ports}`;
    await connect(this.hub, '', member, cidr, [port, device]);
    await this.hub.exec('ip', ['link', 'set', port, 'master', 'br0']);
    return device;
  }

  /** Removes the hub namespace; deleting it deletes the veth pairs, so the members lose their cable too. */
  async destroy(): Promise<void> {
    await this.hub.destroy();
  }
}
