import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lan } from './support/lan.ts';
import { captureOutput, connect, NetNamespace, sh, stopProcess, waitUntil } from './support/netns.ts';

/**
 * brume's DHCP responder against real clients, each side in its own network
 * namespace (192.0.2.0/24 inside them, nothing reaches the host's network):
 *
 * - full mode: ISC dhclient (DORA, release, INIT-REBOOT after a restart of
 *   brume on the same lease database), busybox udhcpc (a registered host's
 *   reservation, PXE boot information) and nmap's broadcast-dhcp-discover;
 * - proxy mode on a LAN (a bridge joining three namespaces) where dnsmasq is
 *   the site's DHCP server: a PXE ROM's conversation gets its address from
 *   dnsmasq and its boot file from brume (port 67 offer, port 4011 ACK),
 *   while ordinary clients (udhcpc, nmap) are left to dnsmasq.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const RUNNER = 'tests/e2e/support/dhcp-runner.ts';
const created = { namespaces: [] as string[], pids: [] as number[] };

type Event = Record<string, any>;

/** brume's DHCP server running in a namespace through dhcp-runner.ts, read through its JSON lines. */
class DhcpRunner {
  readonly events: Event[] = [];
  private pending = '';
  private constructor(readonly child: ChildProcess, readonly output: { text(): string }) {
    child.stdout?.on('data', (chunk: Buffer) => {
      this.pending += chunk.toString();
      const lines = this.pending.split('\n');
      this.pending = lines.pop() ?? '';
      for (const line of lines) { try { this.events.push(JSON.parse(line) as Event); } catch { /* not a report line */ } }
    });
  }

  static async start(ns: NetNamespace, env: Record<string, string>): Promise<DhcpRunner> {
    const child = ns.spawn('node', ['--import', 'tsx', RUNNER, 'server'], { cwd: ROOT, env: { ...process.env, ...env } });
    created.pids.push(child.pid!);
    const runner = new DhcpRunner(child, captureOutput(child));
    await waitUntil('the DHCP runner to start', () => runner.has('ready') || runner.has('error') || child.exitCode !== null, 90_000);
    if (!runner.has('ready')) throw new Error(`brume's DHCP runner did not start:\n${runner.output.text()}`);
    return runner;
  }

  has(event: string): boolean { return this.events.some((e) => e.event === event); }
  of(event: string): Event[] { return this.events.filter((e) => e.event === event); }

  async stats(): Promise<Event> {
    const before = this.of('stats').length;
    this.child.kill('SIGUSR2');
    await waitUntil('stats from the runner', () => this.of('stats').length > before, 10_000);
    return this.of('stats').at(-1)!.stats;
  }

  /** SIGTERM; resolves with the final stats and the dhcp_leases rows. */
  async stop(): Promise<Event> {
    await stopProcess(this.child, 15_000);
    const final = this.of('stats').find((e) => e.final);
    if (!final) throw new Error(`the runner ended without its final report:\n${this.output.text()}`);
    return final;
  }
}

async function namespace(label: string): Promise<NetNamespace> {
  const ns = await NetNamespace.create(label);
  created.namespaces.push(ns.name);
  return ns;
}

/** Lines a client script appended to `file`, as key=value maps. */
function events(file: string): Record<string, string>[] {
  let text = '';
  try { text = readFileSync(file, 'utf8'); } catch { return []; }
  return text.split('\n').filter(Boolean).map((line) => Object.fromEntries(line.trim().split(/\s+/).map((kv) => {
    const at = kv.indexOf('=');
    return at < 0 ? ['word', kv] : [kv.slice(0, at), kv.slice(at + 1)];
  })));
}

