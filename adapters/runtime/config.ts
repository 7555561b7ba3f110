import { resolve } from 'node:path';

/**
 * Configuration comes from the environment. Every variable is BRUME_-prefixed
 * except DATABASE_URL, which most PostgreSQL tooling already understands.
 */
export interface BrumeConfig {
  httpPort: number;
  httpHost: string;
  /** PGlite's directory when no DATABASE_URL is set. */
  dataDir: string;
  databaseUrl: string | undefined;
  /** Password for the first admin; when unset a random one is printed once. */
  adminPassword: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** How long a login session lasts. */
  sessionTtlSeconds: number;
  /** Behind a TLS-terminating proxy: believe X-Forwarded-* (client address, https for Secure cookies). */
  trustProxy: boolean;
  /** Check every API answer against its response schema and fail loudly on a mismatch (tests, development). */
  strictResponses: boolean;
}

export const CONFIG_VARIABLES = [
  ['BRUME_HTTP_PORT', '8080', 'TCP port of the web UI and HTTP API'],
  ['BRUME_HTTP_HOST', '0.0.0.0', 'address the HTTP server binds'],
  ['BRUME_DATA_DIR', './data', 'embedded database (PGlite) directory, used when DATABASE_URL is unset'],
  ['DATABASE_URL', '(unset)', 'PostgreSQL URL, e.g. postgres://brume@db.example/brume; replaces the embedded database'],
  ['BRUME_ADMIN_PASSWORD', '(unset)', 'password of the first "admin" user; when unset one is generated and printed once'],
  ['BRUME_LOG_LEVEL', 'info', 'fatal, error, warn, info, debug, trace or silent'],
  ['BRUME_SESSION_HOURS', '12', 'how long a login lasts'],
  ['BRUME_TRUST_PROXY', 'false', 'true behind a reverse proxy that sets X-Forwarded-For/-Proto (makes session cookies Secure under https)'],
  ['BRUME_STRICT_RESPONSES', 'false', 'true checks every API answer against its documented schema; a mismatch is a logged 500 (development, tests)'],
] as const;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A true/false variable (also 1/0, yes/no); unset is false. */
function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = (env[name] ?? 'false').toLowerCase();
  if (!['true', 'false', '1', '0', 'yes', 'no'].includes(value)) throw new ConfigError(`${name} must be true or false, not "${env[name]}"`);
  return ['true', '1', 'yes'].includes(value);
}

/** Reads and checks the configuration; a bad value names the variable and what it expects. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): BrumeConfig {
  const port = Number(env.BRUME_HTTP_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`BRUME_HTTP_PORT must be a port number from 0 to 65535, not "${env.BRUME_HTTP_PORT}"`);
  }
  const level = (env.BRUME_LOG_LEVEL ?? 'info') as BrumeConfig['logLevel'];
  if (!LEVELS.includes(level)) throw new ConfigError(`BRUME_LOG_LEVEL must be one of ${LEVELS.join(', ')}, not "${level}"`);
  const hours = Number(env.BRUME_SESSION_HOURS ?? 12);
  if (!(hours > 0 && hours <= 24 * 90)) throw new ConfigError(`BRUME_SESSION_HOURS must be between 0 and 2160, not "${env.BRUME_SESSION_HOURS}"`);
  const url = env.DATABASE_URL?.trim() || undefined;
  if (url && !/^postgres(ql)?:\/\//.test(url)) throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://');
  return {
    trustProxy: flag(env, 'BRUME_TRUST_PROXY'),
    strictResponses: flag(env, 'BRUME_STRICT_RESPONSES'),
    httpPort: port,
    httpHost: env.BRUME_HTTP_HOST ?? '0.0.0.0',
    dataDir: resolve(env.BRUME_DATA_DIR ?? './data'),
    databaseUrl: url,
    adminPassword: env.BRUME_ADMIN_PASSWORD || undefined,
    logLevel: level,
    sessionTtlSeconds: Math.round(hours * 3600),
  };
}
