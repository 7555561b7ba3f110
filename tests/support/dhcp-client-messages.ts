/**
 * The client side of DHCP, written byte by byte without the `dhcp` package:
 * the tests and the end-to-end PXE client speak to the responder with it,
 * so a bug in the package (or in how brume uses it) cannot hide behind the
 * same code on both ends.
 */

export type OptionValue = Buffer | readonly number[] | string;

export interface ClientMessage {
  /** 1 DISCOVER, 3 REQUEST, 4 DECLINE, 7 RELEASE, 8 INFORM. */
  type: number;
  /** aa:bb:cc:dd:ee:ff */
  mac: string;
  xid?: number;
  flags?: number;
  ciaddr?: string;
  giaddr?: string;
  hops?: number;
  /** Further options in order, raw (strings are ASCII). */
  options?: [number, OptionValue][];
}

const ipBytes = (ip: string) => ip.split('.').map(Number);
const raw = (value: OptionValue): Buffer => (typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value));

/** Option values for the options a PXE client sends. */
export const clientOption = {
  requestedIp: (ip: string): [number, OptionValue] => [50, ipBytes(ip)],
  serverId: (ip: string): [number, OptionValue] => [54, ipBytes(ip)],
  vendorClass: (text: string): [number, OptionValue] => [60, text],
  userClass: (text: string): [number, OptionValue] => [77, text],
  arch: (...types: number[]): [number, OptionValue] => [93, types.flatMap((t) => [t >> 8, t & 255])],
  clientNdi: (): [number, OptionValue] => [94, [1, 2, 1]],
  uuid: (bytes: readonly number[]): [number, OptionValue] => [97, [0, ...bytes]],
  parameterRequestList: (...codes: number[]): [number, OptionValue] => [55, codes],
  hostName: (name: string): [number, OptionValue] => [12, name],
};

/**
 * Encodes a client message (BOOTREQUEST, Ethernet, magic cookie, option 53,
 * the given options, END), padded to BOOTP's 300 bytes.
 *
 * @example
 * encodeClientMessage({ type: 1, mac: '52:54:00:12:34:56', options: [clientOption.vendorClass('PXEClient'), clientOption.arch(0)] })
 */
export function encodeClientMessage(message: ClientMessage): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(240);
  header[0] = 1;
  header[1] = 1;
  header[2] = 6;
  header[3] = message.hops ?? 0;
  header.writeUInt32BE((message.xid ?? 0x1234abcd) >>> 0, 4);
  header.writeUInt16BE(message.flags ?? 0, 10);
  Buffer.from(ipBytes(message.ciaddr ?? '0.0.0.0')).copy(header, 12);
  Buffer.from(ipBytes(message.giaddr ?? '0.0.0.0')).copy(header, 24);
  Buffer.from(message.mac.split(':').map((h) => parseInt(h, 16))).copy(header, 28);
  header.writeUInt32BE(0x63825363, 236);
  parts.push(header, Buffer.from([53, 1, message.type]));
  for (const [code, value] of message.options ?? []) {
    const bytes = raw(value);
    parts.push(Buffer.from([code, bytes.length]), bytes);
  }
  parts.push(Buffer.from([255]));
  const packet = Buffer.concat(parts);
  return packet.length >= 300 ? packet : Buffer.concat([packet, Buffer.alloc(300 - packet.length)]);
}

/** A server's reply, read field by field. */
export interface ReplyView {
  op: number;
  messageType: number | null;
  xid: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  mac: string;
  file: string;
  options: Map<number, Buffer>;
  /** Option as an IPv4 address (or the first of a list). */
  ip(code: number): string | null;
  ips(code: number): string[];
  text(code: number): string | null;
  uint32(code: number): number | null;
  bytes(code: number): number[] | null;
}

const ipAt = (buffer: Buffer, offset: number) => [...buffer.subarray(offset, offset + 4)].join('.');
const cString = (buffer: Buffer) => {
  const end = buffer.indexOf(0);
  return buffer.subarray(0, end === -1 ? buffer.length : end).toString('latin1');
};

/** Decodes a reply; throws on anything that is not a well-formed BOOTREPLY (a test wants to know). */
export function decodeReply(buffer: Buffer): ReplyView {
  if (buffer.length < 240 || buffer.readUInt32BE(236) !== 0x63825363) throw new Error(`not a DHCP message (${buffer.length} bytes)`);
  const options = new Map<number, Buffer>();
  for (let i = 240; i < buffer.length;) {
    const code = buffer[i]!;
    if (code === 255) break;
    if (code === 0) { i++; continue; }
    const length = buffer[i + 1];
    if (length === undefined || i + 2 + length > buffer.length) throw new Error(`option ${code} overruns the packet`);
    options.set(code, buffer.subarray(i + 2, i + 2 + length));
    i += 2 + length;
  }
  const get = (code: number) => options.get(code) ?? null;
  return {
    op: buffer[0]!,
    messageType: get(53)?.[0] ?? null,
    xid: buffer.readUInt32BE(4),
    flags: buffer.readUInt16BE(10),
    ciaddr: ipAt(buffer, 12),
    yiaddr: ipAt(buffer, 16),
    siaddr: ipAt(buffer, 20),
    giaddr: ipAt(buffer, 24),
    mac: [...buffer.subarray(28, 34)].map((b) => b.toString(16).padStart(2, '0')).join(':'),
    file: cString(buffer.subarray(108, 236)),
    options,
    ip: (code) => { const value = get(code); return value && value.length >= 4 ? ipAt(value, 0) : null; },
    ips: (code) => { const value = get(code); const out: string[] = []; for (let o = 0; value && o + 4 <= value.length; o += 4) out.push(ipAt(value, o)); return out; },
    text: (code) => get(code)?.toString('latin1') ?? null,
    uint32: (code) => { const value = get(code); return value && value.length === 4 ? value.readUInt32BE(0) : null; },
    bytes: (code) => { const value = get(code); return value ? [...value] : null; },
  };
}