function clientScripts(dir: string) {
  const dhclientScript = join(dir, 'dhclient-script.sh');
  writeFileSync(dhclientScript, `#!/bin/sh
echo "reason=$reason ip=$new_ip_address mask=$new_subnet_mask routers=$new_routers dns=$new_domain_name_servers lease=$new_dhcp_lease_time server=$new_dhcp_server_identifier old=$old_ip_address" >> ${dir}/dhclient.events
case "$reason" in
  BOUND|RENEW|REBIND|REBOOT) ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface" 2>/dev/null ;;
  RELEASE|EXPIRE|STOP|FAIL) ip addr flush dev "$interface" scope global ;;
esac
exit 0
`);
  const udhcpcScript = join(dir, 'udhcpc-script.sh');
  writeFileSync(udhcpcScript, `#!/bin/sh
echo "event=$1 ip=$ip subnet=$subnet router=$router serverid=$serverid lease=$lease boot_file=$boot_file siaddr=$siaddr" >> ${dir}/udhcpc.events
exit 0
`);
  chmodSync(dhclientScript, 0o755);
  chmodSync(udhcpcScript, 0o755);
  writeFileSync(join(dir, 'dhclient.conf'), '');
  return {
    dhclient: (ns: NetNamespace, flag: '-1' | '-r' | '-x') => {
      if (flag === '-1') rmSync(join(dir, 'dhclient.pid'), { force: true });
      return ns.exec('dhclient', [
        '-4', flag, '-v', '-sf', dhclientScript, '-lf', join(dir, 'dhclient.leases'), '-pf', join(dir, 'dhclient.pid'), '-cf', join(dir, 'dhclient.conf'), 'eth0',
      ], 60_000);
    },
    udhcpc: (ns: NetNamespace, extra: string[] = []) =>
      ns.exec('udhcpc', ['-i', 'eth0', '-f', '-q', '-n', '-t', '4', '-T', '2', '-s', udhcpcScript, ...extra], 60_000),
    dhclientEvents: () => events(join(dir, 'dhclient.events')),
    udhcpcEvents: () => events(join(dir, 'udhcpc.events')),
    /** The daemon's pid; it writes the file after forking, possibly after `dhclient -1` has returned. */
    dhclientPid: async () => {
      const file = join(dir, 'dhclient.pid');
      const read = () => { try { return Number(readFileSync(file, 'utf8').trim()); } catch { return 0; } };
      await waitUntil('dhclient to write its pid file', () => read() > 0, 10_000);
      return read();
    },
  };
}

/** nmap's DHCP discovery needs an IPv4 address on the interface it sends from; a spare one outside every pool. */
async function nmapDiscover(ns: NetNamespace, mac: string): Promise<string> {
  await ns.exec('ip', ['addr', 'add', '192.0.2.250/24', 'dev', 'eth0']);
  try {
    return await ns.exec('nmap', ['--script', 'broadcast-dhcp-discover', '-e', 'eth0',
      '--script-args', `broadcast-dhcp-discover.timeout=4s,broadcast-dhcp-discover.mac=${mac}`], 90_000);
  } finally {
    await ns.exec('ip', ['addr', 'flush', 'dev', 'eth0', 'scope', 'global']);
  }
}

const setMac = (ns: NetNamespace, mac: string) => ns.exec('ip', ['link', 'set', 'eth0', 'address', mac]);
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

