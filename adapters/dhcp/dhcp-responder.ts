import type { BootObservation } from '../../core/boot/boot-stage.ts';
import { bootFileFor, classifyClient, type BootClient, type BootFileAnswer } from '../../core/boot/client-arch.ts';
import type { KnownHost, ResponderBackend } from '../boot/responder-backend.ts';
import type { DhcpConfig } from './dhcp-config.ts';
import {
  BROADCAST_FLAG, MESSAGE_NAMES, MessageType, Option, readSubOptions,
  type DhcpReply, type DhcpRequest, type MessageTypeCode,
} from './dhcp-packet.ts';
import { Subnet } from '../../core/shared/ipv4.ts';
import type { LeasePool } from './lease-pool.ts';
import type { Lease, LeaseChange } from './lease-store.ts';

/** Which socket a request came in on: the DHCP port (67) or the proxyDHCP port (4011). */
export type Via = 'dhcp' | 'proxy';

/**
 * Where a reply goes (RFC 2131 §4.1): to the relay on the server port, to
 * the client's address, or broadcast on the served interface. Unicast to a
 * client that has no address yet would need an ARP entry only the kernel
 * can add, so those replies are broadcast, which the RFC allows.
 */
export type Destination =
  /** The relay agent (giaddr), on the server port. */
  | { kind: 'relay'; address: string }
  /** The client's address, on the client port. */
  | { kind: 'client'; address: string }
  /** Exactly where the request came from (proxyDHCP on port 4011). */
  | { kind: 'source'; address: string; port: number }
  /** Broadcast on the served interface, to the client port. */
  | { kind: 'broadcast' };

/** Valid requests that get no answer, by why. */
export type IgnoreReason =
  | 'not-pxe' | 'unregistered' | 'other-server' | 'no-record' | 'no-boot-file' | 'released' | 'declined'
  | 'pool-exhausted' | 'foreign-subnet' | 'wrong-port' | 'not-for-proxy' | 'incomplete-request' | 'unknown-lease';

export type Answer = 'offer' | 'ack' | 'nak';

export type Decision =
  | {
    kind: 'reply';
    answer: Answer;
    reply: DhcpReply;
    to: Destination;
    /** A lease to make durable before the reply may go out (full-mode ACK). */
    commit: Lease | null;
    /** The address the client now holds, for ResponderBackend.noteAddress. */
    address: string | null;
    observation: BootObservation;
  }
  | { kind: 'ignore'; reason: IgnoreReason; commit: LeaseChange | null; warning?: string };

export interface ResponderSettings {
  config: DhcpConfig;
  backend: ResponderBackend;
  /** Full mode only. */
  pool: LeasePool | null;
  bootServerAddress: string;
  httpBaseUrl: string;
}

const ZERO = '0.0.0.0';
/** PXE vendor option 6 (discovery control) = 8: no multicast/broadcast discovery, boot the file given. */
const DISCOVERY_CONTROL = [6, 1, 8];
/** PXE vendor option 71: the boot item the client asked for, echoed in the boot server's ACK. */
const BOOT_ITEM = 71;

/**
 * Decides the answer to one decoded DHCP request. No sockets and no
 * database: it reads the backend's in-memory host index and changes the
 * in-memory lease pool, and tells the server what to send, where, and what
 * to persist first.
 */
export class DhcpResponder {
  private readonly subnet: Subnet;

  constructor(private readonly settings: ResponderSettings) {
    this.subnet = new Subnet(settings.config.serverAddress, settings.config.netmask);
  }

  /**
   * @example
   * const decision = responder.decide(request, 'dhcp', { address: '0.0.0.0', port: 68 }, Date.now());
   * if (decision.kind === 'reply') send(encodeReply(decision.reply), decision.to);
   */
  decide(request: DhcpRequest, via: Via, source: { address: string; port: number }, now: number): Decision {
    return this.settings.config.mode === 'proxy' ? this.proxy(request, via, source, now) : this.full(request, now);
  }

