import { createSocket, type Socket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { magicPacket } from '../../core/wake-on-lan/magic-packet.ts';

/** Which MACs to wake, through which addresses, on which port. */
export interface WolSendRequest {
  macs: readonly string[];
  /** IPv4 addresses, usually broadcast ones. */
  addresses: readonly string[];
  port: number;
  /** SecureOn password for NICs that require one (6 bytes, written like a MAC). */
  secureOn?: string;
}

export interface WolSendOptions {
  /** Copies of every packet: UDP broadcasts get lost and nobody answers (default 3). */
  repeats?: number;
  /** Pause between rounds of copies (default 100 ms). */
  intervalMs?: number;
  /** Local address to send from, which picks the interface on a multi-homed server (default: any). */
  bindAddress?: string;
}

/** One MAC's packets to one address. */
export interface WolDelivery {
  address: string;
  mac: string;
  /** Copies the kernel took. */
  copies: number;
  /** The last send error, if any copy failed. */
  error: string | null;
}

export interface WolSendReport {
  port: number;
  deliveries: WolDelivery[];
  /** Addresses that took at least one packet. */
  sentTo: string[];
  /** Addresses that took none, with the error. */
  failed: { address: string; error: string }[];
}

/**
 * Sends every MAC's magic packet to every address from one UDP socket with
 * broadcast allowed, `repeats` times ~`intervalMs` apart. Never rejects:
 * errors (ENETUNREACH, EACCES, a socket that cannot bind...) are in the
 * report, so the caller can record them.
 *
 * @example
 * const report = await sendWakeOnLan({ macs: ['52:54:00:12:34:56'], addresses: ['192.0.2.255'], port: 9 });
 * report.sentTo // ['192.0.2.255']
 */
export async function sendWakeOnLan(request: WolSendRequest, options: WolSendOptions = {}): Promise<WolSendReport> {
  const repeats = Math.max(1, options.repeats ?? 3);
  const intervalMs = options.intervalMs ?? 100;
  const deliveries: WolDelivery[] = request.addresses.flatMap((address) =>
    request.macs.map((mac) => ({ address, mac, copies: 0, error: null as string | null })));
  // A MAC (or password) that makes no packet fails its own deliveries, not the others'.
  const packets = new Map<string, Uint8Array>();
  for (const mac of request.macs) {
    try {
      packets.set(mac, magicPacket(mac, request.secureOn));
    } catch (error) {
      for (const d of deliveries) if (d.mac === mac) d.error = messageOf(error);
    }
  }
  const sendable = deliveries.filter((d) => packets.has(d.mac));
  if (sendable.length === 0) return report(request.port, deliveries);

  const socket = createSocket({ type: 'udp4' });
  // An 'error' event without a listener would crash the process; send errors also reach the callbacks.
  socket.on('error', () => {});
  try {
    await bind(socket, options.bindAddress);
    socket.setBroadcast(true);
  } catch (error) {
    try { socket.close(); } catch { /* never bound */ }
    for (const d of sendable) d.error = messageOf(error);
    return report(request.port, deliveries);
  }
  try {
    for (let round = 0; round < repeats; round++) {
      if (round > 0) await sleep(intervalMs);
      await Promise.all(sendable.map((delivery) => sendOne(socket, packets.get(delivery.mac)!, request.port, delivery)));
    }
  } finally {
    socket.close();
  }
  return report(request.port, deliveries);
}

function bind(socket: Socket, address: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port: 0, ...(address ? { address } : {}) }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

function sendOne(socket: Socket, packet: Uint8Array, port: number, delivery: WolDelivery): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.send(packet, port, delivery.address, (error) => {
        if (error) delivery.error = messageOf(error);
        else delivery.copies++;
        resolve();
      });
    } catch (error) {
      // Bad arguments (a port out of range) throw before anything is sent.
      delivery.error = messageOf(error);
      resolve();
    }
  });
}

function report(port: number, deliveries: WolDelivery[]): WolSendReport {
  const sentTo: string[] = [];
  const failed: { address: string; error: string }[] = [];
  for (const address of new Set(deliveries.map((d) => d.address))) {
    const mine = deliveries.filter((d) => d.address === address);
    if (mine.some((d) => d.copies > 0)) sentTo.push(address);
    else failed.push({ address, error: mine.find((d) => d.error)?.error ?? 'not sent' });
  }
  return { port, deliveries, sentTo, failed };
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
