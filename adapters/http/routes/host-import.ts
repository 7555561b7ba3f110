import { HttpError } from '../errors.ts';
import { commandMetaOf, respond } from '../command.ts';
import type { RouteModule } from '../context.ts';
import { boolean, doc, object } from '../schemas.ts';
import { replies } from '../response-schemas/index.ts';
import { ImportReport } from '../response-schemas/host-import.ts';

/** FOG host exports run to tens of thousands of lines; 20 MiB holds well over 100,000. */
export const CSV_BODY_LIMIT = 20 * 1024 * 1024;
const CSV_TYPES = ['text/csv', 'text/plain'];

/** POST /api/hosts/import: a FOG host CSV in, a per-line report out. */
export const hostImportRoutes: RouteModule = (api, { brume }) => {
  api.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  api.post<{ Body: string; Querystring: { dryRun?: boolean; allOrNothing?: boolean } }>('/api/hosts/import', {
    config: { access: 'hosts:write' },
    bodyLimit: CSV_BODY_LIMIT,
    schema: {
      ...doc('hosts', 'Import hosts from a FOG CSV ("mac","name","ip","description","os","image name" a line); answers which lines were imported and why the others were not', {
        consumes: CSV_TYPES,
      }),
      querystring: object({
        dryRun: boolean('check every line and report, but record nothing'),
        allOrNothing: boolean('import nothing if any line is rejected'),
      }),
      body: { type: 'string', maxLength: CSV_BODY_LIMIT, description: 'the CSV file, as text/csv' },
      response: replies(
        { 200: ImportReport, 201: ImportReport },
        { 409: 'an accepted line lost a race (its name or MAC was taken meanwhile): nothing was imported', 415: 'not text/csv' },
      ),
    },
    preValidation: async (request) => {
      const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (!CSV_TYPES.includes(type)) {
        throw new HttpError(415, 'unsupported-media-type', `send the CSV file itself with content-type text/csv, not ${type || 'no content-type'}`);
      }
    },
  }, async (request, reply) => {
    const outcome = await brume.commands.hosts.importCsv(commandMetaOf(request), request.body, request.query);
    return respond(brume, reply, outcome, {
      expects: 'imported',
      status: (report) => (!report.dryRun && report.imported.length > 0 ? 201 : 200),
    });
  });
};