  private proxy(request: DhcpRequest, via: Via, source: { address: string; port: number }, now: number): Decision {
    const type = request.messageType;
    if (via === 'dhcp' && type !== MessageType.DISCOVER) return ignore('not-for-proxy');
    if (via === 'proxy' && type !== MessageType.REQUEST && type !== MessageType.INFORM) return ignore('wrong-port');
    const client = clientOf(request);
    if (client.vendorClass === 'other' && !client.ipxe) return ignore('not-pxe');
    const host = this.settings.backend.hostFor(request.mac);
    if (this.settings.config.registeredOnly && !host) return ignore('unregistered');
    const target = this.target(client, request.mac);
    if (!target) return ignore('no-boot-file');

    const options: DhcpReply['options'] = {
      [Option.serverId]: this.settings.config.serverAddress,
      [Option.vendorClass]: client.vendorClass === 'http' ? 'HTTPClient' : 'PXEClient',
    };
    if (request.clientUuid) options[Option.clientUuid] = request.clientUuid;
    if (client.vendorClass === 'pxe') {
      const item = via === 'proxy' ? readSubOptions(request.vendorSpecific).get(BOOT_ITEM) : undefined;
      options[Option.vendorSpecific] = [...DISCOVERY_CONTROL, ...(item ? [BOOT_ITEM, item.length, ...item] : []), 255];
    }
    const offer = via === 'dhcp';
    const reply = this.reply(request, offer ? MessageType.OFFER : MessageType.ACK, {
      ciaddr: offer ? ZERO : request.ciaddr, yiaddr: ZERO, boot: target, client, options,
    });
    // The proxy ACK goes straight back to where the request came from (client address and port).
    const to: Destination = offer ? destination(request, 'offer') : { kind: 'source', address: source.address, port: source.port };
    const clientAddress = request.ciaddr !== ZERO ? request.ciaddr : source.address !== ZERO ? source.address : null;
    return {
      kind: 'reply', answer: offer ? 'offer' : 'ack', reply, to, commit: null,
      address: offer ? null : clientAddress,
      observation: this.observation('proxy-dhcp', request, offer ? 'offer' : 'ack', client, target, offer ? null : clientAddress, now),
    };
  }

