import type { FastifyInstance } from 'fastify';
import { bootSchemas } from './boot.ts';
import { clientSchemas } from './client.ts';
import { ErrorSchema, Pending } from './error.ts';
import { groupSchemas } from './group.ts';
import { Health } from './health.ts';
import { historyEventSchemas } from './history-event.ts';
import { hostImportSchemas } from './host-import.ts';
import { hostSchemas } from './host.ts';
import { imageSchemas } from './image.ts';
import { ref, type Schema, type SharedSchema } from './schema-kit.ts';
import { storageNodeSchemas } from './storage-node.ts';
import { streamSchemas } from './stream.ts';
import { taskSchemas } from './task.ts';
import { userSchemas } from './user.ts';

/**
 * What the API answers, one module per resource. The shapes are registered
 * once (`addResponseSchemas`) and referred to by `$ref`, so fastify
 * serialises with them and @fastify/swagger lists them by name under
 * `components.schemas` of /api/openapi.json, which the dashboard's types
 * are generated from (ui/scripts/generate-api-types.ts).
 */
export const RESPONSE_SCHEMAS: readonly SharedSchema[] = [
  ErrorSchema, Pending, Health,
  ...historyEventSchemas, ...taskSchemas, ...hostSchemas, ...hostImportSchemas, ...groupSchemas, ...imageSchemas,
  ...storageNodeSchemas, ...streamSchemas, ...userSchemas, ...bootSchemas, ...clientSchemas,
];

export function addResponseSchemas(app: FastifyInstance): void {
  for (const schema of RESPONSE_SCHEMAS) app.addSchema(schema);
}

/** 204: nothing in the body. */
export const noContent: Schema = { type: 'null', description: 'done; nothing to show' };

const asRef = (schema: Schema | SharedSchema): Schema => (typeof schema.$id === 'string' ? ref(schema as SharedSchema) : schema);

/**
 * A route's `response`: its answers by status, and the Error shape for
 * every other 4xx and 5xx (errors.ts answers every failure in it). `errors`
 * names the statuses worth documenting with when they happen.
 *
 * @example
 * schema: { ...doc('hosts', 'A host'), response: replies({ 200: HostDetail }, { 404: 'no such host' }) }
 */
export function replies(answers: Record<number, Schema | SharedSchema>, errors: Record<number, string> = {}): Schema {
  const error = ref(ErrorSchema);
  return {
    ...Object.fromEntries(Object.entries(answers).map(([status, schema]) => [status, asRef(schema)])),
    ...Object.fromEntries(Object.entries(errors).map(([status, description]) => [status, { ...error, description }])),
    '4xx': { ...error, description: 'refused: bad input, not signed in, not allowed, not found, conflict...' },
    '5xx': { ...error, description: 'the server failed; the details are in its log' },
  };
}

/**
 * A command's answers: the resource as it reads once the command's events
 * are in the read models, or 202 when they did not catch up in time.
 */
export const commandReplies = (status: 200 | 201, answer: SharedSchema, errors: Record<number, string> = {}): Schema =>
  replies({ [status]: answer, 202: Pending }, { 409: 'a lost race (If-Match) or a rule the change breaks', ...errors });
