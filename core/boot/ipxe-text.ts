/**
 * Making values safe to put in an iPXE script.
 *
 * iPXE splits each line on whitespace, expands every `${name}` (an unknown
 * setting becomes empty text, and expansion repeats until none is left),
 * treats a word starting with `#` as the start of a comment and the words
 * `&&`, `||` and `;` as command separators. It has no quoting or escaping, so
 * nothing that reaches a script can be escaped: values that steer the boot
 * (ids, tokens, the MAC, the server URL, kernel arguments) must already be
 * harmless and are refused otherwise; names shown to people are rewritten.
 */
import { DomainFailure, invalid, ok, type Result } from '../shared/result.ts';

const ID = /^[A-Za-z0-9_-]+$/;
const CANONICAL_MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;
// http(s), a host name, IPv4 or bracketed IPv6 literal, an optional port and a plain path.
const BASE_URL = /^https?:\/\/(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?(?:\/[A-Za-z0-9._~/-]*)?$/;
// Printable ASCII without `$`, `{`, `}` (setting expansion), `#` (comments), `&`, `|`, `;` (separators) and `\`.
const UNSAFE_DISPLAY = /[^A-Za-z0-9 .,:_()[\]/+@!?'"*%=<>~^`-]/g;
// A kernel argument word: a narrower set than display text, without spaces.
const KERNEL_WORD = /^[A-Za-z0-9_.,:=/+@%~"'[\]-]+$/;

export const MAX_ID_LENGTH = 128;
export const MAX_TOKEN_LENGTH = 256;
export const MAX_KERNEL_ARGS_LENGTH = 1024;

const refuse = (message: string, field: string): never => {
  throw new DomainFailure({ code: 'validation', message, field });
};

/**
 * Rewrites a name for display in a menu title, menu item or `echo` line:
 * whitespace (newlines included) becomes one space, characters iPXE would
 * act on (`$ { } # & | ; \`) and anything outside printable ASCII become `_`,
 * and long text is cut to `max` characters. Never returns an empty string.
 * Callers always put a fixed word before it, so a leading `-` is never read
 * as an option.
 *
 * @example
 * ipxeDisplayText('lab-01 && shell\n${x}') // 'lab-01 __ shell __x_'
 */
export function ipxeDisplayText(text: string, max = 60): string {
  const cleaned = String(text)
    .replace(/\s+/g, ' ')
    .replace(UNSAFE_DISPLAY, '_')
    .trim();
  if (cleaned === '') return '(no name)';
  return cleaned.length > max ? `${cleaned.slice(0, Math.max(1, max - 3))}...` : cleaned;
}

/**
 * Returns `value` when it is an id fit for an iPXE script (1-128 letters,
 * digits, `_` or `-`); throws a validation `DomainFailure` naming `field`
 * otherwise. Secrets are never quoted back in the message.
 *
 * @example
 * requireIpxeId('task-42', 'taskId') // 'task-42'
 * requireIpxeId('x && shell', 'taskId') // throws
 */
export function requireIpxeId(value: unknown, field: string, options: { secret?: boolean; max?: number } = {}): string {
  const max = options.max ?? MAX_ID_LENGTH;
  const shown = options.secret || typeof value !== 'string' ? '' : ` (got ${JSON.stringify(value.slice(0, 40))})`;
  if (typeof value !== 'string' || value.length === 0 || value.length > max || !ID.test(value)) {
    return refuse(`${field} must be 1-${max} letters, digits, "_" or "-"${shown}`, field);
  }
  return value;
}

/** Returns a MAC in brume's stored form (`aa:bb:cc:dd:ee:ff`, lowercase); throws otherwise. */
export function requireCanonicalMac(value: unknown, field = 'mac'): string {
  if (typeof value !== 'string' || !CANONICAL_MAC.test(value)) {
    return refuse(`${field} must be a lowercase colon-separated MAC address`, field);
  }
  return value;
}

/**
 * Returns the server's base URL when iPXE can use it as is: `http://` or
 * `https://`, a host and optional port, a plain path, no trailing slash.
 *
 * @example
 * requireBaseUrl('http://192.0.2.1:8080') // 'http://192.0.2.1:8080'
 */
export function requireBaseUrl(value: unknown, field = 'baseUrl'): string {
  if (typeof value !== 'string' || !BASE_URL.test(value) || value.endsWith('/')) {
    return refuse(`${field} must be an http(s) URL with no query, spaces or trailing slash, like http://192.0.2.1:8080`, field);
  }
  return value;
}

/**
 * Checks extra kernel arguments an admin set for the boot environment:
 * plain words (letters, digits and `_ . , : = / + @ % ~ " ' [ ] -`) separated
 * by spaces, at most 1024 characters, none starting with `brume.` (those are
 * brume's own, so an admin's words can never override them). Returns them with
 * whitespace collapsed.
 *
 * @example
 * validateKernelArgs(' quiet  console=ttyS0,115200n8 ') // { ok: true, value: 'quiet console=ttyS0,115200n8' }
 */
export function validateKernelArgs(input: unknown, field = 'kernelArgs'): Result<string> {
  if (input === undefined || input === null) return ok('');
  if (typeof input !== 'string') return invalid(`${field} must be text`, field);
  if (/[\u0000-\u001f\u007f]/.test(input)) return invalid(`${field} may not contain line breaks or control characters`, field);
  const words = input.split(' ').filter((word) => word !== '');
  const joined = words.join(' ');
  if (joined.length > MAX_KERNEL_ARGS_LENGTH) return invalid(`${field} is longer than ${MAX_KERNEL_ARGS_LENGTH} characters`, field);
  for (const word of words) {
    if (!KERNEL_WORD.test(word)) {
      return invalid(`${field}: "${word.slice(0, 40)}" may only hold letters, digits and _ . , : = / + @ % ~ " ' [ ] -`, field);
    }
    if (word.toLowerCase().startsWith('brume.')) return invalid(`${field}: "${word.slice(0, 40)}" is reserved for brume`, field);
  }
  return ok(joined);
}
