import { describe, expect, it } from 'vitest';
import { MAX_PENDING_MACS, validateHostName, validateIp, validateMacs } from '../../../core/hosts/host-fields.ts';
import { expectResult } from '../support/given-when-then.ts';
import { MAC_A, MAC_B, MAC_C, additional, primary } from '../support/fixtures.ts';

/** n distinct valid MACs: 00:c0:4f:00:00:01, 00:c0:4f:00:00:02, ... */
const macs = (n: number) => Array.from({ length: n }, (_, i) => `00:c0:4f:00:00:${(i + 1).toString(16).padStart(2, '0')}`);

describe('validateHostName', () => {
  it.each([
    ['a plain label', 'lab-01', 'lab-01'],
    ['one character', 'a', 'a'],
    ['digits only', '1234', '1234'],
    ['mixed case, kept as typed', 'Lab-PC-7', 'Lab-PC-7'],
    ['surrounding spaces, trimmed', '  lab-02 ', 'lab-02'],
    ['exactly 63 characters', 'a'.repeat(63), 'a'.repeat(63)],
  ])('accepts %s', (_case, input, expected) => {
    expectResult(validateHostName(input)).then(expected);
  });

  it.each([
    ['empty', ''],
    ['only spaces', '   '],
    ['not a string', 7],
    ['missing', undefined],
  ])('refuses a name that is %s as missing', (_case, input) => {
    expectResult(validateHostName(input)).thenFails({ code: 'validation', field: 'name', message: 'a host needs a name' });
  });

  it('refuses 64 characters', () => {
    expectResult(validateHostName('a'.repeat(64))).thenFails({ code: 'validation', field: 'name', message: /is longer than 63 characters/ });
  });

  it.each([
    ['a leading hyphen', '-lab'],
    ['a trailing hyphen', 'lab-'],
    ['an underscore', 'lab_01'],
    ['a dot (a FQDN, not a label)', 'lab.example.org'],
    ['an inner space', 'lab 01'],
    ['non-ASCII letters', 'labé'],
  ])('refuses %s', (_case, input) => {
    expectResult(validateHostName(input)).thenFails({
      code: 'validation', field: 'name', message: /may only hold letters, digits and hyphens, and may not start or end with a hyphen/,
    });
  });

  it('reports under the field name it is given', () => {
    expectResult(validateHostName('', 'hostname')).thenFails({ code: 'validation', field: 'hostname' });
  });
});

