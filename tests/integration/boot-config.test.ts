import { describe, expect, it } from 'vitest';
import { bootConfigFromEnv } from '../../adapters/boot/boot-config.ts';
import { ConfigError } from '../../adapters/runtime/config.ts';

const http = { httpHost: '0.0.0.0', httpPort: 8080 };

describe('boot settings from the environment', () => {
  it('given explicit values, when read, then the URL follows the address unless it is set itself', () => {
    expect(bootConfigFromEnv({ BRUME_BOOT_SERVER_ADDRESS: '192.0.2.1' }, http)).toEqual({
      serverAddress: '192.0.2.1', httpBaseUrl: 'http://192.0.2.1:8080', menuTimeoutSeconds: 5, menuHidden: false, kernelArgs: '',
    });
    expect(bootConfigFromEnv({
      BRUME_BOOT_SERVER_ADDRESS: '192.0.2.1', BRUME_BOOT_HTTP_URL: 'https://boot.example/brume/', BRUME_BOOT_MENU_TIMEOUT: '0',
      BRUME_BOOT_MENU_HIDDEN: 'YES', BRUME_BOOT_KERNEL_ARGS: ' nomodeset ',
    }, http)).toEqual({
      serverAddress: '192.0.2.1', httpBaseUrl: 'https://boot.example/brume', menuTimeoutSeconds: 0, menuHidden: true, kernelArgs: 'nomodeset',
    });
  });

  it('given no address, when the HTTP server binds one address, then that is the boot address', () => {
    expect(bootConfigFromEnv({}, { httpHost: '127.0.0.1', httpPort: 9000 }).httpBaseUrl).toBe('http://127.0.0.1:9000');
  });

  it.each([
    [{ BRUME_BOOT_SERVER_ADDRESS: 'boot.example' }, /BRUME_BOOT_SERVER_ADDRESS must be an IPv4 address/],
    [{ BRUME_BOOT_HTTP_URL: 'ftp://x' }, /BRUME_BOOT_HTTP_URL must be an http:\/\/ or https:\/\/ URL/],
    [{ BRUME_BOOT_MENU_TIMEOUT: '2.5' }, /BRUME_BOOT_MENU_TIMEOUT must be a whole number of seconds from 0 to 3600, not "2.5"/],
    [{ BRUME_BOOT_MENU_TIMEOUT: '3601' }, /BRUME_BOOT_MENU_TIMEOUT must be a whole number of seconds from 0 to 3600/],
    [{ BRUME_BOOT_MENU_HIDDEN: 'maybe' }, /BRUME_BOOT_MENU_HIDDEN must be true or false, not "maybe"/],
    [{ BRUME_BOOT_KERNEL_ARGS: 'a=${x}' }, /BRUME_BOOT_KERNEL_ARGS must be one line without "\$"/],
  ])('given %o, when read, then a ConfigError names the variable', (env, message) => {
    expect(() => bootConfigFromEnv(env, http)).toThrow(ConfigError);
    expect(() => bootConfigFromEnv(env, http)).toThrow(message);
  });
});