describe('full mode against dhclient, udhcpc and nmap', () => {
  let server: NetNamespace;
  let client: NetNamespace;
  let dir: string;
  let runner: DhcpRunner;
  let tools: ReturnType<typeof clientScripts>;
  const env = (): Record<string, string> => ({
    BRUME_DHCP_MODE: 'full', BRUME_DHCP_INTERFACE: 'eth0', BRUME_DHCP_POOL: '192.0.2.100-192.0.2.120', BRUME_DHCP_ROUTER: '192.0.2.1',
    BRUME_DHCP_DNS: '192.0.2.53', BRUME_DHCP_LEASE_SECONDS: '600',
    RUNNER_DATA_DIR: join(dir, 'db'), RUNNER_BOOT_SERVER: '192.0.2.1', RUNNER_HTTP_URL: 'http://192.0.2.1:8080',
    RUNNER_HOSTS: JSON.stringify({ '52:54:00:e2:d0:42': { hostId: 'host-42', hostName: 'lab-42', ip: '192.0.2.42' } }),
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'brume-dhcp-full-'));
    tools = clientScripts(dir);
    server = await namespace('dhcpf-srv');
    client = await namespace('dhcpf-cli');
    await connect(server, '192.0.2.1/24', client, '', ['eth0', 'eth0']);
    runner = await DhcpRunner.start(server, env());
  });

  afterAll(async () => {
    await client?.destroy();
    await server?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('dhclient: DISCOVER-OFFER-REQUEST-ACK gives an address from the pool with the configured options, and RELEASE frees it', async () => {
    await setMac(client, '52:54:00:e2:d0:01');
    await tools.dhclient(client, '-1');
    const bound = tools.dhclientEvents().find((e) => e.reason === 'BOUND');
    expect(bound).toMatchObject({ ip: '192.0.2.100', mask: '255.255.255.0', routers: '192.0.2.1', dns: '192.0.2.53', lease: '600', server: '192.0.2.1' });
    expect(await client.exec('ip', ['-4', '-br', 'addr', 'show', 'eth0'])).toContain('192.0.2.100/24');
    const pid = await tools.dhclientPid();
    created.pids.push(pid);
    expect(runner.of('note')).toContainEqual(expect.objectContaining({ ip: '192.0.2.100', mac: '52:54:00:e2:d0:01' }));
    expect(runner.of('observe').filter((o) => o.mac === '52:54:00:e2:d0:01').map((o) => [o.stage, o.detail.message, o.detail.reply]))
      .toEqual([['dhcp', 'DHCPDISCOVER', 'DHCPOFFER'], ['dhcp', 'DHCPREQUEST', 'DHCPACK']]);

    await tools.dhclient(client, '-r');
    await waitUntil('dhclient to end', () => !alive(pid), 10_000);
    await waitUntil('brume to see the RELEASE', async () => ((await runner.stats()).ignored.released ?? 0) >= 1, 10_000);
    expect(tools.dhclientEvents().at(-1)).toMatchObject({ reason: 'RELEASE', old: '192.0.2.100' });
  });

  it('dhclient after a restart of brume on the same lease database: INIT-REBOOT is confirmed straight away', async () => {
    await tools.dhclient(client, '-1');
    created.pids.push(await tools.dhclientPid());
    const address = tools.dhclientEvents().filter((e) => e.reason === 'BOUND' || e.reason === 'REBOOT').at(-1)!.ip!;
    expect(address).toMatch(/^192\.0\.2\.1[0-2]\d$/);
    await tools.dhclient(client, '-x');
    await client.exec('ip', ['addr', 'flush', 'dev', 'eth0', 'scope', 'global']);

    const final = await runner.stop();
    expect(final.leases).toContainEqual(expect.objectContaining({ mac: '52:54:00:e2:d0:01', ip: address }));
    runner = await DhcpRunner.start(server, env());
    await tools.dhclient(client, '-1');
    created.pids.push(await tools.dhclientPid());
    // dhclient asked for its old address first (INIT-REBOOT) and brume, which kept the lease, said yes.
    expect(tools.dhclientEvents().at(-1)).toMatchObject({ reason: 'REBOOT', ip: address });
    // The runner reports what it saw on its stdout, which may reach us just after dhclient returns.
    const seen = () => runner.of('observe').filter((o) => o.mac === '52:54:00:e2:d0:01');
    await waitUntil('brume to report the REQUEST', () => seen().length > 0, 5000);
    expect(seen().map((o) => o.detail.message)).toEqual(['DHCPREQUEST']);
    await tools.dhclient(client, '-r');
  });

  it('udhcpc on a registered host gets its reservation, and with PXE options its boot file', async () => {
    await setMac(client, '52:54:00:e2:d0:42');
    await tools.udhcpc(client);
    expect(tools.udhcpcEvents().find((e) => e.event === 'bound')).toMatchObject({ ip: '192.0.2.42', subnet: '255.255.255.0', router: '192.0.2.1', serverid: '192.0.2.1', lease: '600', boot_file: '' });
    await setMac(client, '52:54:00:e2:d0:02');
    await tools.udhcpc(client, ['-V', 'PXEClient:Arch:00000:UNDI:002001', '-x', '0x5d:0000']);
    expect(tools.udhcpcEvents().filter((e) => e.event === 'bound').at(-1)).toMatchObject({ boot_file: 'undionly.kpxe', siaddr: '192.0.2.1' });
    expect(runner.of('observe').filter((o) => o.mac === '52:54:00:e2:d0:02').at(-1)?.detail).toMatchObject({ arch: '0', bootFile: 'undionly.kpxe' });
  });

  it('nmap broadcast-dhcp-discover sees brume\'s offer', async () => {
    const report = await nmapDiscover(client, '52:54:00:e2:d0:77');
    expect(report).toMatch(/IP Offered: 192\.0\.2\.1[0-2]\d/);
    expect(report).toMatch(/Server Identifier: 192\.0\.2\.1$/m);
    expect(report).toMatch(/Router: 192\.0\.2\.1$/m);
    expect(report).toMatch(/Domain Name Server: 192\.0\.2\.53/);
    const stats = await runner.stats();
    expect(stats.dropped).toEqual({});
  });
});

