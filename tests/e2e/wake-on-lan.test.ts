import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { magicPacket } from '../../core/wake-on-lan/magic-packet.ts';
import { NetNamespace, captureOutput, connect, stopProcess, waitUntil } from './support/netns.ts';

const RUNNER = fileURLToPath(new URL('./support/wol-runner.ts', import.meta.url));
const MAC_1 = '52:54:00:e2:e0:01';
const MAC_2 = '52:54:00:e2:e0:02';

interface Captured {
  ethernetDestination: string;
  source: string;
  destination: string;
  destinationPort: number;
  payload: Buffer;
}

/** The UDP datagrams in a pcap file of Ethernet frames (what tcpdump -w writes for a veth). */
function udpInPcap(file: Buffer): Captured[] {
  const little = file.readUInt32LE(0) === 0xa1b2c3d4;
  if (!little && file.readUInt32BE(0) !== 0xa1b2c3d4) throw new Error('not a pcap file (or a nanosecond one)');
  const u32 = (offset: number) => (little ? file.readUInt32LE(offset) : file.readUInt32BE(offset));
  if (u32(20) !== 1) throw new Error(`pcap link type ${u32(20)}, not Ethernet`);
  const ip = (b: Buffer) => [...b].join('.');
  const datagrams: Captured[] = [];
  for (let offset = 24; offset + 16 <= file.length;) {
    const length = u32(offset + 8);
    const frame = file.subarray(offset + 16, offset + 16 + length);
    offset += 16 + length;
    if (frame.readUInt16BE(12) !== 0x0800) continue;
    const packet = frame.subarray(14);
    if (packet[9] !== 17) continue;
    const udp = packet.subarray((packet[0]! & 0x0f) * 4);
    datagrams.push({
      ethernetDestination: [...frame.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':'),
      source: ip(packet.subarray(12, 16)),
      destination: ip(packet.subarray(16, 20)),
      destinationPort: udp.readUInt16BE(2),
      payload: udp.subarray(8, udp.readUInt16BE(4)),
    });
  }
  return datagrams;
}

/**
 * Two namespaces on one veth link: the server side A (192.0.2.1/24, with a
 * route to 198.18.0.0/24 through B) and the machines' side B (192.0.2.2/24,
 * and 198.18.0.1/24 standing for a second subnet behind a router). tcpdump
 * in B sees what A's sender puts on the wire.
 */
