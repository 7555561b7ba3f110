import { invalid, ok, type Result } from '../shared/result.ts';

const SEPARATED = /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i;
const BARE = /^[0-9a-f]{12}$/i;
const DOTTED = /^([0-9a-f]{4})\.([0-9a-f]{4})\.([0-9a-f]{4})$/i;

/**
 * Reads a MAC address in any of the four forms FOG admins paste
 * (`aa:bb:cc:dd:ee:ff`, `aa-bb-cc-dd-ee-ff`, `aabbccddeeff`, `aabb.ccdd.eeff`)
 * and returns it lowercase with colons.
 *
 * @example
 * parseMac('00-C0-4F-18-62-63') // { ok: true, value: '00:c0:4f:18:62:63' }
 */
export function parseMac(input: string, field = 'mac'): Result<string> {
  const text = typeof input === 'string' ? input.trim() : '';
  let hex: string | undefined;
  const separated = SEPARATED.exec(text);
  if (separated) hex = [1, 3, 4, 5, 6, 7].map((i) => separated[i]).join('');
  else if (BARE.test(text)) hex = text;
  else {
    const dotted = DOTTED.exec(text);
    if (dotted) hex = `${dotted[1]}${dotted[2]}${dotted[3]}`;
  }
  if (hex === undefined) {
    return invalid(
      `"${text.slice(0, 40)}" is not a MAC address; use aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabbccddeeff or aabb.ccdd.eeff`,
      field,
    );
  }
  const lower = hex.toLowerCase();
  if (lower === '000000000000' || lower === 'ffffffffffff') {
    return invalid(`${formatMac(lower)} is not a usable host MAC address`, field);
  }
  // Bit 0 of the first octet marks multicast addresses, which no NIC boots from.
  if ((parseInt(lower.slice(0, 2), 16) & 1) === 1) {
    return invalid(`${formatMac(lower)} is a multicast address, not a network card's MAC`, field);
  }
  return ok(formatMac(lower));
}

const formatMac = (hex12: string): string => hex12.match(/../g)!.join(':');
