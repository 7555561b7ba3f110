import type { FastifyInstance } from 'fastify';
import { sendVersioned } from './command.ts';
import { notFound } from './errors.ts';
import { replies } from './response-schemas/index.ts';
import type { SharedSchema } from './response-schemas/schema-kit.ts';
import { doc, idParams, object } from './schemas.ts';

/** GET <path>/:id for any resource: 404 naming it when absent, its version as ETag when present. */
export function getById(
  api: FastifyInstance,
  options: { path: string; tag: string; summary: string; what: string; answer: SharedSchema; load: (id: string) => Promise<unknown> },
): void {
  api.get<{ Params: { id: string } }>(`${options.path}/:id`, {
    config: { access: 'read' },
    schema: {
      ...doc(options.tag, options.summary),
      params: idParams,
      querystring: object({}),
      response: replies({ 200: options.answer }, { 404: `no such ${options.what}` }),
    },
  }, async (request, reply) => {
    const found = await options.load(request.params.id);
    if (!found) throw notFound(`${options.what} ${request.params.id} does not exist`);
    return sendVersioned(reply, found);
  });
}
