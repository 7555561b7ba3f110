import { createRequire } from 'node:module';

/**
 * DHCP packets in and out, through the npm `dhcp` package's parser and
 * formatter, with a byte-level check in front of the parser.
 *
 * The package's quirks, and what this module does about them:
 * - it console.error()s for every option code it does not know: every code
 *   1..254 without a definition is registered as raw bytes, so a hostile
 *   packet can never write to the console;
 * - it throws (RangeError) on truncated input and reads fixed-size types
 *   (UInt8, IP...) without honouring the option's length, so one length lie
 *   shifts every option after it: `checkLayout` walks the options first and
 *   drops truncated packets, and options whose length does not fit their
 *   type are dropped (packet dropped when it is one brume reads);
 * - its pad-option (code 0) handling skips an extra byte: pads are removed
 *   before the bytes reach it;
 * - option overload (52) and RFC 3396 long options are not supported by
 *   it; a repeated option keeps its last value.
 */

const require = createRequire(import.meta.url);

interface OptionDefinition { name: string; type?: string }
interface SeqBufferLike { _data: Buffer; _w: number }
interface ParsedPacket {
  op: number; htype: number; hlen: number; hops: number; xid: number; secs: number; flags: number;
  ciaddr: string; yiaddr: string; siaddr: string; giaddr: string; chaddr: string;
  sname: string; file: string; magicCookie: number; options: Record<number, unknown>;
}
const dhcp = require('dhcp') as { addOption(code: number, definition: OptionDefinition): void };
const protocol = require('dhcp/lib/protocol.js') as {
  parse(buffer: Buffer): ParsedPacket;
  format(packet: Record<string, unknown>): SeqBufferLike;
};
const OPTIONS = (require('dhcp/lib/options.js') as { opts: Record<number, OptionDefinition> }).opts;

/** Option codes brume reads or writes (RFC 2132, RFC 4578, PXE, iPXE). */
export const Option = {
  subnetMask: 1, router: 3, dns: 6, hostName: 12, vendorSpecific: 43, requestedIp: 50, leaseTime: 51,
  messageType: 53, serverId: 54, parameterRequestList: 55, message: 56, maxMessageSize: 57,
  renewalTime: 58, rebindingTime: 59, vendorClass: 60, clientId: 61, tftpServer: 66, bootFile: 67,
  userClass: 77, clientArch: 93, clientNdi: 94, clientUuid: 97, ipxeEncapsulated: 175,
} as const;

export const MessageType = { DISCOVER: 1, OFFER: 2, REQUEST: 3, DECLINE: 4, ACK: 5, NAK: 6, RELEASE: 7, INFORM: 8 } as const;
export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];
export const MESSAGE_NAMES: Record<number, string> = {
  1: 'DHCPDISCOVER', 2: 'DHCPOFFER', 3: 'DHCPREQUEST', 4: 'DHCPDECLINE', 5: 'DHCPACK', 6: 'DHCPNAK', 7: 'DHCPRELEASE', 8: 'DHCPINFORM',
};

let registered = false;
/** Teaches the package the options it lacks, and raw bytes for every other unknown code. Idempotent. */
export function registerDhcpOptions(): void {
  if (registered) return;
  registered = true;
  dhcp.addOption(Option.userClass, { name: 'User Class', type: 'UInt8s' });
  dhcp.addOption(Option.clientArch, { name: 'Client System Architecture', type: 'UInt16s' });
  dhcp.addOption(Option.clientNdi, { name: 'Client Network Device Interface', type: 'UInt8s' });
  dhcp.addOption(Option.clientUuid, { name: 'Client UUID/GUID', type: 'UInt8s' });
  dhcp.addOption(Option.ipxeEncapsulated, { name: 'iPXE Encapsulated Options', type: 'UInt8s' });
  // 61 is binary (type byte + hardware address); ASCII would mangle it.
  dhcp.addOption(Option.clientId, { name: 'Client-Identifier', type: 'UInt8s' });
  for (let code = 1; code <= 254; code++) {
    if (!(code in OPTIONS)) dhcp.addOption(code, { name: `Option ${code}`, type: 'UInt8s' });
  }
}
registerDhcpOptions();

