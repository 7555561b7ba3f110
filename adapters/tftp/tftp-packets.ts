import { createRequire } from 'node:module';

/*
 * TFTP packets. Requests are parsed and checked by the npm `tftp` package's
 * own codec (mode, RFC 2347-2349/7440 option values, error codes); this
 * module adds what that codec drops or lacks: the transfer mode, the raw
 * file name (the codec path.normalize()s it; here BootFiles alone decides
 * what a name means, for TFTP and HTTP alike), the `timeout`
 * option (it skips it), option names in any case (RFC 2347 says they are
 * case-insensitive; it matches lowercase only), trailing NUL padding, and
 * leniency: an option value brume cannot use is lowered or left out, where
 * the codec would refuse the whole request (see splitStrings).
 */

const require = createRequire(import.meta.url);

/** An error as the `tftp` package describes one: code 0-8 (RFC 1350 + 2347), or 0 with its own message. */
interface LibError { code: number; name: string | null; message: string }
interface LibRequest {
  file: string;
  extensions: { blksize?: number; tsize?: number; windowsize?: number; rollover?: number } | null;
  userExtensions: Record<string, string>;
}

const rrqCodec = require('tftp/lib/protocol/packets/rrq.js') as { deserialize(buffer: Buffer): LibRequest };
const errorCodec = require('tftp/lib/protocol/packets/error.js') as {
  serialize(error: { code: number; message: string }): Buffer;
  deserialize(buffer: Buffer): { code: number; message: string };
};
const oackCodec = require('tftp/lib/protocol/packets/oack.js') as { serialize(options: Record<string, string>): Buffer };
const readString = require('tftp/lib/protocol/packets/read-string.js') as (buffer: Buffer, cursor: { offset: number }) => string;
const libErrors = require('tftp/lib/protocol/errors.js') as Record<
  'ENOENT' | 'EACCESS' | 'EBADOP' | 'ETID' | 'EDENY' | 'EBADMSG' | 'EBADMODE', LibError>;

export const OPCODE = require('tftp/lib/protocol/opcodes.js') as { RRQ: 1; WRQ: 2; DATA: 3; ACK: 4; ERROR: 5; OACK: 6 };

/** RFC 1350 error codes, from the `tftp` package's table. */
export const ERROR_CODE = {
  undefined: 0,
  notFound: libErrors.ENOENT.code,
  accessViolation: libErrors.EACCESS.code,
  illegalOperation: libErrors.EBADOP.code,
  unknownTid: libErrors.ETID.code,
} as const;

/** What a client asked for in an RRQ, checked. Absent options were not requested. */
export interface ReadRequest {
  kind: 'read';
  /** As sent; BootFiles normalises it. */
  file: string;
  mode: 'octet' | 'netascii';
  blksize?: number;
  tsize?: true;
  windowsize?: number;
  /** Seconds, 1-255 (RFC 2349); an out-of-range value is ignored, not refused, as the option is advisory. */
  timeout?: number;
}

export type ParsedRequest =
  | ReadRequest
  | { kind: 'write'; file: string }
  /** A request to answer with an ERROR packet. */
  | { kind: 'refuse'; code: number; message: string }
  /** Not a request at all: count it and drop it. */
  | { kind: 'drop'; reason: string };

/**
 * Parses a packet that arrived on the server's well-known port.
 *
 * @example
 * parseRequest(Buffer.from('\0\x01pxelinux.0\0octet\0blksize\x001432\0tsize\x000\0', 'latin1'))
 * // { kind: 'read', file: 'pxelinux.0', mode: 'octet', blksize: 1432, tsize: true }
 */
export function parseRequest(packet: Buffer): ParsedRequest {
  if (packet.length < 2) return { kind: 'drop', reason: 'shorter than an opcode' };
  const opcode = packet.readUInt16BE(0);
  if (opcode !== OPCODE.RRQ && opcode !== OPCODE.WRQ) return { kind: 'drop', reason: `opcode ${opcode} on the request port` };
  const strings = splitStrings(packet);
  if (!strings) return { kind: 'refuse', code: ERROR_CODE.illegalOperation, message: 'malformed request: a field is not NUL-terminated or an option has no value' };
  const [file = '', mode = ''] = strings.values;
  if (opcode === OPCODE.WRQ) return { kind: 'write', file };
  if (strings.values.length < 2) return { kind: 'refuse', code: ERROR_CODE.illegalOperation, message: 'malformed request: no transfer mode' };
  // TFTP names are netascii; bytes above 127 would name no file once decoded, so say so.
  if (/[^\x00-\x7f]/.test(file)) return { kind: 'refuse', code: ERROR_CODE.accessViolation, message: 'file names must be ASCII' };

  let parsed: LibRequest;
  try {
    parsed = rrqCodec.deserialize(strings.canonical);
  } catch (error) {
    return refusal(error as LibError);
  }
  const lowerMode = mode.toLowerCase();
  if (lowerMode !== 'octet' && lowerMode !== 'netascii') {
    return { kind: 'refuse', code: ERROR_CODE.illegalOperation, message: `transfer mode "${lowerMode}" is not supported; use octet` };
  }
  const request: ReadRequest = { kind: 'read', file, mode: lowerMode };
  const ext = parsed.extensions;
  if (ext?.blksize !== undefined) request.blksize = ext.blksize;
  if (ext?.tsize !== undefined) request.tsize = true;
  if (ext?.windowsize !== undefined) request.windowsize = ext.windowsize;
  const timeout = strings.options.get('timeout');
  if (timeout !== undefined && /^\d{1,3}$/.test(timeout) && Number(timeout) >= 1 && Number(timeout) <= 255) request.timeout = Number(timeout);
  return request;
}

