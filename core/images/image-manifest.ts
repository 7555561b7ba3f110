/**
 * The manifest of a captured image revision (`brume-image/1`,
 * docs/client-protocol.md): the disk it came from, each partition and how
 * it was saved, and every file with its size and sha256. The agent writes
 * it; the server checks it here before trusting any of it.
 */

export interface ManifestFile {
  name: string;
  sizeBytes: number;
  sha256: string;
}

export interface ManifestPartition {
  number: number;
  device: string;
  startSector: number;
  sizeSectors: number;
  filesystem: string;
  tool: string;
  file: string;
  imageBytes: number | null;
  minSizeBytes: number | null;
  resizable: boolean;
}

export interface ImageManifest {
  format: 'brume-image/1';
  imageType: string;
  disk: { sizeBytes: number; sectorSize: number; label: string };
  partitionTable: string;
  partitions: ManifestPartition[];
  files: ManifestFile[];
}

export type ManifestCheck = { ok: true; manifest: ImageManifest } | { ok: false; message: string };

const FILE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isText = (v: unknown, max = 200): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;

/**
 * Validates a manifest from a client (or the store), keeping only the known fields.
 *
 * @example
 * parseManifest({ format: 'brume-image/1', ... }) // { ok: true, manifest }
 */
export function parseManifest(input: unknown): ManifestCheck {
  const fail = (message: string): ManifestCheck => ({ ok: false, message: `manifest: ${message}` });
  if (typeof input !== 'object' || input === null) return fail('must be an object');
  const m = input as Record<string, any>;
  if (m.format !== 'brume-image/1') return fail(`format must be "brume-image/1", not ${JSON.stringify(m.format)}`);
  if (!isText(m.imageType, 10)) return fail('imageType is missing');
  const disk = m.disk as Record<string, unknown> | undefined;
  if (!disk || !isCount(disk.sizeBytes) || !isCount(disk.sectorSize) || !isText(disk.label, 20)) {
    return fail('disk needs sizeBytes, sectorSize and label');
  }
  if (!isText(m.partitionTable, 64) || !FILE_NAME.test(m.partitionTable)) return fail('partitionTable must name a file');
  if (!Array.isArray(m.files) || m.files.length === 0 || m.files.length > 256) return fail('files must list 1 to 256 files');
  const files: ManifestFile[] = [];
  for (const f of m.files as Record<string, unknown>[]) {
    if (!f || !isText(f.name, 64) || !FILE_NAME.test(f.name)) return fail(`file name ${JSON.stringify(f?.name)} is not allowed`);
    if (!isCount(f.sizeBytes)) return fail(`${f.name}: sizeBytes must be a whole number`);
    if (typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256)) return fail(`${f.name}: sha256 must be 64 lowercase hex digits`);
    if (files.some((g) => g.name === f.name)) return fail(`${f.name} is listed twice`);
    files.push({ name: f.name, sizeBytes: f.sizeBytes, sha256: f.sha256 });
  }
  const names = new Set(files.map((f) => f.name));
  if (!names.has(m.partitionTable)) return fail(`the partition table ${m.partitionTable} is not among the files`);
  if (!Array.isArray(m.partitions) || m.partitions.length > 128) return fail('partitions must be a list');
  const partitions: ManifestPartition[] = [];
  for (const p of m.partitions as Record<string, unknown>[]) {
    if (!p || !isCount(p.number) || !isCount(p.startSector) || !isCount(p.sizeSectors)) {
      return fail('each partition needs number, startSector and sizeSectors');
    }
    if (!isText(p.filesystem, 40) || !isText(p.tool, 40) || !isText(p.file, 64) || !names.has(p.file)) {
      return fail(`partition ${p.number}: filesystem, tool and a file among the files are required`);
    }
    partitions.push({
      number: p.number, device: isText(p.device, 40) ? p.device : '', startSector: p.startSector, sizeSectors: p.sizeSectors,
      filesystem: p.filesystem, tool: p.tool, file: p.file,
      imageBytes: isCount(p.imageBytes) ? p.imageBytes : null,
      minSizeBytes: isCount(p.minSizeBytes) ? p.minSizeBytes : null,
      resizable: p.resizable === true,
    });
  }
  return {
    ok: true,
    manifest: {
      format: 'brume-image/1', imageType: m.imageType,
      disk: { sizeBytes: disk.sizeBytes, sectorSize: disk.sectorSize, label: disk.label },
      partitionTable: m.partitionTable, partitions, files,
    },
  };
}
