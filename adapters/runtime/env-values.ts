import { ConfigError } from './config.ts';

/**
 * A whole number from an environment variable, or the fallback when unset;
 * anything else (a fraction, a word, out of range) is a ConfigError naming
 * the variable and the range.
 *
 * @example
 * integerVar(process.env, 'BRUME_TFTP_PORT', 69, 0, 65535, 'a port number') // 69
 */
export function integerVar(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, what: string): number {
  const text = env[name]?.trim();
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new ConfigError(`${name} must be ${what} from ${min} to ${max}, not "${env[name]}"`);
  }
  return value;
}

/** true/1/yes or false/0/no (any case) from an environment variable, or the fallback when unset. */
export function booleanVar(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const text = env[name]?.trim().toLowerCase();
  if (text === undefined || text === '') return fallback;
  if (['true', '1', 'yes'].includes(text)) return true;
  if (['false', '0', 'no'].includes(text)) return false;
  throw new ConfigError(`${name} must be true or false, not "${env[name]}"`);
}