  private full(request: DhcpRequest, now: number): Decision {
    const pool = this.settings.pool!;
    if (request.giaddr !== ZERO && !this.subnet.contains(request.giaddr)) return ignore('foreign-subnet');
    const type = request.messageType;
    if (type === MessageType.RELEASE || type === MessageType.DECLINE) {
      if (request.serverId !== null && request.serverId !== this.settings.config.serverAddress) return ignore('other-server');
      if (type === MessageType.RELEASE) {
        const lease = pool.release(request.mac, request.ciaddr, now);
        return lease ? ignore('released', { kind: 'save', lease }) : ignore('unknown-lease');
      }
      const ip = request.requestedIp ?? '';
      if (!pool.decline(request.mac, ip, now)) return ignore('unknown-lease');
      return {
        kind: 'ignore', reason: 'declined', commit: { kind: 'remove', mac: request.mac },
        warning: `${request.mac} declined ${ip}: another machine answers for that address; it is kept out of use for a while`,
      };
    }
    const host = this.settings.backend.hostFor(request.mac);
    if (this.settings.config.registeredOnly && !host) return ignore('unregistered');
    const reserved = this.reservation(host);

    if (type === MessageType.DISCOVER) {
      const ip = pool.offer(request.mac, { reserved, requested: request.requestedIp }, now);
      if (!ip) return { kind: 'ignore', reason: 'pool-exhausted', commit: null, warning: `no free address in the pool for ${request.mac}` };
      return this.grant(request, host, ip, 'offer', now);
    }
    if (type === MessageType.INFORM) return this.grant(request, host, null, 'ack', now);

    // REQUEST: the client's state shows in which fields it filled (RFC 2131 §4.3.2).
    const mac = request.mac;
    const mayHold = (ip: string) => pool.available(mac, ip, now) && (pool.inPool(ip) || ip === reserved);
    if (request.serverId !== null) {
      // SELECTING: it chose a server; if not us, our offer is void.
      if (request.serverId !== this.settings.config.serverAddress) {
        pool.forgetOffer(mac);
        return ignore('other-server');
      }
      const ip = request.requestedIp ?? (request.ciaddr !== ZERO ? request.ciaddr : null);
      if (!ip) return this.nak(request, 'no address requested', now);
      return mayHold(ip) ? this.grant(request, host, ip, 'ack', now) : this.nak(request, `${ip} is not available`, now);
    }
    const reservedFree = reserved !== null && mayHold(reserved) ? reserved : null;
    if (request.ciaddr === ZERO) {
      // INIT-REBOOT: it wants the address it had.
      const ip = request.requestedIp;
      if (!ip) return ignore('incomplete-request');
      if (!this.subnet.contains(ip)) return this.nak(request, `${ip} is not on this network`, now);
      if (reservedFree) return ip === reservedFree ? this.grant(request, host, ip, 'ack', now) : this.nak(request, `this host's address is ${reservedFree}`, now);
      const lease = pool.leaseOf(mac);
      // No record: stay silent, another server may know this client (RFC 2131 §4.3.2).
      if (!lease) return ignore('no-record');
      return lease.ip === ip && mayHold(ip) ? this.grant(request, host, ip, 'ack', now) : this.nak(request, `${ip} is not this client's address`, now);
    }
    // RENEWING / REBINDING: it holds ciaddr and wants more time.
    const ip = request.ciaddr;
    if (!this.subnet.contains(ip)) return this.nak(request, `${ip} is not on this network`, now);
    // A host whose reservation changed moves to it at its next renewal.
    if (reservedFree && reservedFree !== ip) return this.nak(request, `this host's address is ${reservedFree}`, now);
    const lease = pool.leaseOf(mac);
    if (lease && lease.ip !== ip) return this.nak(request, `${ip} is not this client's address`, now);
    return mayHold(ip) ? this.grant(request, host, ip, 'ack', now) : this.nak(request, `${ip} is not available`, now);
  }

  /** OFFER or ACK with an address (null: ACK to INFORM, which configures no address). */
  private grant(request: DhcpRequest, host: KnownHost | null, ip: string | null, answer: 'offer' | 'ack', now: number): Decision {
    const { config } = this.settings;
    const client = clientOf(request);
    const target = this.target(client, request.mac);
    const options: DhcpReply['options'] = { [Option.serverId]: config.serverAddress, [Option.subnetMask]: config.netmask };
    if (config.router) options[Option.router] = [config.router];
    if (config.dns.length > 0) options[Option.dns] = config.dns;
    if (ip) {
      options[Option.leaseTime] = config.leaseSeconds;
      options[Option.renewalTime] = Math.floor(config.leaseSeconds / 2);
      options[Option.rebindingTime] = Math.floor((config.leaseSeconds * 7) / 8);
    }
    let commit: Lease | null = null;
    if (ip && answer === 'ack') {
      const hostname = host?.hostName ?? request.hostName?.slice(0, 255) ?? null;
      commit = this.settings.pool!.bind(request.mac, ip, now, config.leaseSeconds, { hostId: host?.hostId ?? null, hostname });
    }
    const informed = request.messageType === MessageType.INFORM;
    const reply = this.reply(request, answer === 'offer' ? MessageType.OFFER : MessageType.ACK, {
      ciaddr: answer === 'offer' ? ZERO : request.ciaddr, yiaddr: ip ?? ZERO, boot: target, client, options,
    });
    const address = answer === 'ack' ? (ip ?? (informed && request.ciaddr !== ZERO ? request.ciaddr : null)) : null;
    return {
      kind: 'reply', answer, reply, to: destination(request, answer), commit, address,
      observation: this.observation('dhcp', request, answer, client, target, ip ?? address, now),
    };
  }

