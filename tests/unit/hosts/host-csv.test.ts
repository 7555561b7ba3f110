import { describe, expect, it } from 'vitest';
import { parseCsv, planHostImport, valuesNamedBy, type HostImportContext } from '../../../core/hosts/host-csv.ts';
import { MAC_A, MAC_B, MAC_C, primary } from '../support/fixtures.ts';

/** The example line from FOG's own import page. */
const FOG_LINE = '"00:c0:4f:18:62:63","Hostname","","Your description","XP/Vista","Image filename to use"';

interface Existing {
  images?: Record<string, string>;
  names?: string[];
  macs?: string[];
}

/** An import context over an in-memory system; host ids are handed out as host-1, host-2, ... */
function system({ images = { win11: 'image-1' }, names = [], macs = [] }: Existing = {}) {
  const asked = { names: [] as string[], images: [] as string[] };
  let next = 0;
  const context: HostImportContext = {
    newHostId: () => `host-${++next}`,
    imageIdByName: (name) => (asked.images.push(name), images[name]),
    nameTaken: (name) => (asked.names.push(name), names.includes(name)),
    macTaken: (mac) => macs.includes(mac),
  };
  return { context, asked };
}

const plan = (text: string, existing?: Existing) => planHostImport(text, system(existing).context);
const acceptedLines = (text: string, existing?: Existing) => plan(text, existing).accepted.map((a) => [a.line, a.command.name]);

describe('parseCsv', () => {
  it('splits lines into records numbered from 1', () => {
    expect(parseCsv('a,b\nc,d\n')).toEqual({
      records: [{ line: 1, fields: ['a', 'b'] }, { line: 2, fields: ['c', 'd'] }],
      errors: [],
    });
  });

  it('reads a last line without a line break', () => {
    expect(parseCsv('a,b\nc,d').records).toEqual([{ line: 1, fields: ['a', 'b'] }, { line: 2, fields: ['c', 'd'] }]);
  });

  it('keeps empty fields, including a trailing one', () => {
    expect(parseCsv('a,,c\na,b,\n,\n').records.map((r) => r.fields)).toEqual([['a', '', 'c'], ['a', 'b', ''], ['', '']]);
  });

  it('keeps commas inside quoted fields', () => {
    expect(parseCsv('"a,b","c"').records).toEqual([{ line: 1, fields: ['a,b', 'c'] }]);
  });

  it('turns doubled quotes inside a quoted field into one quote', () => {
    expect(parseCsv('"say ""hi""",""""').records[0]!.fields).toEqual(['say "hi"', '"']);
  });

  it('keeps line breaks inside quoted fields and numbers the next record after them', () => {
    expect(parseCsv('"one\ntwo\nthree",x\nnext,y\n').records).toEqual([
      { line: 1, fields: ['one\ntwo\nthree', 'x'] },
      { line: 4, fields: ['next', 'y'] },
    ]);
  });

  it('accepts CRLF line ends without leaving a CR in the last field', () => {
    expect(parseCsv('a,b\r\nc,d\r\n').records).toEqual([{ line: 1, fields: ['a', 'b'] }, { line: 2, fields: ['c', 'd'] }]);
  });

  it('keeps a CRLF inside a quoted field and still counts the line', () => {
    expect(parseCsv('"x\r\ny",z\r\nw,v\r\n').records).toEqual([{ line: 1, fields: ['x\r\ny', 'z'] }, { line: 3, fields: ['w', 'v'] }]);
  });

  it('accepts a lone CR as a line end', () => {
    expect(parseCsv('a,b\rc,d').records).toEqual([{ line: 1, fields: ['a', 'b'] }, { line: 2, fields: ['c', 'd'] }]);
  });

  it('drops a UTF-8 byte order mark before the first field', () => {
    const { records } = parseCsv('\ufeff"00:c0:4f:18:62:63",lab-01\n');
    expect(records).toEqual([{ line: 1, fields: ['00:c0:4f:18:62:63', 'lab-01'] }]);
  });

  it('skips blank and whitespace-only lines but keeps counting them', () => {
    expect(parseCsv('\na,b\n\n   \r\n\t\nc,d\n\n').records).toEqual([{ line: 2, fields: ['a', 'b'] }, { line: 6, fields: ['c', 'd'] }]);
  });

  it('reads nothing from an empty text or a lone BOM', () => {
    expect(parseCsv('')).toEqual({ records: [], errors: [] });
    expect(parseCsv('\ufeff')).toEqual({ records: [], errors: [] });
  });

  it('reports a quote in the middle of an unquoted field against its line and keeps the other lines', () => {
    expect(parseCsv('a,b\nab"c,d\ne,f\n')).toEqual({
      records: [{ line: 1, fields: ['a', 'b'] }, { line: 3, fields: ['e', 'f'] }],
      errors: [{ line: 2, reason: 'a quote in the middle of an unquoted field' }],
    });
  });

  it('reports a quote never closed against the line it opened on and stops there', () => {
    expect(parseCsv('a,b\nc,"open\nd,e\nf,g\n')).toEqual({
      records: [{ line: 1, fields: ['a', 'b'] }],
      errors: [{ line: 2, reason: 'a quoted field is never closed' }],
    });
  });
});

