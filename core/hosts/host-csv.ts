import type { RegisterHost } from './register-host.ts';
import { parseMac } from './mac-address.ts';
import { validateNewHost } from './register-host.ts';
import type { HostFields } from './host.ts';

/** One CSV record with the 1-based line it started on. */
export interface CsvRecord {
  line: number;
  fields: string[];
}

export interface CsvLineError {
  line: number;
  reason: string;
}

/**
 * Splits RFC 4180 CSV text into records: quoted fields may hold commas,
 * doubled quotes and line breaks; CRLF, LF and a UTF-8 BOM are accepted;
 * blank lines are skipped. A quote left open is reported against its line.
 */
export function parseCsv(text: string): { records: CsvRecord[]; errors: CsvLineError[] } {
  const records: CsvRecord[] = [];
  const errors: CsvLineError[] = [];
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let line = 1;
  let i = 0;
  while (i < src.length) {
    const startLine = line;
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let fieldStarted = false;
    let broken: string | undefined;
    for (; i < src.length; i++) {
      const c = src[i]!;
      if (quoted) {
        if (c === '"') {
          if (src[i + 1] === '"') {
            field += '"';
            i++;
          } else quoted = false;
        } else {
          if (c === '\n') line++;
          field += c;
        }
        continue;
      }
      if (c === '"' && !fieldStarted) {
        quoted = true;
        fieldStarted = true;
      } else if (c === '"') {
        broken ??= 'a quote in the middle of an unquoted field';
        field += c;
      } else if (c === ',') {
        fields.push(field);
        field = '';
        fieldStarted = false;
      } else if (c === '\n' || c === '\r') {
        if (c === '\r' && src[i + 1] === '\n') i++;
        i++;
        line++;
        break;
      } else {
        field += c;
        fieldStarted = true;
      }
    }
    if (quoted) {
      errors.push({ line: startLine, reason: 'a quoted field is never closed' });
      break;
    }
    fields.push(field);
    if (fields.length === 1 && fields[0]!.trim() === '') continue;
    if (broken) errors.push({ line: startLine, reason: broken });
    else records.push({ line: startLine, fields });
  }
  return { records, errors };
}

/** What import needs to know about the system as it is now. */
export interface HostImportContext {
  newHostId: () => string;
  imageIdByName: (name: string) => string | undefined;
  /** Host names (lowercase) and MACs already registered. */
  nameTaken: (lowercaseName: string) => boolean;
  macTaken: (mac: string) => boolean;
}

export interface HostImportPlan {
  accepted: { line: number; command: RegisterHost & HostFields }[];
  rejected: CsvLineError[];
}

/**
 * Validates every line of a FOG host CSV
 * (`"mac","name","ip","description","os","image name"`, one host a line)
 * and decides which lines can be imported. Duplicates inside the file are
 * rejected on their second occurrence, naming the line they repeat.
 *
 * @example
 * planHostImport('"00:c0:4f:18:62:63","lab-01","","Room 2","","win11"\n', ctx)
 */
export function planHostImport(text: string, context: HostImportContext): HostImportPlan {
  const { records, errors } = parseCsv(text);
  const rejected: CsvLineError[] = [...errors];
  const accepted: HostImportPlan['accepted'] = [];
  const namesInFile = new Map<string, number>();
  const macsInFile = new Map<string, number>();
  for (const { line, fields } of records) {
    if (fields.length < 2 || fields.length > 6) {
      rejected.push({ line, reason: `expected 2 to 6 fields (mac, name, ip, description, os, image), found ${fields.length}` });
      continue;
    }
    const [mac, name, ip, description, , imageName] = fields.map((f) => f.trim());
    let imageId: string | null = null;
    if (imageName) {
      const found = context.imageIdByName(imageName);
      if (!found) {
        rejected.push({ line, reason: `image "${imageName}" does not exist` });
        continue;
      }
      imageId = found;
    }
    const command = { hostId: context.newHostId(), macs: [mac ?? ''], name, ip, description, imageId };
    const fieldsResult = validateNewHost(command);
    if (!fieldsResult.ok) {
      rejected.push({ line, reason: fieldsResult.error.message });
      continue;
    }
    const host = fieldsResult.value;
    const lowerName = host.name.toLowerCase();
    const primaryMac = host.macs[0]!.mac;
    const reason =
      namesInFile.has(lowerName) ? `host name "${host.name}" repeats line ${namesInFile.get(lowerName)}`
      : macsInFile.has(primaryMac) ? `MAC ${primaryMac} repeats line ${macsInFile.get(primaryMac)}`
      : context.nameTaken(lowerName) ? `a host named "${host.name}" already exists`
      : context.macTaken(primaryMac) ? `MAC ${primaryMac} already belongs to another host`
      : undefined;
    if (reason) {
      rejected.push({ line, reason });
      continue;
    }
    namesInFile.set(lowerName, line);
    macsInFile.set(primaryMac, line);
    accepted.push({ line, command: { ...command, ...host } });
  }
  rejected.sort((a, b) => a.line - b.line);
  return { accepted, rejected };
}

/**
 * The values a CSV refers to (host names, MACs, image names), so the caller
 * can look them all up in a few queries before planning the import.
 */
export function valuesNamedBy(text: string): { names: string[]; macs: string[]; imageNames: string[] } {
  const names = new Set<string>();
  const macs = new Set<string>();
  const imageNames = new Set<string>();
  for (const { fields } of parseCsv(text).records) {
    const mac = parseMac(fields[0] ?? '');
    if (mac.ok) macs.add(mac.value);
    if (fields[1]?.trim()) names.add(fields[1].trim().toLowerCase());
    if (fields[5]?.trim()) imageNames.add(fields[5].trim().toLowerCase());
  }
  return { names: [...names], macs: [...macs], imageNames: [...imageNames] };
}