/**
 * The packet's NUL-terminated strings, and a copy fit for the `tftp` codec.
 * Null when a string is not terminated or an option has no value.
 *
 * The copy is lenient where the codec is strict, as tftpd-hpa is and RFC
 * 2347 allows (a server may ignore an option, and answer a smaller blksize or
 * windowsize): option names are lowercased, a blksize or windowsize above the
 * protocol maximum is lowered to it, one below the minimum or not a number is
 * dropped (the default applies), and any tsize value asks for the size
 * (atftp sends "tsize enable"). Trailing NUL padding (some ROMs) is ignored.
 */
function splitStrings(packet: Buffer): { values: string[]; options: Map<string, string>; canonical: Buffer } | null {
  let end = packet.length;
  while (end > 3 && packet[end - 1] === 0 && packet[end - 2] === 0) end--;
  const body = packet.subarray(0, end);
  const values: string[] = [];
  const cursor = { offset: 2 };
  try {
    while (cursor.offset < body.length) values.push(readString(body, cursor));
  } catch {
    return null;
  }
  if (values.length > 2 && values.length % 2 === 1) return null;
  const options = new Map<string, string>();
  for (let i = 2; i + 1 < values.length; i += 2) options.set(values[i]!.toLowerCase(), values[i + 1]!);
  const kept: string[] = [];
  for (const [name, value] of options) {
    const usable = usableOption(name, value);
    if (usable !== null) kept.push(name, usable);
  }
  // The name is BootFiles' business (one policy for TFTP and HTTP), so the codec gets a placeholder.
  const fields = ['name', values[1] ?? '', ...kept];
  const canonical = Buffer.concat([packet.subarray(0, 2), ...fields.map((f) => Buffer.from(`${f}\0`, 'latin1'))]);
  return { values, options, canonical };
}

const OPTION_LIMITS: Record<string, [number, number]> = { blksize: [8, 65464], windowsize: [1, 65535] };

/** The value to hand the codec for an option, or null to leave the option out. */
function usableOption(name: string, value: string): string | null {
  if (name === 'tsize') return '0';
  if (name === 'rollover' || name === 'timeout') return null; // brume always wraps to 0; timeout is read separately
  const limits = OPTION_LIMITS[name];
  if (!limits) return value;
  if (!/^\d{1,9}$/.test(value) || Number(value) < limits[0]) return null;
  return String(Math.min(Number(value), limits[1]));
}

function refusal(error: LibError): ParsedRequest {
  switch (error.name) {
    case 'EBADMODE': return { kind: 'refuse', code: ERROR_CODE.illegalOperation, message: 'unknown transfer mode; use octet' };
    case 'EDENY': return { kind: 'refuse', code: libErrors.EDENY.code, message: 'an option value is out of range (RFC 2347-2349, 7440)' };
    case 'EBADMSG': return { kind: 'refuse', code: ERROR_CODE.illegalOperation, message: 'malformed request' };
    default: return { kind: 'refuse', code: ERROR_CODE.illegalOperation, message: `malformed request: ${String(error.message ?? error)}` };
  }
}

/** An ERROR packet. The message is cut to printable ASCII and 200 characters so the packet stays small. */
export function errorPacket(code: number, message: string): Buffer {
  const clean = message.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
  return errorCodec.serialize({ code, message: clean });
}

/** Reads an ERROR packet's code and message, or null if it is malformed. */
export function parseError(packet: Buffer): { code: number; message: string } | null {
  if (packet.length < 4) return null;
  try {
    return errorCodec.deserialize(packet);
  } catch {
    return { code: packet.readUInt16BE(2), message: '' };
  }
}

/** An OACK packet for the options the server accepted (RFC 2347). */
export function oackPacket(options: Record<string, string>): Buffer {
  return oackCodec.serialize(options);
}

/**
 * The netascii form of a file (RFC 764, as RFC 1350 asks): LF -> CR LF and
 * CR -> CR NUL, so a client converting back gets the original bytes, CR LF
 * files included. brume converts rather than refuses: old clients default to
 * netascii and the cost is one pass per file, cached by the caller.
 */
export function toNetascii(data: Buffer): Buffer {
  let extra = 0;
  for (let i = 0; i < data.length; i++) if (data[i] === 0x0a || data[i] === 0x0d) extra++;
  if (extra === 0) return data;
  const out = Buffer.allocUnsafe(data.length + extra);
  let o = 0;
  for (let i = 0; i < data.length; i++) {
    const byte = data[i]!;
    if (byte === 0x0a) { out[o++] = 0x0d; out[o++] = 0x0a; } else if (byte === 0x0d) { out[o++] = 0x0d; out[o++] = 0x00; } else out[o++] = byte;
  }
  return out;
}