describe('planHostImport', () => {
  it("accepts FOG's own example line, resolving the image by name", () => {
    const { context, asked } = system({ images: { 'Image filename to use': 'image-7' } });
    expect(planHostImport(`${FOG_LINE}\n`, context)).toEqual({
      accepted: [{
        line: 1,
        command: {
          hostId: 'host-1', name: 'Hostname', macs: [primary(MAC_A)], ip: null, description: 'Your description',
          imageId: 'image-7', storageNodeId: null, site: null,
        },
      }],
      rejected: [],
    });
    expect(asked).toEqual({ names: ['hostname'], images: ['Image filename to use'] });
  });

  it('accepts the short form: MAC and name only, with no image', () => {
    expect(plan('00-c0-4f-18-62-63,lab-01').accepted).toEqual([{
      line: 1,
      command: { hostId: 'host-1', name: 'lab-01', macs: [primary(MAC_A)], ip: null, description: '', imageId: null, storageNodeId: null, site: null },
    }]);
  });

  it('trims every field and reads the IP and a quoted description holding commas, quotes and a line break', () => {
    const text = ` ${MAC_A} , lab-01 , 192.0.2.10 ,"Room 2, ""left""\nbench",win11, win11 \nlab,x\n`;
    const result = plan(text);
    expect(result.accepted[0]!.command).toMatchObject({ name: 'lab-01', ip: '192.0.2.10', description: 'Room 2, "left"\nbench', imageId: 'image-1' });
    expect(result.rejected).toEqual([{ line: 3, reason: expect.stringMatching(/"lab" is not a MAC address/) }]);
  });

  it('reads a Windows export: BOM, CRLF and blank lines, numbering lines as an editor would', () => {
    const text = `\ufeff${MAC_A},lab-01\r\n\r\n${MAC_B},lab-02\r\n\r\n\r\n${MAC_C},lab-03\r\n`;
    expect(acceptedLines(text)).toEqual([[1, 'lab-01'], [3, 'lab-02'], [6, 'lab-03']]);
  });

  it.each([
    ['one field', MAC_A, 1],
    ['seven fields', `${MAC_A},lab-01,,,,win11,extra`, 7],
  ])('rejects a line with %s', (_case, line, count) => {
    expect(plan(`${line}\n`)).toEqual({
      accepted: [],
      rejected: [{ line: 1, reason: `expected 2 to 6 fields (mac, name, ip, description, os, image), found ${count}` }],
    });
  });

  it('rejects a line naming an image that does not exist', () => {
    expect(plan(`${MAC_A},lab-01,,,,win12\n`).rejected).toEqual([{ line: 1, reason: 'image "win12" does not exist' }]);
  });

  it.each([
    ['a bad MAC', 'zz,lab-01', /"zz" is not a MAC address/],
    ['a multicast MAC', '01:00:5e:00:00:01,lab-01', /is a multicast address/],
    ['a bad name', `${MAC_A},lab_01`, /may only hold letters, digits and hyphens/],
    ['a missing name', `${MAC_A},`, /a host needs a name/],
    ['a bad IP', `${MAC_A},lab-01,10.0.0.300`, /is not an IPv4 address/],
  ])('rejects a line with %s, with the validation message', (_case, line, reason) => {
    const result = plan(`${line}\n`);
    expect(result.accepted).toEqual([]);
    expect(result.rejected).toEqual([{ line: 1, reason: expect.stringMatching(reason) }]);
  });

  it('rejects a name repeated in the file (ignoring case), naming the earlier line', () => {
    const result = plan(`${MAC_A},lab-01\n${MAC_B},lab-02\n${MAC_C},LAB-01\n`);
    expect(result.accepted.map((a) => a.line)).toEqual([1, 2]);
    expect(result.rejected).toEqual([{ line: 3, reason: 'host name "LAB-01" repeats line 1' }]);
  });

  it('rejects a MAC repeated in the file in another spelling, naming the earlier line', () => {
    const result = plan(`${MAC_A},lab-01\n\n${MAC_B},lab-02\n00C0.4F18.6264,lab-03\n`);
    expect(result.rejected).toEqual([{ line: 4, reason: `MAC ${MAC_B} repeats line 3` }]);
  });

  it('names the line that was accepted, not an earlier rejected one with the same name', () => {
    const result = plan(`${MAC_A},lab-01,,,,win12\n${MAC_B},lab-01\n${MAC_C},lab-01\n`);
    expect(result.accepted.map((a) => a.line)).toEqual([2]);
    expect(result.rejected).toEqual([
      { line: 1, reason: 'image "win12" does not exist' },
      { line: 3, reason: 'host name "lab-01" repeats line 2' },
    ]);
  });

  it('rejects a name already taken in brume, looking it up in lowercase', () => {
    const { context, asked } = system({ names: ['lab-01'] });
    expect(planHostImport(`${MAC_A},Lab-01\n`, context).rejected).toEqual([{ line: 1, reason: 'a host named "Lab-01" already exists' }]);
    expect(asked.names).toEqual(['lab-01']);
  });

  it('rejects a MAC already taken in brume, looking it up normalised', () => {
    expect(plan('00-C0-4F-18-62-63,lab-01\n', { macs: [MAC_A] }).rejected)
      .toEqual([{ line: 1, reason: `MAC ${MAC_A} already belongs to another host` }]);
  });

  it('lists parse errors and plan rejections together in line order', () => {
    const text = [`${MAC_A},lab-01`, 'x"y,lab-02', `${MAC_A},lab-03`, 'only-one-field', `${MAC_B},lab-05`].join('\n');
    const result = plan(text);
    expect(result.rejected.map((r) => r.line)).toEqual([2, 3, 4]);
    expect(result.rejected[0]!.reason).toBe('a quote in the middle of an unquoted field');
    expect(result.accepted.map((a) => [a.line, a.command.name])).toEqual([[1, 'lab-01'], [5, 'lab-05']]);
  });
});

describe('valuesNamedBy', () => {
  it('lists the names, MACs and image names a file refers to, normalised and without repeats', () => {
    const text = `${FOG_LINE}\n00-C0-4F-18-62-64,LAB-02,,,,Win11\n${MAC_B},lab-02,,,,win11\nnot-a-mac,lab-03\n`;
    expect(valuesNamedBy(text)).toEqual({
      names: ['hostname', 'lab-02', 'lab-03'],
      macs: [MAC_A, MAC_B],
      imageNames: ['image filename to use', 'win11'],
    });
  });
});