describe('proxy mode beside dnsmasq on one LAN', () => {
  let lan: Lan;
  let brume: NetNamespace;
  let site: NetNamespace;
  let client: NetNamespace;
  let dir: string;
  let runner: DhcpRunner;
  let dnsmasq: ChildProcess;
  let dnsmasqOutput: { text(): string };
  let tools: ReturnType<typeof clientScripts>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'brume-dhcp-proxy-'));
    tools = clientScripts(dir);
    lan = await Lan.create('dhcpp');
    created.namespaces.push(lan.hub.name);
    brume = await namespace('dhcpp-brume');
    site = await namespace('dhcpp-site');
    client = await namespace('dhcpp-cli');
    await lan.attach(brume, '192.0.2.1/24');
    await lan.attach(site, '192.0.2.2/24');
    await lan.attach(client, '');
    // The site's DHCP server: addresses only, no boot information, no ping check.
    dnsmasq = site.spawn('dnsmasq', ['--keep-in-foreground', '--conf-file=/dev/null', '--port=0', '--no-ping', '--interface=eth0', '--bind-interfaces',
      '--dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h', `--dhcp-leasefile=${join(dir, 'dnsmasq.leases')}`, `--pid-file=${join(dir, 'dnsmasq.pid')}`,
      '--user=root', '--group=root', '--log-dhcp', '--log-facility=-']);
    created.pids.push(dnsmasq.pid!);
    dnsmasqOutput = captureOutput(dnsmasq);
    await waitUntil('dnsmasq to listen', () => /sockets bound exclusively to interface eth0/.test(dnsmasqOutput.text()) || dnsmasq.exitCode !== null, 20_000);
    if (dnsmasq.exitCode !== null) throw new Error(`dnsmasq did not start:\n${dnsmasqOutput.text()}`);
    runner = await DhcpRunner.start(brume, {
      BRUME_DHCP_MODE: 'proxy', BRUME_DHCP_INTERFACE: 'eth0', RUNNER_DATA_DIR: join(dir, 'db'),
      RUNNER_BOOT_SERVER: '192.0.2.1', RUNNER_HTTP_URL: 'http://192.0.2.1:8080',
    });
  });

  afterAll(async () => {
    await client?.destroy();
    await brume?.destroy();
    await site?.destroy();
    await lan?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const pxeClient = async (arch: number) => {
    await client.exec('ip', ['addr', 'flush', 'dev', 'eth0', 'scope', 'global']);
    const out = await client.exec('node', ['--import', 'tsx', join(ROOT, RUNNER), 'pxe-client', 'eth0', String(arch)], 90_000);
    return JSON.parse(out.trim().split('\n').at(-1)!) as Event;
  };

  it.each([[0, 'undionly.kpxe'], [7, 'ipxe.efi']])('a PXE client (arch %d) gets its address from dnsmasq and %s from brume', async (arch, file) => {
    const pxe = await pxeClient(arch);
    // dnsmasq's offer: an address, nothing to boot.
    expect(pxe.addressOffer).toMatchObject({ serverId: '192.0.2.2', file: '', vendorClass: null });
    expect(pxe.addressOffer.yiaddr).toMatch(/^192\.0\.2\.(1[0-4]\d|150)$/);
    // brume's proxy offer on port 67: no address, PXEClient, discovery control, boot file, GUID echoed.
    expect(pxe.proxyOffer).toMatchObject({ yiaddr: '0.0.0.0', serverId: '192.0.2.1', siaddr: '192.0.2.1', vendorClass: 'PXEClient', file, option43: [6, 1, 8, 255], mask: null });
    expect(pxe.proxyOffer.option97).toHaveLength(17);
    expect(pxe.ack).toMatchObject({ type: 5, serverId: '192.0.2.2', yiaddr: pxe.addressOffer.yiaddr });
    // ... and its ACK on port 4011, unicast to the address dnsmasq gave.
    expect(pxe.proxyAck).toMatchObject({ type: 5, yiaddr: '0.0.0.0', ciaddr: pxe.ack.yiaddr, serverId: '192.0.2.1', file, vendorClass: 'PXEClient' });
    expect(pxe.proxyAck.option43).toEqual([6, 1, 8, 71, 4, 0, 0, 0, 0, 255]);
    expect(runner.of('note')).toContainEqual({ event: 'note', ip: pxe.ack.yiaddr, mac: pxe.mac });
    expect(runner.of('observe').filter((o) => o.mac === pxe.mac && o.detail.arch === String(arch)).map((o) => [o.stage, o.detail.reply, o.detail.bootFile]))
      .toEqual([['proxy-dhcp', 'DHCPOFFER', file], ['proxy-dhcp', 'DHCPACK', file]]);
  });

  it('leaves ordinary clients to dnsmasq: udhcpc and nmap get dnsmasq\'s offer only', async () => {
    const before = await runner.stats();
    await client.exec('ip', ['addr', 'flush', 'dev', 'eth0', 'scope', 'global']);
    await tools.udhcpc(client);
    expect(tools.udhcpcEvents().find((e) => e.event === 'bound')).toMatchObject({ serverid: '192.0.2.2', boot_file: '' });
    const report = await nmapDiscover(client, '52:54:00:e2:d0:78');
    expect(report).toMatch(/Server Identifier: 192\.0\.2\.2$/m);
    expect(report).not.toMatch(/Server Identifier: 192\.0\.2\.1$/m);
    expect(report).toMatch(/Response 1 of 1/);
    const after = await runner.stats();
    expect((after.ignored['not-pxe'] ?? 0) - (before.ignored['not-pxe'] ?? 0)).toBeGreaterThanOrEqual(2);
    expect(after.answered.offer).toBe(before.answered.offer);
    expect(after.dropped).toEqual({});
  });
});

describe('afterwards', () => {
  it('left no namespace and no process behind', async () => {
    expect(created.namespaces).toHaveLength(6);
    const list = await sh('ip', ['netns', 'list']);
    for (const name of created.namespaces) expect(list).not.toContain(name);
    for (const pid of created.pids) expect(alive(pid), `process ${pid}`).toBe(false);
  });
});
