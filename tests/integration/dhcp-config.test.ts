import { createSocket, type Socket } from 'node:dgram';
import type { NetworkInterfaceInfo } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../adapters/runtime/config.ts';
import { bindToInterface, interfaceIndex } from '../../adapters/dhcp/bind-to-interface.ts';
import { clientOption as opt, decodeReply, encodeClientMessage } from '../support/dhcp-client-messages.ts';
import { DHCP_CONFIG_VARIABLES, dhcpConfigFromEnv, type DhcpConfig, type InterfaceLookup } from '../../adapters/dhcp/dhcp-config.ts';
import { bindFailureMessage, startDhcpServer } from '../../adapters/dhcp/dhcp-server.ts';

const v4 = (address: string, netmask: string): NetworkInterfaceInfo =>
  ({ address, netmask, family: 'IPv4', mac: '52:54:00:00:00:01', internal: false, cidr: null });
const v6 = (): NetworkInterfaceInfo =>
  ({ address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '52:54:00:00:00:01', internal: false, cidr: null, scopeid: 2 });

/** A machine with eth1 on two subnets, eth2 with only IPv6, eth3 with no address at all. */
const machine: InterfaceLookup = {
  addresses: () => ({ eth1: [v4('192.0.2.1', '255.255.255.0'), v4('198.18.0.1', '255.255.0.0'), v6()], eth2: [v6()] }),
  exists: (name) => ['eth1', 'eth2', 'eth3'].includes(name),
};
const read = (env: NodeJS.ProcessEnv) => dhcpConfigFromEnv(env, machine);