describe('Wake-on-LAN on the wire', () => {
  let server: NetNamespace | undefined;
  let machines: NetNamespace | undefined;
  let device = '';
  let dir = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'brume-wol-'));
    server = await NetNamespace.create('wol-a');
    machines = await NetNamespace.create('wol-b');
    ({ bDevice: device } = await connect(server, '192.0.2.1/24', machines, '192.0.2.2/24'));
    await machines.exec('ip', ['addr', 'add', '198.18.0.1/24', 'dev', device]);
    await server.exec('ip', ['route', 'add', '198.18.0.0/24', 'via', '192.0.2.2']);
  });

  afterAll(async () => {
    await server?.destroy();
    await machines?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Runs the wol-runner in A while tcpdump captures UDP port 9 in B; returns what the runner printed and what B saw. */
  async function wakeAndCapture(env: Record<string, string>, args: string[]) {
    const file = join(dir, `capture-${Math.random().toString(36).slice(2)}.pcap`);
    const tcpdump = machines!.spawn('tcpdump', ['-i', device, '-n', '-U', '-Z', 'root', '-w', file, 'udp port 9']);
    const tcpdumpOutput = captureOutput(tcpdump);
    try {
      await waitUntil('tcpdump to listen', () => /listening on/.test(tcpdumpOutput.text()), 10_000)
        .catch((error: Error) => { throw new Error(`${error.message}; tcpdump said: ${tcpdumpOutput.text()}`); });
      const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
      const printed = await server!.exec('env', [...vars, process.execPath, '--import', 'tsx', RUNNER, ...args], 30_000);
      const result = JSON.parse(printed.trim().split('\n').at(-1)!);
      const expected = result.report ? result.report.sentTo.length * result.plan.macs.length * 3 : 0;
      await waitUntil(`${expected} packets in the capture`, async () => {
        try { return udpInPcap(await readFile(file)).length >= expected; } catch { return false; }
      }, 5000).catch(() => {});
      await stopProcess(tcpdump);
      return { result, captured: udpInPcap(await readFile(file)), tcpdump: tcpdumpOutput.text() };
    } finally {
      await stopProcess(tcpdump);
    }
  }

  it('sends the host\'s magic packets to its subnet broadcast and to the subnet\'s directed broadcast, and reports an unroutable one', async () => {
    const { result, captured } = await wakeAndCapture(
      { BRUME_WOL_SUBNETS: '192.0.2.0/24=198.18.0.255+198.19.255.255', BRUME_WOL_DEFAULT_TARGETS: '', BRUME_WOL_PORT: '9' },
      ['192.0.2.50', `${MAC_1},${MAC_2}`],
    );
    expect(result.plan).toEqual({
      ok: true, macs: [MAC_1, MAC_2], addresses: ['192.0.2.255', '198.18.0.255', '198.19.255.255'], basis: 'host 192.0.2.50 is in 192.0.2.0/24',
    });
    expect(result.report.sentTo).toEqual(['192.0.2.255', '198.18.0.255']);
    // A has no route to 198.19.0.0/16: the kernel refuses, and the sender says so instead of failing silently.
    expect(result.report.failed).toEqual([{ address: '198.19.255.255', error: expect.stringContaining('ENETUNREACH') }]);

    for (const mac of [MAC_1, MAC_2]) {
      const packet = Buffer.from(magicPacket(mac));
      const mine = captured.filter((c) => c.payload.equals(packet));
      const subnetBroadcast = mine.filter((c) => c.destination === '192.0.2.255');
      expect(subnetBroadcast).toHaveLength(3);
      // An Ethernet broadcast, so every machine on the segment, asleep or not, sees it.
      for (const c of subnetBroadcast) expect(c).toMatchObject({ ethernetDestination: 'ff:ff:ff:ff:ff:ff', source: '192.0.2.1', destinationPort: 9 });
      expect(mine.filter((c) => c.destination === '198.18.0.255')).toHaveLength(3);
    }
    expect(captured.every((c) => c.destination !== '198.19.255.255')).toBe(true);
    expect(captured).toHaveLength(12);
  });

  it('wakes a host without an IP through the default target, the limited broadcast, sent from the bound address', async () => {
    const { result, captured } = await wakeAndCapture(
      { BRUME_WOL_SUBNETS: '192.0.2.0/24', BRUME_WOL_DEFAULT_TARGETS: '255.255.255.255', BRUME_WOL_PORT: '9' },
      ['-', MAC_1, '192.0.2.1'],
    );
    expect(result.plan).toMatchObject({ ok: true, addresses: ['255.255.255.255'], basis: 'the host has no IP address; using the default targets' });
    expect(result.report).toMatchObject({ sentTo: ['255.255.255.255'], failed: [] });
    const packet = Buffer.from(magicPacket(MAC_1));
    expect(captured.filter((c) => c.payload.equals(packet) && c.destination === '255.255.255.255' && c.source === '192.0.2.1')).toHaveLength(3);
  });

  it('sends nothing, and says why, for a host outside every subnet when there is no default target', async () => {
    const { result, captured } = await wakeAndCapture({ BRUME_WOL_SUBNETS: '192.0.2.0/24' }, ['198.18.7.7', MAC_1]);
    expect(result).toEqual({
      plan: { ok: false, reason: 'no configured Wake-on-LAN subnet contains 198.18.7.7 and no default Wake-on-LAN targets are configured' },
      report: null,
    });
    expect(captured).toEqual([]);
  });
});
