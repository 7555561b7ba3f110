import { parseMac } from '../hosts/mac-address.ts';

/** 6 bytes of 0xFF, then the MAC 16 times. */
export const MAGIC_PACKET_LENGTH = 6 + 16 * 6;
/** With a SecureOn password, which some NICs require after the 16 MACs. */
export const MAGIC_PACKET_WITH_PASSWORD_LENGTH = MAGIC_PACKET_LENGTH + 6;

const SIX_HEX_BYTES = /^[0-9a-f]{2}([:-]?)[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}$/i;

/**
 * Reads a SecureOn password: six bytes written like a MAC
 * (`01:02:03:04:05:06`, `01-02-...`, `010203040506`). Unlike a MAC, any six
 * bytes are allowed. Throws a RangeError on anything else.
 */
export function parseSecureOn(password: string | Uint8Array): Uint8Array {
  if (password instanceof Uint8Array) {
    if (password.length !== 6) throw new RangeError(`a SecureOn password is 6 bytes, not ${password.length}`);
    return password;
  }
  const text = password.trim();
  if (!SIX_HEX_BYTES.test(text)) throw new RangeError(`"${text.slice(0, 40)}" is not a SecureOn password; write 6 bytes like 01:02:03:04:05:06`);
  return Uint8Array.from(text.replace(/[:-]/g, '').match(/../g)!.map((h) => parseInt(h, 16)));
}

/**
 * The Wake-on-LAN magic packet for one MAC: six 0xFF bytes, then the MAC
 * sixteen times (102 bytes), and the six-byte SecureOn password when one is
 * given (108 bytes). The MAC may be in any form `parseMac` reads; a bad MAC
 * or password throws a RangeError, since host MACs are checked when stored.
 *
 * @example
 * magicPacket('52:54:00:12:34:56').length            // 102
 * magicPacket('52:54:00:12:34:56', 'a1:b2:c3:d4:e5:f6') // 108 bytes, password last
 */
export function magicPacket(mac: string, secureOn?: string | Uint8Array): Uint8Array {
  const parsed = parseMac(mac);
  if (!parsed.ok) throw new RangeError(parsed.error.message);
  const macBytes = parsed.value.split(':').map((h) => parseInt(h, 16));
  const password = secureOn === undefined ? undefined : parseSecureOn(secureOn);
  const packet = new Uint8Array(password ? MAGIC_PACKET_WITH_PASSWORD_LENGTH : MAGIC_PACKET_LENGTH);
  packet.fill(0xff, 0, 6);
  for (let i = 0; i < 16; i++) packet.set(macBytes, 6 + i * 6);
  if (password) packet.set(password, MAGIC_PACKET_LENGTH);
  return packet;
}