describe('validateIp', () => {
  it.each([null, undefined, ''])('treats %j as no address', (input) => {
    expectResult(validateIp(input)).then(null);
  });

  it.each([
    ['192.0.2.10', '192.0.2.10'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    [' 10.1.2.3 ', '10.1.2.3'],
  ])('accepts %j', (input, expected) => {
    expectResult(validateIp(input)).then(expected);
  });

  it.each(['256.1.1.1', '10.1.2', '10.1.2.3.4', '01.2.3.4', 'fe80::1', 'lab-01', '10.1.2.3/24'])('refuses %j', (input) => {
    expectResult(validateIp(input)).thenFails({ code: 'validation', field: 'ip', message: /is not an IPv4 address such as 192\.0\.2\.10/ });
  });

  it('refuses a number', () => {
    expectResult(validateIp(10)).thenFails({ code: 'validation', field: 'ip', message: '"10" is not an IPv4 address such as 192.0.2.10' });
  });
});

describe('validateMacs', () => {
  it('makes the first bare MAC primary and the rest additional, normalising each', () => {
    expectResult(validateMacs(['00-C0-4F-18-62-63', '00c04f186264'])).then([primary(MAC_A), additional(MAC_B)]);
  });

  it('keeps roles and the ignore-for-imaging flag given in full entries', () => {
    expectResult(validateMacs([
      { mac: MAC_A },
      { mac: MAC_B, role: 'pending' },
      { mac: MAC_C, role: 'additional', ignoreForImaging: true },
    ])).then([
      primary(MAC_A),
      { mac: MAC_B, role: 'pending', ignoreForImaging: false },
      { mac: MAC_C, role: 'additional', ignoreForImaging: true },
    ]);
  });

  it('treats only a literal true as ignore-for-imaging', () => {
    expectResult(validateMacs([{ mac: MAC_A, ignoreForImaging: 'yes' }])).then([primary(MAC_A)]);
  });

  it('promotes the first entry to primary when none is marked primary', () => {
    expectResult(validateMacs([{ mac: MAC_A, role: 'additional' }, { mac: MAC_B, role: 'additional' }]))
      .then([primary(MAC_A), additional(MAC_B)]);
  });

  it('keeps a later entry marked primary and leaves the others as marked', () => {
    expectResult(validateMacs([{ mac: MAC_A, role: 'additional' }, { mac: MAC_B, role: 'primary' }]))
      .then([additional(MAC_A), primary(MAC_B)]);
  });

  // Regression: found by these specs and fixed in core.
  it('lets a later entry marked primary win over a bare first MAC', () => {
    expectResult(validateMacs([MAC_A, { mac: MAC_B, role: 'primary' }])).then([additional(MAC_A), primary(MAC_B)]);
  });

  it('refuses two entries both marked primary', () => {
    expectResult(validateMacs([{ mac: MAC_A, role: 'primary' }, { mac: MAC_B, role: 'primary' }]))
      .thenFails({ code: 'validation', field: 'macs', message: 'a host has exactly one primary MAC' });
  });

  it.each([
    ['an empty list', []],
    ['not a list', MAC_A],
    ['missing', undefined],
  ])('refuses %s', (_case, input) => {
    expectResult(validateMacs(input)).thenFails({ code: 'validation', field: 'macs', message: 'a host needs at least one MAC address' });
  });

  it('refuses the same MAC twice even when written differently, naming the second entry', () => {
    expectResult(validateMacs([MAC_A, '00C04F186263']))
      .thenFails({ code: 'validation', field: 'macs[1]', message: `MAC ${MAC_A} is listed twice` });
  });

  it('names the entry whose MAC does not parse', () => {
    expectResult(validateMacs([MAC_A, 'zz:zz'])).thenFails({ code: 'validation', field: 'macs[1]', message: /is not a MAC address/ });
  });

  it.each([
    ['null', null],
    ['a number', 5],
    ['an object without mac', { role: 'primary' }],
  ])('refuses an entry that is %s', (_case, entry) => {
    expectResult(validateMacs([MAC_A, entry])).thenFails({ code: 'validation', field: 'macs[1]', message: 'each MAC entry needs a "mac" string' });
  });

  it('refuses an unknown role, naming the role field', () => {
    expectResult(validateMacs([MAC_A, { mac: MAC_B, role: 'backup' }]))
      .thenFails({ code: 'validation', field: 'macs[1].role', message: 'MAC role must be primary, additional or pending, not "backup"' });
  });

  it(`allows ${MAX_PENDING_MACS} pending MACs and refuses a fifth`, () => {
    expect(MAX_PENDING_MACS).toBe(4);
    const [first, ...rest] = macs(6);
    const pending = (list: string[]) => list.map((mac) => ({ mac, role: 'pending' as const, ignoreForImaging: false }));
    expectResult(validateMacs([first, ...pending(rest.slice(0, 4))])).then([primary(first!), ...pending(rest.slice(0, 4))]);
    expectResult(validateMacs([first, ...pending(rest)]))
      .thenFails({ code: 'validation', field: 'macs', message: 'a host may have at most 4 pending MACs' });
  });

  it('uses the field name it is given in every message', () => {
    expectResult(validateMacs([MAC_A, 'bad'], 'changes.macs')).thenFails({ code: 'validation', field: 'changes.macs[1]' });
  });
});
