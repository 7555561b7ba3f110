import { arrayOf, boolean, integer, shape, shared, string } from './schema-kit.ts';

export const ImportReport = shared('ImportReport', shape({
  dryRun: boolean,
  imported: { ...arrayOf(shape({ line: integer, hostId: string, name: string, mac: string })), description: 'imported (or, in a dry run, importable) lines' },
  rejected: arrayOf(shape({ line: integer, reason: string })),
}), 'Which lines of a FOG host CSV were imported and why the others were not');

export const hostImportSchemas = [ImportReport];