describe('DHCP configuration from the environment', () => {
  it('is off by default and reads nothing else then', () => {
    expect(read({})).toMatchObject({ mode: 'off', interfaceName: null, registeredOnly: false, leaseSeconds: 3600, port: 67, proxyPort: 4011, clientPort: 68,
      bootFiles: { bios: 'undionly.kpxe', efi64: 'ipxe.efi', efi32: 'ipxe32.efi', arm64: null } });
    expect(read({ BRUME_DHCP_MODE: 'off', BRUME_DHCP_INTERFACE: 'nope0' }).mode).toBe('off');
  });

  it('takes the server address and netmask from the interface in proxy mode', () => {
    expect(read({ BRUME_DHCP_MODE: 'proxy', BRUME_DHCP_INTERFACE: 'eth1', BRUME_DHCP_REGISTERED_ONLY: 'yes' })).toMatchObject({
      mode: 'proxy', interfaceName: 'eth1', listenAddress: '0.0.0.0', serverAddress: '192.0.2.1', netmask: '255.255.255.0', registeredOnly: true, pool: null,
    });
  });

  it('reads every full-mode variable, serving from the address whose subnet holds the pool', () => {
    const config = read({
      BRUME_DHCP_MODE: 'FULL', BRUME_DHCP_INTERFACE: 'eth1', BRUME_DHCP_POOL: '198.18.1.10 - 198.18.1.200', BRUME_DHCP_ROUTER: '198.18.0.254',
      BRUME_DHCP_DNS: '198.18.0.53, 198.18.0.54', BRUME_DHCP_LEASE_SECONDS: '600', BRUME_DHCP_PORT: '1067', BRUME_DHCP_PROXY_PORT: '5011',
      BRUME_DHCP_CLIENT_PORT: '1068', BRUME_BOOT_FILE_BIOS: 'bios/undionly.kpxe', BRUME_BOOT_FILE_EFI64: 'snponly.efi',
      BRUME_BOOT_FILE_EFI32: 'i386.efi', BRUME_BOOT_FILE_ARM64: 'arm64/snp.efi',
    });
    expect(config).toEqual({
      mode: 'full', interfaceName: 'eth1', listenAddress: '0.0.0.0', serverAddress: '198.18.0.1', netmask: '255.255.0.0', registeredOnly: false,
      pool: { first: '198.18.1.10', last: '198.18.1.200' }, router: '198.18.0.254', dns: ['198.18.0.53', '198.18.0.54'], leaseSeconds: 600,
      port: 1067, proxyPort: 5011, clientPort: 1068,
      bootFiles: { bios: 'bios/undionly.kpxe', efi64: 'snponly.efi', efi32: 'i386.efi', arm64: 'arm64/snp.efi' },
    } satisfies DhcpConfig);
  });

  it.each([
    [{ BRUME_DHCP_MODE: 'auto' }, /BRUME_DHCP_MODE must be off, proxy or full, not "auto"/],
    [{ BRUME_DHCP_MODE: 'proxy' }, /BRUME_DHCP_INTERFACE is required when BRUME_DHCP_MODE is proxy/],
    [{ BRUME_DHCP_MODE: 'proxy', BRUME_DHCP_INTERFACE: 'wlan9' }, /BRUME_DHCP_INTERFACE: there is no interface "wlan9" on this machine \(interfaces with addresses: eth1, eth2\)/],
    [{ BRUME_DHCP_MODE: 'proxy', BRUME_DHCP_INTERFACE: 'eth2' }, /BRUME_DHCP_INTERFACE: interface "eth2" has no IPv4 address/],
    [{ BRUME_DHCP_MODE: 'proxy', BRUME_DHCP_INTERFACE: 'eth3' }, /BRUME_DHCP_INTERFACE: interface "eth3" has no IPv4 address/],
    [{ BRUME_DHCP_MODE: 'proxy', BRUME_DHCP_INTERFACE: '../../etc' }, /BRUME_DHCP_INTERFACE "..\/..\/etc" is not an interface name/],
    [{ BRUME_DHCP_MODE: 'full', BRUME_DHCP_INTERFACE: 'eth1' }, /BRUME_DHCP_POOL is required in full mode/],
    [{ BRUME_DHCP_MODE: 'full', BRUME_DHCP_INTERFACE: 'eth1', BRUME_DHCP_POOL: '192.0.2.10' }, /BRUME_DHCP_POOL must be first-last/],
    [{ BRUME_DHCP_MODE: 'full', BRUME_DHCP_INTERFACE: 'eth1', BRUME_DHCP_POOL: '192.0.2.50-192.0.2.10' }, /BRUME_DHCP_POOL: 192.0.2.50 comes after 192.0.2.10/],
    [{ BRUME_DHCP_MODE: 'full', BRUME_DHCP_INTERFACE: 'eth1', BRUME_DHCP_POOL: '192.0.2.10-192.0.3.10' }, /BRUME_DHCP_POOL 192.0.2.10-192.0.3.10 must be inside 192.0.2.0\/24, the subnet of eth1/],
    [{ BRUME_DHCP_MODE: 'full', BRUME_DHCP_INTERFACE: 'eth1', BRUME_DHCP_POOL: '10.0.0.1-10.0.0.9' }, /must be inside 192.0.2.0\/24/],
    [{ BRUME_DHCP_MODE: 'proxy', BRUME_DHCP_INTERFACE: 'eth1', BRUME_DHCP_ROUTER: 'gateway' }, /BRUME_DHCP_ROUTER must be an IPv4 address/],
    [{ BRUME_DHCP_MODE: 'proxy', BRUME_DHCP_INTERFACE: 'eth1', BRUME_DHCP_DNS: '192.0.2.53,dns.example' }, /BRUME_DHCP_DNS .*"dns.example" is not one/],
    [{ BRUME_DHCP_LEASE_SECONDS: '30' }, /BRUME_DHCP_LEASE_SECONDS must be a number of seconds from 60/],
    [{ BRUME_DHCP_PORT: '70000' }, /BRUME_DHCP_PORT must be a port number from 1 to 65535, not "70000"/],
    [{ BRUME_DHCP_PROXY_PORT: 'x' }, /BRUME_DHCP_PROXY_PORT must be a port number/],
    [{ BRUME_DHCP_CLIENT_PORT: '0' }, /BRUME_DHCP_CLIENT_PORT must be a port number/],
    [{ BRUME_DHCP_MODE: 'proxy', BRUME_DHCP_INTERFACE: 'eth1', BRUME_DHCP_PROXY_PORT: '67' }, /BRUME_DHCP_PROXY_PORT must differ from BRUME_DHCP_PORT/],
    [{ BRUME_DHCP_REGISTERED_ONLY: 'sometimes' }, /BRUME_DHCP_REGISTERED_ONLY must be true or false/],
    [{ BRUME_BOOT_FILE_BIOS: 'undi only.kpxe' }, /BRUME_BOOT_FILE_BIOS must be a file name/],
    [{ BRUME_BOOT_FILE_ARM64: 'x'.repeat(128) }, /BRUME_BOOT_FILE_ARM64 must be a file name of 1 to 127/],
  ])('refuses %o with a message naming the variable', (env, message) => {
    expect(() => read(env)).toThrow(ConfigError);
    expect(() => read(env)).toThrow(message);
  });

  it('documents every variable it reads, in the shape of CONFIG_VARIABLES', () => {
    const names = DHCP_CONFIG_VARIABLES.map(([name]) => name);
    expect(names).toEqual([
      'BRUME_DHCP_MODE', 'BRUME_DHCP_INTERFACE', 'BRUME_DHCP_REGISTERED_ONLY', 'BRUME_DHCP_POOL', 'BRUME_DHCP_ROUTER', 'BRUME_DHCP_DNS',
      'BRUME_DHCP_LEASE_SECONDS', 'BRUME_DHCP_PORT', 'BRUME_DHCP_PROXY_PORT', 'BRUME_DHCP_CLIENT_PORT',
      'BRUME_BOOT_FILE_BIOS', 'BRUME_BOOT_FILE_EFI64', 'BRUME_BOOT_FILE_EFI32', 'BRUME_BOOT_FILE_ARM64',
    ]);
    for (const [, fallback, description] of DHCP_CONFIG_VARIABLES) {
      expect(fallback.length).toBeGreaterThan(0);
      expect(description.length).toBeGreaterThan(10);
    }
  });

  it('reads the real machine: the loopback interface has 127.0.0.1/8', () => {
    expect(dhcpConfigFromEnv({ BRUME_DHCP_MODE: 'proxy', BRUME_DHCP_INTERFACE: 'lo' })).toMatchObject({ serverAddress: '127.0.0.1', netmask: '255.0.0.0' });
    expect(() => dhcpConfigFromEnv({ BRUME_DHCP_MODE: 'proxy', BRUME_DHCP_INTERFACE: 'brumenope0' })).toThrow(/there is no interface "brumenope0"/);
  });
});

