import { describe, expect, it } from 'vitest';
import { clientOption as opt, decodeReply, encodeClientMessage } from '../support/dhcp-client-messages.ts';
import { decodeRequest, encodeReply, readSubOptions, type DhcpReply } from '../../adapters/dhcp/dhcp-packet.ts';

const MAC = '52:54:00:12:34:56';
const discover = (options: Parameters<typeof encodeClientMessage>[0]['options'] = []) => encodeClientMessage({ type: 1, mac: MAC, options });
/** Rebuilds a packet's option area from raw bytes (after the cookie), padded like a client would. */
const withOptions = (bytes: number[]) => {
  const head = discover().subarray(0, 240);
  const packet = Buffer.concat([head, Buffer.from(bytes)]);
  return packet.length >= 300 ? packet : Buffer.concat([packet, Buffer.alloc(300 - packet.length)]);
};
const reason = (packet: Buffer) => { const r = decodeRequest(packet); return r.ok ? 'ok' : r.reason; };

describe('decoding client messages', () => {
  it('reads the fields and options brume uses', () => {
    const result = decodeRequest(encodeClientMessage({
      type: 3, mac: '52:54:00:AB:CD:EF', xid: 0xdeadbeef, flags: 0x8000, ciaddr: '192.0.2.10', giaddr: '192.0.2.254', hops: 1,
      options: [opt.requestedIp('192.0.2.20'), opt.serverId('192.0.2.1'), opt.vendorClass('PXEClient:Arch:00007:UNDI:003016'), opt.userClass('iPXE'),
        opt.arch(7, 9), opt.uuid([1, 2, 3]), opt.hostName('lab-01'), opt.parameterRequestList(1, 3, 67), [43, [71, 4, 0, 0, 0, 0, 255]], [61, [1, 0x52, 0x54, 0, 0, 0, 0, 0xff]]],
    }));
    expect(result).toEqual({ ok: true, request: {
      messageType: 3, xid: 0xdeadbeef, secs: 0, flags: 0x8000, hops: 1, ciaddr: '192.0.2.10', giaddr: '192.0.2.254', mac: '52:54:00:ab:cd:ef',
      requestedIp: '192.0.2.20', serverId: '192.0.2.1', vendorClass: 'PXEClient:Arch:00007:UNDI:003016', userClass: [...Buffer.from('iPXE')],
      arch: [7, 9], clientUuid: [0, 1, 2, 3], vendorSpecific: [71, 4, 0, 0, 0, 0, 255], hostName: 'lab-01', parameterRequestList: [1, 3, 67],
    } });
  });

  it('tolerates pad options between options (the package would skip a byte after each) and a missing END that ends the datagram', () => {
    const padded = decodeRequest(withOptions([0, 53, 1, 1, 0, 0, 0, 60, 9, ...Buffer.from('PXEClient'), 0, 93, 2, 0, 7, 255]));
    expect(padded).toMatchObject({ ok: true, request: { messageType: 1, vendorClass: 'PXEClient', arch: [7] } });
    const unterminated = Buffer.concat([discover().subarray(0, 240), Buffer.from([53, 1, 1, 93, 2, 0, 0])]);
    expect(decodeRequest(unterminated)).toMatchObject({ ok: true, request: { arch: [0] } });
  });

  it('drops an option whose size does not fit its type, unless brume reads it (then the packet goes)', () => {
    // Option 2 (time offset) is an Int32: 3 bytes would shift every later option; it is left out.
    expect(decodeRequest(withOptions([53, 1, 1, 2, 3, 1, 2, 3, 60, 9, ...Buffer.from('PXEClient'), 255]))).toMatchObject({ ok: true, request: { vendorClass: 'PXEClient' } });
    for (const bad of [[53, 2, 1, 1], [50, 3, 1, 2, 3], [54, 5, 1, 2, 3, 4, 5], [93, 1, 0], [93, 3, 0, 0, 7], [57, 1, 2]]) {
      expect(reason(withOptions([53, 1, 1, ...bad, 255])), JSON.stringify(bad)).toBe('bad-option-length');
    }
  });

  it.each([
    ['too-short', discover().subarray(0, 242)],
    ['not-a-request', (() => { const p = discover(); p[0] = 2; return p; })()],
    ['unsupported-hardware', (() => { const p = discover(); p[2] = 16; return p; })()],
    ['no-magic-cookie', (() => { const p = discover(); p[236] = 0; return p; })()],
    ['truncated-option', withOptions([53, 1, 1, 60, 200, 65, 66]).subarray(0, 250)],
    ['truncated-option', Buffer.concat([discover().subarray(0, 240), Buffer.from([53, 1, 1, 60])])],
    ['no-message-type', withOptions([60, 3, 65, 66, 67, 255])],
    ['not-a-client-message', withOptions([53, 1, 2, 255])],
    ['not-a-client-message', withOptions([53, 1, 9, 255])],
  ])('says %s', (expected, packet) => {
    expect(reason(packet)).toBe(expected);
  });
});

describe('encoding replies', () => {
  const reply = (file: string): DhcpReply => ({
    messageType: 2, xid: 42, flags: 0x8000, hops: 0, ciaddr: '0.0.0.0', yiaddr: '192.0.2.100', siaddr: '192.0.2.1', giaddr: '0.0.0.0',
    mac: MAC, file, options: { 54: '192.0.2.1', 60: 'PXEClient', 43: [6, 1, 8, 255], 97: [0, 1, 2], 3: ['192.0.2.1'], 51: 600 },
  });

  it('writes a BOOTREPLY of at least 300 bytes that an independent decoder reads back', () => {
    const bytes = encodeReply(reply('undionly.kpxe'));
    expect(bytes.length).toBeGreaterThanOrEqual(300);
    const view = decodeReply(bytes);
    expect(view).toMatchObject({ op: 2, messageType: 2, xid: 42, flags: 0x8000, yiaddr: '192.0.2.100', siaddr: '192.0.2.1', mac: MAC, file: 'undionly.kpxe' });
    expect([view.ip(54), view.text(60), view.bytes(43), view.bytes(97), view.ips(3), view.uint32(51)])
      .toEqual(['192.0.2.1', 'PXEClient', [6, 1, 8, 255], [0, 1, 2], ['192.0.2.1'], 600]);
    expect(view.options.has(67)).toBe(false);
  });

  it('moves a boot file name that does not fit the 128-byte field to option 67, and refuses one over 255 bytes', () => {
    const url = `http://boot.example/${'x'.repeat(150)}`;
    const view = decodeReply(encodeReply(reply(url)));
    expect(view.file).toBe('');
    expect(view.text(67)).toBe(url);
    expect(() => encodeReply(reply('y'.repeat(256)))).toThrow(/does not fit/);
  });
});

describe('reading PXE vendor sub-options', () => {
  it('returns what is well-formed and stops at the first overrun', () => {
    expect([...readSubOptions([6, 1, 8, 0, 71, 4, 0, 0, 0, 0, 255, 9, 9])]).toEqual([[6, [8]], [71, [0, 0, 0, 0]]]);
    expect([...readSubOptions([6, 1, 8, 71, 200, 1])]).toEqual([[6, [8]]]);
    expect([...readSubOptions([6])]).toEqual([]);
    expect([...readSubOptions(null)]).toEqual([]);
  });
});
