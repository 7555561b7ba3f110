import { invalid, ok, type Result } from '../shared/result.ts';
import type { HostMac, MacRole } from './host.ts';
import { parseMac } from './mac-address.ts';
export { validateOptionalId, validateText } from '../shared/validate.ts';

/** FOG allows at most four MACs waiting for approval on one host. */
export const MAX_PENDING_MACS = 4;

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/**
 * Host names double as DNS labels and Windows computer names, so they follow
 * RFC 1123 label rules: 1-63 letters, digits or hyphens, no hyphen at either end.
 */
export function validateHostName(input: unknown, field = 'name'): Result<string> {
  if (typeof input !== 'string' || input.trim() === '') return invalid('a host needs a name', field);
  const name = input.trim();
  if (name.length > 63) return invalid(`host name "${name.slice(0, 70)}" is longer than 63 characters`, field);
  if (!DNS_LABEL.test(name)) {
    return invalid(
      `host name "${name}" may only hold letters, digits and hyphens, and may not start or end with a hyphen`,
      field,
    );
  }
  return ok(name);
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function validateIp(input: unknown, field = 'ip'): Result<string | null> {
  if (input === null || input === undefined || input === '') return ok(null);
  if (typeof input !== 'string' || !IPV4.test(input.trim())) {
    return invalid(`"${String(input).slice(0, 40)}" is not an IPv4 address such as 192.0.2.10`, field);
  }
  return ok(input.trim());
}

/** What a caller may send for a MAC: a bare string (role chosen for it) or a full entry. */
export type MacInput = string | { mac: string; role?: MacRole; ignoreForImaging?: boolean };

/**
 * Normalises a host's MAC list: every MAC parsed, no duplicates, exactly one
 * primary (when none is marked, the first MAC given without a role), at most
 * four pending; MACs without a role are additional.
 */
export function validateMacs(inputs: unknown, field = 'macs'): Result<HostMac[]> {
  if (!Array.isArray(inputs) || inputs.length === 0) return invalid('a host needs at least one MAC address', field);
  const macs: HostMac[] = [];
  const unmarked: boolean[] = [];
  for (const [i, input] of inputs.entries()) {
    const entry = typeof input === 'string' ? { mac: input } : (input as Record<string, unknown> | null);
    if (!entry || typeof entry.mac !== 'string') return invalid('each MAC entry needs a "mac" string', `${field}[${i}]`);
    const parsed = parseMac(entry.mac, `${field}[${i}]`);
    if (!parsed.ok) return parsed;
    if (macs.some((m) => m.mac === parsed.value)) {
      return invalid(`MAC ${parsed.value} is listed twice`, `${field}[${i}]`);
    }
    const role = entry.role ?? 'additional';
    if (role !== 'primary' && role !== 'additional' && role !== 'pending') {
      return invalid(`MAC role must be primary, additional or pending, not "${String(role)}"`, `${field}[${i}].role`);
    }
    macs.push({ mac: parsed.value, role, ignoreForImaging: entry.ignoreForImaging === true });
    unmarked.push(entry.role === undefined);
  }
  const primaries = macs.filter((m) => m.role === 'primary').length;
  // With no primary named, the first MAC given without a role becomes it (the first of all, failing that).
  if (primaries === 0) macs[Math.max(0, unmarked.indexOf(true))]!.role = 'primary';
  if (primaries > 1) return invalid('a host has exactly one primary MAC', field);
  if (macs.filter((m) => m.role === 'pending').length > MAX_PENDING_MACS) {
    return invalid(`a host may have at most ${MAX_PENDING_MACS} pending MACs`, field);
  }
  return ok(macs);
}