/** Why a packet was dropped before any decision was made. */
export type MalformedReason =
  | 'too-short' | 'not-a-request' | 'unsupported-hardware' | 'no-magic-cookie' | 'truncated-option'
  | 'bad-option-length' | 'no-message-type' | 'not-a-client-message' | 'unparseable';

/** A client's DHCP message, with the options brume uses decoded. */
export interface DhcpRequest {
  messageType: MessageTypeCode;
  xid: number;
  secs: number;
  flags: number;
  hops: number;
  ciaddr: string;
  giaddr: string;
  /** Lowercase, colons. */
  mac: string;
  requestedIp: string | null;
  serverId: string | null;
  vendorClass: string | null;
  userClass: number[] | null;
  arch: number[] | null;
  clientUuid: number[] | null;
  vendorSpecific: number[] | null;
  hostName: string | null;
  parameterRequestList: number[] | null;
}

export type DecodeResult = { ok: true; request: DhcpRequest } | { ok: false; reason: MalformedReason };

const HEADER = 236;
const COOKIE = 0x63825363;
const OPTIONS_START = HEADER + 4;
/** BOOTP's minimum message size (RFC 1542); some PXE ROMs ignore shorter replies. */
const MIN_SIZE = 300;

/** Options brume reads: a wrong length drops the packet instead of the option. */
const READ: ReadonlySet<number> = new Set([Option.messageType, Option.requestedIp, Option.serverId, Option.clientArch, Option.maxMessageSize]);

/** Whether `length` fits the package's type for `code` (a mismatch would shift its reader). */
function lengthFits(code: number, length: number): boolean {
  if (code === Option.clientArch) return length >= 2 && length % 2 === 0;
  switch (OPTIONS[code]?.type) {
    case 'UInt8': case 'Int8': return length === 1;
    case 'UInt16': case 'Int16': return length === 2;
    case 'UInt32': case 'Int32': case 'IP': return length === 4;
    case 'IPs': return length % 4 === 0;
    case 'UInt16s': return length % 2 === 0;
    case 'Bool': return length === 0;
    case 'UInt8s': case 'ASCII': case 'UTF8': return true;
    default: return false;
  }
}

/**
 * Checks the layout and returns the bytes the package can parse safely:
 * header, cookie, the options with pads and misfit options removed, END,
 * zero padding. Everything is bounds-checked here, so nothing the package
 * does later depends on a length a client made up.
 */
function checkLayout(buffer: Buffer): { ok: true; bytes: Buffer } | { ok: false; reason: MalformedReason } {
  if (buffer.length < OPTIONS_START + 3) return { ok: false, reason: 'too-short' };
  if (buffer[0] !== 1) return { ok: false, reason: 'not-a-request' };
  if (buffer[1] !== 1 || buffer[2] !== 6) return { ok: false, reason: 'unsupported-hardware' };
  if (buffer.readUInt32BE(HEADER) !== COOKIE) return { ok: false, reason: 'no-magic-cookie' };
  const kept: Buffer[] = [buffer.subarray(0, OPTIONS_START)];
  let i = OPTIONS_START;
  while (i < buffer.length) {
    const code = buffer[i]!;
    if (code === 255) break;
    if (code === 0) { i++; continue; }
    if (i + 1 >= buffer.length) return { ok: false, reason: 'truncated-option' };
    const length = buffer[i + 1]!;
    const end = i + 2 + length;
    if (end > buffer.length) return { ok: false, reason: 'truncated-option' };
    if (lengthFits(code, length)) kept.push(buffer.subarray(i, end));
    else if (READ.has(code)) return { ok: false, reason: 'bad-option-length' };
    i = end;
  }
  // A missing END is tolerated when the options ran exactly to the end of the datagram.
  const size = kept.reduce((sum, part) => sum + part.length, 0) + 1;
  const bytes = Buffer.alloc(Math.max(size, MIN_SIZE));
  let offset = 0;
  for (const part of kept) offset += part.copy(bytes, offset);
  bytes[offset] = 255;
  return { ok: true, bytes };
}

const bytesOf = (value: unknown): number[] | null => (Array.isArray(value) ? (value as number[]) : null);
const textOf = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const ipOf = (value: unknown): string | null => (typeof value === 'string' && value !== '0.0.0.0' ? value : null);

