import type { BrumeConfig } from './config.ts';

/** Most to least severe, as BRUME_LOG_LEVEL names them. */
const LEVELS = ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

export type LogLine = (level: 'info' | 'warn' | 'error', message: string) => void;

/**
 * brume's own log lines (responders, subscriptions), filtered by the same
 * BRUME_LOG_LEVEL that governs fastify's request log.
 *
 * @example
 * const log = consoleLog('warn');
 * log('info', 'sent ipxe.efi'); // not printed
 */
export function consoleLog(threshold: BrumeConfig['logLevel'], write: (line: string) => void = (line) => console.error(line)): LogLine {
  const shown = LEVELS.indexOf(threshold);
  return (level, message) => {
    if (LEVELS.indexOf(level) <= shown) write(`[${level}] ${message}`);
  };
}
