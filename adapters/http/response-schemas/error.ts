import { errorSchema } from '../schemas.ts';
import { constant, shared, string } from './schema-kit.ts';

/** Every 4xx and 5xx answer (errors.ts makes them all this one shape). */
export const ErrorSchema = shared('Error', errorSchema, 'What went wrong: a kind, a message for a person, the input at fault, the current version after a lost race');

/**
 * 202: the command was recorded but the read models had not caught up in
 * time to show its result. It carries the command's own answer (ids,
 * version) beside these two fields, which differ per command: the one
 * deliberately open object of the API.
 */
export const Pending = shared('Pending', {
  type: 'object',
  additionalProperties: true,
  required: ['pending', 'message'],
  properties: { pending: constant(true), message: string },
}, 'Recorded, but not readable yet; read the resource again in a moment');