/**
 * Decodes a datagram received on a DHCP port. Never throws: anything that
 * is not a well-formed client message comes back with the reason.
 *
 * @example
 * const result = decodeRequest(datagram);
 * if (result.ok) console.log(result.request.mac, result.request.messageType);
 */
export function decodeRequest(datagram: Buffer): DecodeResult {
  const layout = checkLayout(datagram);
  if (!layout.ok) return layout;
  let packet: ParsedPacket;
  try {
    packet = protocol.parse(layout.bytes);
  } catch {
    return { ok: false, reason: 'unparseable' };
  }
  const options = packet.options;
  const type = options[Option.messageType];
  if (typeof type !== 'number') return { ok: false, reason: 'no-message-type' };
  if (![1, 3, 4, 7, 8].includes(type)) return { ok: false, reason: 'not-a-client-message' };
  return {
    ok: true,
    request: {
      messageType: type as MessageTypeCode,
      xid: packet.xid,
      secs: packet.secs,
      flags: packet.flags,
      hops: packet.hops,
      ciaddr: packet.ciaddr,
      giaddr: packet.giaddr,
      mac: packet.chaddr.toLowerCase().replaceAll('-', ':'),
      requestedIp: ipOf(options[Option.requestedIp]),
      serverId: ipOf(options[Option.serverId]),
      vendorClass: textOf(options[Option.vendorClass]),
      userClass: bytesOf(options[Option.userClass]),
      arch: bytesOf(options[Option.clientArch]),
      clientUuid: bytesOf(options[Option.clientUuid]),
      vendorSpecific: bytesOf(options[Option.vendorSpecific]),
      hostName: textOf(options[Option.hostName]),
      parameterRequestList: bytesOf(options[Option.parameterRequestList]),
    },
  };
}

/** A reply as brume builds it; `options` values use the package's types (IP strings, numbers, byte arrays, ASCII). */
export interface DhcpReply {
  messageType: MessageTypeCode;
  xid: number;
  flags: number;
  hops: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  mac: string;
  file: string;
  options: Partial<Record<number, string | number | string[] | number[]>>;
}

/** The BOOTP broadcast flag (RFC 1542): the client cannot receive unicast before it has an address. */
export const BROADCAST_FLAG = 0x8000;

/**
 * Encodes a reply. The file field holds 127 bytes and a NUL; a longer name
 * (up to 255 bytes) travels in option 67 instead, which iPXE and UEFI read.
 * Throws for a longer one.
 */
export function encodeReply(reply: DhcpReply): Buffer {
  const options: Record<number, unknown> = { [Option.messageType]: reply.messageType, ...reply.options };
  const fileLength = Buffer.byteLength(reply.file);
  // One option holds 255 bytes; the package would print a warning and cut the name short.
  if (fileLength > 255) throw new Error(`boot file name of ${fileLength} bytes does not fit a DHCP reply (255 at most)`);
  const fileFits = fileLength < 128;
  if (!fileFits) options[Option.bootFile] = reply.file;
  const written = protocol.format({
    op: 2, htype: 1, hlen: 6, hops: reply.hops, xid: reply.xid, secs: 0, flags: reply.flags,
    ciaddr: reply.ciaddr, yiaddr: reply.yiaddr, siaddr: reply.siaddr, giaddr: reply.giaddr,
    chaddr: reply.mac, sname: '', file: fileFits ? reply.file : '', options,
  });
  const bytes = Buffer.alloc(Math.max(written._w, MIN_SIZE));
  written._data.copy(bytes, 0, 0, written._w);
  return bytes;
}

/**
 * Reads the TLV sub-options of option 43 (PXE vendor options). Stops at
 * END or at the first sub-option that overruns, so hostile input yields a
 * partial map, never an exception.
 */
export function readSubOptions(bytes: readonly number[] | null): Map<number, number[]> {
  const found = new Map<number, number[]>();
  if (!bytes) return found;
  for (let i = 0; i < bytes.length;) {
    const code = bytes[i]!;
    if (code === 255) break;
    if (code === 0) { i++; continue; }
    const length = bytes[i + 1];
    if (length === undefined || i + 2 + length > bytes.length) break;
    found.set(code, bytes.slice(i + 2, i + 2 + length));
    i += 2 + length;
  }
  return found;
}
