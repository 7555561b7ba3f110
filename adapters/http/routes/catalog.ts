import type { Kysely } from 'kysely';
import type { Schema } from '../../database/schema.ts';
import type { CommandMeta, CommandOutcome } from '../../../core/application/command-runner.ts';
import type { EntityCommandResult } from '../../../core/application/catalog-commands.ts';
import type { Permission } from '../../../core/users/permissions.ts';
import type { Brume } from '../../runtime/brume.ts';
import { commandMetaOf, respond } from '../command.ts';
import type { RouteModule } from '../context.ts';
import { getById } from '../read-routes.ts';
import { doc, idParams, object } from '../schemas.ts';
import { commandReplies, noContent, replies } from '../response-schemas/index.ts';
import type { SharedSchema } from '../response-schemas/schema-kit.ts';

type Fields = Record<string, unknown>;

interface CatalogCommands {
  create(meta: CommandMeta, input: Fields): Promise<CommandOutcome<EntityCommandResult>>;
  update(meta: CommandMeta, id: string, changes: Fields): Promise<CommandOutcome<EntityCommandResult>>;
  remove(meta: CommandMeta, id: string): Promise<CommandOutcome<EntityCommandResult>>;
}

/** What differs between images, storage nodes and groups; the routes are the same. */
export interface CatalogResource {
  /** e.g. /api/images */
  path: string;
  tag: string;
  /** e.g. "image", for messages and docs. */
  what: string;
  fields: Record<string, Record<string, unknown>>;
  required: string[];
  commands: (brume: Brume) => CatalogCommands;
  list: (db: Kysely<Schema>) => Promise<unknown[]>;
  get: (db: Kysely<Schema>, id: string) => Promise<unknown>;
  /** What the list answers, and what one of them (read or changed) answers. */
  answers: { list: SharedSchema; one: SharedSchema };
  /** Who may change it; reading needs `read`. */
  write?: Permission;
}

/** List, create, read, change and delete for one catalog resource. */
export const catalogRoutes = (resource: CatalogResource): RouteModule => (api, { brume }) => {
  const { path, tag, what } = resource;
  const db = brume.database.db;
  const write = resource.write ?? 'catalog:write';
  const commands = resource.commands(brume);
  const view = async ({ id }: EntityCommandResult) => resource.get(db, id);

  api.get(path, {
    config: { access: 'read' },
    schema: { ...doc(tag, `List ${what}s by name`), querystring: object({}), response: replies({ 200: resource.answers.list }) },
  }, async () => {
    const items = await resource.list(db);
    return { items, total: items.length, nextCursor: null };
  });

  api.post<{ Body: Fields }>(path, {
    config: { access: write },
    schema: { ...doc(tag, `Create a ${what}`), body: object(resource.fields, resource.required), response: commandReplies(201, resource.answers.one) },
  }, async (request, reply) => {
    const outcome = await commands.create(commandMetaOf(request), request.body);
    return respond(brume, reply, outcome, { expects: 'id', status: 201, view, what: `the ${what}` });
  });

  getById(api, { path, tag, summary: `A ${what}`, what, answer: resource.answers.one, load: (id) => resource.get(db, id) });

  api.patch<{ Params: { id: string }; Body: Fields }>(`${path}/:id`, {
    config: { access: write },
    schema: {
      ...doc(tag, `Change some of a ${what}'s fields (send If-Match with the version you read)`),
      params: idParams,
      body: object(resource.fields),
      response: commandReplies(200, resource.answers.one, { 404: `no such ${what}` }),
    },
  }, async (request, reply) => {
    const outcome = await commands.update(commandMetaOf(request), request.params.id, request.body);
    return respond(brume, reply, outcome, { expects: 'id', view, what: `the ${what}` });
  });

  api.delete<{ Params: { id: string } }>(`${path}/:id`, {
    config: { access: write },
    schema: {
      ...doc(tag, `Delete a ${what}`),
      params: idParams,
      response: replies({ 204: noContent }, { 404: `no such ${what}`, 409: 'a lost race (If-Match) or still in use' }),
    },
  }, async (request, reply) => {
    const outcome = await commands.remove(commandMetaOf(request), request.params.id);
    return respond(brume, reply, outcome, { expects: 'id', status: 204 });
  });
};
