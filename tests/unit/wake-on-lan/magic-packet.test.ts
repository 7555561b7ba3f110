import { describe, expect, it } from 'vitest';
import { MAGIC_PACKET_LENGTH, magicPacket, parseSecureOn } from '../../../core/wake-on-lan/magic-packet.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('magic packet', () => {
  it('given a MAC, is six 0xFF bytes then the MAC sixteen times: 102 bytes', () => {
    const packet = magicPacket('00:c0:4f:18:62:63');
    expect(MAGIC_PACKET_LENGTH).toBe(102);
    expect(packet.length).toBe(102);
    expect(hex(packet)).toBe(`ffffffffffff${'00c04f186263'.repeat(16)}`);
  });

  it('given the MAC in another notation, is the same packet', () => {
    const expected = hex(magicPacket('00:c0:4f:18:62:63'));
    for (const mac of ['00-C0-4F-18-62-63', '00c04f186263', '00c0.4f18.6263']) expect(hex(magicPacket(mac))).toBe(expected);
  });

  it('given a SecureOn password, appends its six bytes: 108 bytes', () => {
    const packet = magicPacket('52:54:00:12:34:56', 'a1:b2:c3:d4:e5:f6');
    expect(packet.length).toBe(108);
    expect(hex(packet)).toBe(`ffffffffffff${'525400123456'.repeat(16)}a1b2c3d4e5f6`);
    expect(hex(magicPacket('52:54:00:12:34:56', Uint8Array.from([0, 0, 0, 0, 0, 1])))).toMatch(/525400123456000000000001$/);
  });

  it('reads a SecureOn password written with dashes or as bare hex; any six bytes, even zeros', () => {
    expect(hex(parseSecureOn('01-02-03-04-05-06'))).toBe('010203040506');
    expect(hex(parseSecureOn('000000000000'))).toBe('000000000000');
  });

  it.each(['01:02:03:04:05', '01:02:03:04:05:06:07', 'zz:02:03:04:05:06', '01:02-03:04:05:06'])('refuses the SecureOn password %s', (password) => {
    expect(() => magicPacket('52:54:00:12:34:56', password)).toThrow(/not a SecureOn password/);
  });

  it('refuses a SecureOn password of the wrong length in bytes', () => {
    expect(() => parseSecureOn(new Uint8Array(4))).toThrow('a SecureOn password is 6 bytes, not 4');
  });

  it.each(['nonsense', 'ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:01'])('refuses %s, which no NIC has', (mac) => {
    expect(() => magicPacket(mac)).toThrow(RangeError);
  });
});
