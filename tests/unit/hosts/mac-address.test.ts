import { describe, expect, it } from 'vitest';
import { parseMac } from '../../../core/hosts/mac-address.ts';
import { expectResult } from '../support/given-when-then.ts';

describe('parseMac', () => {
  it.each([
    ['colons', '00:c0:4f:18:62:63'],
    ['dashes', '00-c0-4f-18-62-63'],
    ['bare hex', '00c04f186263'],
    ['Cisco dots', '00c0.4f18.6263'],
    ['upper case', '00:C0:4F:18:62:63'],
    ['upper case with dashes', '00-C0-4F-18-62-63'],
    ['surrounding whitespace', '  00c0.4F18.6263\t'],
  ])('reads %s and stores lowercase with colons', (_form, input) => {
    expectResult(parseMac(input)).then('00:c0:4f:18:62:63');
  });

  it('accepts a locally administered unicast address (second bit set, first bit clear)', () => {
    expectResult(parseMac('02-00-00-aa-bb-cc')).then('02:00:00:aa:bb:cc');
  });

  it.each([
    ['mixed separators', '00:c0-4f:18:62:63'],
    ['too short', '00:c0:4f:18:62'],
    ['too long', '00:c0:4f:18:62:63:64'],
    ['non-hex digit', '00:c0:4f:18:62:6g'],
    ['single-digit octets', '0:c0:4f:18:62:63'],
    ['dots in the wrong places', '00c04f.186263'],
    ['eleven bare digits', '00c04f18626'],
    ['empty', ''],
  ])('refuses %s, naming the accepted forms', (_case, input) => {
    expectResult(parseMac(input)).thenFails({
      code: 'validation', field: 'mac', message: /is not a MAC address; use aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabbccddeeff or aabb\.ccdd\.eeff/,
    });
  });

  it('refuses input that is not a string at all', () => {
    expectResult(parseMac(42 as unknown as string)).thenFails({ code: 'validation', message: /^"" is not a MAC address/ });
  });

  it('quotes at most 40 characters of what it was given', () => {
    const error = expectResult(parseMac('x'.repeat(100))).thenFails({ code: 'validation' });
    expect(error.message.startsWith(`"${'x'.repeat(40)}" is not`)).toBe(true);
  });

  it.each([
    ['all zeros', '00:00:00:00:00:00', '00:00:00:00:00:00 is not a usable host MAC address'],
    ['broadcast', 'FF-FF-FF-FF-FF-FF', 'ff:ff:ff:ff:ff:ff is not a usable host MAC address'],
    ['multicast (first octet odd)', '01005e000001', "01:00:5e:00:00:01 is a multicast address, not a network card's MAC"],
    ['multicast with other high bits', '3300.0000.0001', "33:00:00:00:00:01 is a multicast address, not a network card's MAC"],
  ])('refuses the %s address', (_case, input, message) => {
    expect(parseMac(input)).toEqual({ ok: false, error: { code: 'validation', message, field: 'mac' } });
  });

  it('names the field it was asked to check', () => {
    expectResult(parseMac('nope', 'macs[2]')).thenFails({ code: 'validation', field: 'macs[2]' });
  });
});
