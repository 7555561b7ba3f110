import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError } from '../../../adapters/runtime/config.ts';
import { WOL_CONFIG_VARIABLES, wolConfigFromEnv } from '../../../adapters/wake-on-lan/wol-config.ts';

describe('Wake-on-LAN configuration', () => {
  it('given nothing, has no subnets, no default targets and port 9', () => {
    expect(wolConfigFromEnv({})).toEqual({ subnets: [], defaultTargets: [], port: 9 });
  });

  it('reads subnets with their directed broadcast addresses, default targets and the port', () => {
    expect(wolConfigFromEnv({
      BRUME_WOL_SUBNETS: ' 192.0.2.0/24 , 198.51.100.0/24=198.51.100.255+203.0.113.255 ,198.18.0.0/15 = 198.18.0.255 + 198.18.0.255,',
      BRUME_WOL_DEFAULT_TARGETS: '255.255.255.255, 192.0.2.255',
      BRUME_WOL_PORT: '7',
    })).toEqual({
      subnets: [
        { network: '192.0.2.0', prefix: 24, directed: [] },
        { network: '198.51.100.0', prefix: 24, directed: ['198.51.100.255', '203.0.113.255'] },
        { network: '198.18.0.0', prefix: 15, directed: ['198.18.0.255'] },
      ],
      defaultTargets: ['255.255.255.255', '192.0.2.255'],
      port: 7,
    });
  });

  it.each([
    [{ BRUME_WOL_SUBNETS: '192.0.2.7/24' }, /^BRUME_WOL_SUBNETS entry "192.0.2.7\/24": "192.0.2.7\/24" has host bits set; its network is 192.0.2.0\/24; write CIDR/],
    [{ BRUME_WOL_SUBNETS: '192.0.2.0' }, /^BRUME_WOL_SUBNETS entry "192.0.2.0": "192.0.2.0" is not a subnet such as 192.0.2.0\/24/],
    [{ BRUME_WOL_SUBNETS: '192.0.2.0/32' }, /^BRUME_WOL_SUBNETS entry .* has no broadcast address/],
    [{ BRUME_WOL_SUBNETS: '192.0.2.0/24=192.0.2.256' }, /^BRUME_WOL_SUBNETS entry "192.0.2.0\/24=192.0.2.256": "192.0.2.256" is not an IPv4 address to send to/],
    [{ BRUME_WOL_SUBNETS: '192.0.2.0/24=' }, /^BRUME_WOL_SUBNETS entry "192.0.2.0\/24=": "" is not an IPv4 address/],
    [{ BRUME_WOL_SUBNETS: '192.0.2.0/24=198.18.0.255++198.18.1.255' }, /^BRUME_WOL_SUBNETS entry .*"" is not an IPv4 address/],
    [{ BRUME_WOL_SUBNETS: '192.0.2.0/24=0.0.0.0' }, /^BRUME_WOL_SUBNETS entry .*"0.0.0.0" is not an IPv4 address to send to/],
    [{ BRUME_WOL_SUBNETS: '192.0.2.0/24=198.18.0.255=198.18.1.255' }, /^BRUME_WOL_SUBNETS entry .* has more than one "="/],
    [{ BRUME_WOL_SUBNETS: '192.0.2.0/24;198.18.0.0/15' }, /^BRUME_WOL_SUBNETS entry "192.0.2.0\/24;198.18.0.0\/15"/],
    [{ BRUME_WOL_SUBNETS: '192.0.2.0/24,192.0.2.0/24=198.18.0.255' }, /^BRUME_WOL_SUBNETS lists 192.0.2.0\/24 twice/],
    [{ BRUME_WOL_DEFAULT_TARGETS: '255.255.255.255,broadcast' }, /^BRUME_WOL_DEFAULT_TARGETS must list IPv4 addresses .*, not "broadcast"/],
    [{ BRUME_WOL_DEFAULT_TARGETS: '0.0.0.0' }, /^BRUME_WOL_DEFAULT_TARGETS must list IPv4 addresses/],
    [{ BRUME_WOL_PORT: '0' }, /^BRUME_WOL_PORT must be a UDP port number from 1 to 65535, not "0"/],
    [{ BRUME_WOL_PORT: '65536' }, /^BRUME_WOL_PORT must be/],
    [{ BRUME_WOL_PORT: '9.5' }, /^BRUME_WOL_PORT must be/],
    [{ BRUME_WOL_PORT: 'wol' }, /^BRUME_WOL_PORT must be/],
  ])('given %o, refuses with a ConfigError naming the variable', (env, message) => {
    expect(() => wolConfigFromEnv(env)).toThrow(ConfigError);
    expect(() => wolConfigFromEnv(env)).toThrow(message);
  });

  it('documents each variable it reads, in the shape of the other configuration variables', () => {
    expect(WOL_CONFIG_VARIABLES.map(([name]) => name)).toEqual(['BRUME_WOL_SUBNETS', 'BRUME_WOL_DEFAULT_TARGETS', 'BRUME_WOL_PORT']);
    for (const entry of WOL_CONFIG_VARIABLES) expect(entry).toHaveLength(CONFIG_VARIABLES[0].length);
    expect(WOL_CONFIG_VARIABLES.find(([name]) => name === 'BRUME_WOL_PORT')![1]).toBe(String(wolConfigFromEnv({}).port));
  });
});
