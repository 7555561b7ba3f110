import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv } from '../../adapters/runtime/config.ts';
import { consoleLog } from '../../adapters/runtime/console-log.ts';

describe('configuration from the environment', () => {
  it('has defaults a fresh machine can run with', () => {
    expect(configFromEnv({})).toMatchObject({
      httpPort: 8080, httpHost: '0.0.0.0', dataDir: resolve('./data'), databaseUrl: undefined,
      adminPassword: undefined, logLevel: 'info', sessionTtlSeconds: 12 * 3600, trustProxy: false, strictResponses: false,
    });
  });

  it('reads every variable', () => {
    const config = configFromEnv({
      BRUME_HTTP_PORT: '9000', BRUME_HTTP_HOST: '127.0.0.1', BRUME_DATA_DIR: '/tmp/x', DATABASE_URL: 'postgres://u@h/db',
      BRUME_ADMIN_PASSWORD: 'secret secret', BRUME_LOG_LEVEL: 'warn', BRUME_SESSION_HOURS: '1.5', BRUME_TRUST_PROXY: 'yes',
      BRUME_STRICT_RESPONSES: '1',
    });
    expect(config).toMatchObject({
      httpPort: 9000, httpHost: '127.0.0.1', dataDir: '/tmp/x', databaseUrl: 'postgres://u@h/db',
      adminPassword: 'secret secret', logLevel: 'warn', sessionTtlSeconds: 5400, trustProxy: true, strictResponses: true,
    });
  });

  it.each([
    [{ BRUME_HTTP_PORT: '99999' }, /BRUME_HTTP_PORT must be a port number from 0 to 65535, not "99999"/],
    [{ BRUME_HTTP_PORT: 'http' }, /BRUME_HTTP_PORT/],
    [{ BRUME_LOG_LEVEL: 'loud' }, /BRUME_LOG_LEVEL must be one of/],
    [{ BRUME_SESSION_HOURS: '0' }, /BRUME_SESSION_HOURS/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must start with postgres:\/\//],
    [{ BRUME_TRUST_PROXY: 'maybe' }, /BRUME_TRUST_PROXY must be true or false/],
    [{ BRUME_STRICT_RESPONSES: 'on' }, /BRUME_STRICT_RESPONSES must be true or false/],
  ])('refuses %o with a message naming the variable', (env, message) => {
    expect(() => configFromEnv(env)).toThrow(ConfigError);
    expect(() => configFromEnv(env)).toThrow(message);
  });
});

describe('brume\'s own log lines', () => {
  it('given a log level, when lines of each severity are logged, then only those at or above it are written', () => {
    const lines: string[] = [];
    const atWarn = consoleLog('warn', (line) => lines.push(line));
    atWarn('info', 'sent ipxe.efi');
    atWarn('warn', 'boot files missing');
    atWarn('error', 'read models: gone');
    expect(lines).toEqual(['[warn] boot files missing', '[error] read models: gone']);
    const silent: string[] = [];
    consoleLog('silent', (line) => silent.push(line))('error', 'x');
    expect(silent).toEqual([]);
    const all: string[] = [];
    consoleLog('debug', (line) => all.push(line))('info', 'y');
    expect(all).toEqual(['[info] y']);
  });
});