const sockets: Socket[] = [];
afterEach(() => { for (const s of sockets.splice(0)) s.close(); });
const bind = (address: string, port = 0) => new Promise<Socket>((resolve, reject) => {
  const socket = createSocket('udp4');
  socket.once('error', reject);
  socket.bind(port, address, () => { sockets.push(socket); resolve(socket); });
});

const loopback = (overrides: Partial<DhcpConfig>): DhcpConfig => ({
  mode: 'proxy', interfaceName: null, listenAddress: '127.0.0.1', serverAddress: '127.0.0.1', netmask: '255.0.0.0', registeredOnly: false,
  pool: null, router: null, dns: [], leaseSeconds: 600, port: 0, proxyPort: 0, clientPort: 68,
  bootFiles: { bios: 'undionly.kpxe', efi32: null, efi64: 'ipxe.efi', arm64: null }, ...overrides,
});
const backend = { hostFor: () => null, observe() {}, observeAddress() {}, noteAddress() {} };
const leases = { load: async () => [], write: async () => {}, close: async () => {} };
const start = (config: DhcpConfig) => startDhcpServer({ config, backend, leases, bootServerAddress: '127.0.0.9', httpBaseUrl: 'http://127.0.0.1:8080' });

describe('binding the DHCP ports', () => {
  it('says which port is taken and that another DHCP server probably holds it (EADDRINUSE)', async () => {
    const taken = await bind('127.0.0.1');
    const port = taken.address().port;
    const failure = start(loopback({ port }));
    await expect(failure).rejects.toThrow(`cannot listen on UDP port ${port} (DHCP): another program is already using it, most likely another DHCP server (dnsmasq`);
    await expect(failure).rejects.toThrow(/Stop it, or set BRUME_DHCP_MODE=off/);
    // The proxy port too, and the DHCP socket opened first is closed again.
    const proxyTaken = await bind('127.0.0.1');
    const dhcpPort = (await bind('127.0.0.1')).address().port;
    sockets.pop()!.close();
    await expect(start(loopback({ port: dhcpPort, proxyPort: proxyTaken.address().port }))).rejects.toThrow(/\(proxyDHCP\): another program is already using it/);
    const again = await bind('127.0.0.1', dhcpPort);
    expect(again.address().port).toBe(dhcpPort);
  });

  it.skipIf(process.getuid?.() === 0)('says port 67 needs root or CAP_NET_BIND_SERVICE when run without (EACCES)', async () => {
    await expect(start(loopback({ port: 67 }))).rejects.toThrow(/cannot listen on UDP port 67 \(DHCP\): permission denied\. Ports below 1024 need root or CAP_NET_BIND_SERVICE/);
  });

  it('words each bind failure with the port, the interface, the cause and what to do', () => {
    const config = loopback({ interfaceName: 'eth1', listenAddress: '0.0.0.0' });
    const error = (code: string) => Object.assign(new Error(`bind ${code}`), { code });
    expect(bindFailureMessage(error('EACCES'), 67, 'DHCP', config)).toMatch(
      /^cannot listen on UDP port 67 \(DHCP\) for eth1: permission denied\. Ports below 1024 need root or CAP_NET_BIND_SERVICE .*setcap .*BRUME_DHCP_MODE=off/);
    expect(bindFailureMessage(error('EADDRINUSE'), 4011, 'proxyDHCP', config)).toMatch(/^cannot listen on UDP port 4011 \(proxyDHCP\) for eth1: another program .*ss -lunp/);
    expect(bindFailureMessage(error('EOTHER'), 67, 'DHCP', config)).toBe('cannot listen on UDP port 67 (DHCP) for eth1: bind EOTHER');
  });

  it('binds its sockets to the named interface (loopback here) and serves through it', async () => {
    expect(interfaceIndex('lo')).toBeGreaterThan(0);
    expect(() => interfaceIndex('brumenope0')).toThrow(/no network interface "brumenope0"/);
    const bare = await bind('127.0.0.1');
    expect(() => bindToInterface(bare, 'brumenope0')).toThrow(/no network interface/);
    const server = await start({ ...dhcpConfigFromEnv({ BRUME_DHCP_MODE: 'proxy', BRUME_DHCP_INTERFACE: 'lo' }), port: 0, proxyPort: 0 });
    try {
      const client = await bind('127.0.0.3');
      const reply = new Promise<Buffer>((resolve) => client.once('message', resolve));
      client.send(encodeClientMessage({ type: 3, mac: '52:54:00:00:00:01', ciaddr: '127.0.0.3', xid: 77, options: [opt.vendorClass('PXEClient'), opt.arch(0)] }),
        server.ports.proxy!, '127.0.0.1');
      expect(decodeReply(await reply)).toMatchObject({ messageType: 5, xid: 77, file: 'undionly.kpxe' });
    } finally {
      await server.close();
    }
  });
});
