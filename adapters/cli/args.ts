import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from './cli-context.ts';

/** Options every data command accepts. */
export const COMMON_OPTIONS = {
  as: { type: 'string' },
  reason: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** parseArgs with brume's usage errors instead of Node's TypeError. */
export function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError((error as Error).message.replace(/^TypeError \[\w+\]: /, ''));
  }
}