  private nak(request: DhcpRequest, message: string, now: number): Decision {
    const reply: DhcpReply = {
      messageType: MessageType.NAK, xid: request.xid, hops: 0, ciaddr: ZERO, yiaddr: ZERO, siaddr: ZERO,
      giaddr: request.giaddr, mac: request.mac, file: '',
      // Through a relay the NAK must be broadcast on the client's segment.
      flags: request.giaddr !== ZERO ? request.flags | BROADCAST_FLAG : request.flags,
      options: { [Option.serverId]: this.settings.config.serverAddress, [Option.message]: message },
    };
    const client = clientOf(request);
    return {
      kind: 'reply', answer: 'nak', reply, to: destination(request, 'nak'), commit: null, address: null,
      observation: this.observation('dhcp', request, 'nak', client, null, null, now),
    };
  }

  private reply(
    request: DhcpRequest,
    type: MessageTypeCode,
    parts: { ciaddr: string; yiaddr: string; boot: BootFileAnswer | null; client: BootClient; options: DhcpReply['options'] },
  ): DhcpReply {
    const options = { ...parts.options };
    let file = '';
    if (parts.boot) {
      if (parts.boot.kind === 'tftp') {
        file = parts.boot.file;
        options[Option.tftpServer] = this.settings.bootServerAddress;
      } else {
        file = parts.boot.url;
      }
      // UEFI HTTP boot only takes offers that say they are for it.
      if (parts.client.vendorClass === 'http') options[Option.vendorClass] = 'HTTPClient';
    }
    return {
      messageType: type, xid: request.xid, flags: request.flags, hops: 0,
      ciaddr: parts.ciaddr, yiaddr: parts.yiaddr,
      siaddr: parts.boot ? this.settings.bootServerAddress : ZERO,
      giaddr: request.giaddr, mac: request.mac, file, options,
    };
  }

  private target(client: BootClient, mac: string): BootFileAnswer | null {
    return bootFileFor(client, { files: this.settings.config.bootFiles, httpBaseUrl: this.settings.httpBaseUrl, mac });
  }

  /** The registered address of a host, when it lies on the served subnet. */
  private reservation(host: KnownHost | null): string | null {
    return host?.ip && this.subnet.isHost(host.ip) ? host.ip : null;
  }

  private observation(
    stage: BootObservation['stage'], request: DhcpRequest, answer: Answer,
    client: BootClient, target: BootFileAnswer | null, ip: string | null, now: number,
  ): BootObservation {
    const detail: Record<string, string> = {
      message: MESSAGE_NAMES[request.messageType] ?? String(request.messageType),
      reply: answer === 'offer' ? 'DHCPOFFER' : answer === 'ack' ? 'DHCPACK' : 'DHCPNAK',
      arch: client.arch === null ? 'none' : String(client.arch),
      firmware: client.firmware,
    };
    if (client.ipxe) detail.client = 'iPXE';
    if (target?.kind === 'tftp') detail.bootFile = target.file;
    if (target?.kind === 'url') detail.url = target.url;
    if (ip) detail.ip = ip;
    return { mac: request.mac, stage, at: new Date(now), detail };
  }
}

const ignore = (reason: IgnoreReason, commit: LeaseChange | null = null): Decision => ({ kind: 'ignore', reason, commit });

const clientOf = (request: DhcpRequest): BootClient =>
  classifyClient({ arch: request.arch, vendorClass: request.vendorClass, userClass: request.userClass });

/** RFC 2131 §4.1: relay first, NAKs broadcast, then the client's own address, else broadcast. */
function destination(request: DhcpRequest, answer: Answer): Destination {
  if (request.giaddr !== ZERO) return { kind: 'relay', address: request.giaddr };
  if (answer === 'nak') return { kind: 'broadcast' };
  if (request.ciaddr !== ZERO) return { kind: 'client', address: request.ciaddr };
  return { kind: 'broadcast' };
}
