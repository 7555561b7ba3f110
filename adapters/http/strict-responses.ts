import { isDeepStrictEqual } from 'node:util';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { HttpError } from './errors.ts';
import { RESPONSE_SCHEMAS } from './response-schemas/index.ts';
import type { Schema } from './response-schemas/schema-kit.ts';

/**
 * Checks values against the response schemas (with the shared ones
 * registered), as a client reading the documentation would: no property
 * the schema does not describe, every required one, the right types.
 */
export class ResponseChecker {
  private readonly ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
  private readonly compiled = new WeakMap<object, ValidateFunction>();

  constructor() {
    addFormats.default(this.ajv);
    for (const schema of RESPONSE_SCHEMAS) this.ajv.addSchema(schema);
  }

  /** What is wrong with `value` (a JSON value: dates as strings), or '' when it matches. */
  problems(schema: Schema, value: unknown): string {
    let validate = this.compiled.get(schema);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.compiled.set(schema, validate);
    }
    return validate(value) ? '' : describe(validate.errors ?? []);
  }
}

/**
 * Strict responses (tests, BRUME_STRICT_RESPONSES=1): every JSON answer
 * with a declared schema is checked against it before it is sent. The
 * serializer (fast-json-stringify) silently drops a property the schema
 * does not name and coerces a wrong type, so without this check a schema
 * that drifted from the code would go unnoticed; with it, the request fails
 * loudly: a 500 naming the route and what did not match, logged.
 *
 * The check runs on the answer as JSON.stringify would send it (dates as
 * ISO strings), i.e. what a client would have received without a schema,
 * and then compares it with what the serializer makes of it: a schema that
 * validates but serialises differently (an object left open, which
 * fast-json-stringify empties) fails too.
 */
export function installStrictResponses(app: FastifyInstance, checker = new ResponseChecker()): void {
  const failed = new WeakSet<FastifyRequest>();

  app.addHook('preSerialization', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    // The answer that reports a mismatch is not checked again.
    if (failed.has(request)) return payload;
    const schema = responseSchemaOf(request, reply);
    if (!schema) return payload;
    const produced: unknown = payload === undefined ? undefined : JSON.parse(JSON.stringify(payload));
    const problems = checker.problems(schema, produced) || differences(produced, JSON.parse(String(reply.serialize(payload))));
    if (problems === '') return payload;
    failed.add(request);
    const route = `${request.method} ${request.routeOptions.url ?? request.url} ${reply.statusCode}`;
    request.log.error({ route, problems, answer: produced }, 'response does not match its schema');
    throw new HttpError(500, 'response-schema', `${route}: the answer does not match its response schema: ${problems}`.slice(0, 2000));
  });
}

/** The schema fastify serialises this reply with: by status, then NXX, then default; JSON answers only. */
function responseSchemaOf(request: FastifyRequest, reply: FastifyReply): Schema | undefined {
  const responses = request.routeOptions.schema?.response as Record<string, Schema> | undefined;
  if (!responses) return undefined;
  const status = String(reply.statusCode);
  const schema = responses[status] ?? responses[`${status[0]}xx`] ?? responses[`${status[0]}XX`] ?? responses.default;
  if (!schema) return undefined;
  const content = schema.content as Record<string, { schema: Schema }> | undefined;
  return content ? content['application/json']?.schema : schema;
}

/** Where what the code produced and what the serializer sends differ (empty when they do not). */
function differences(produced: unknown, serialized: unknown, path = ''): string {
  if (isDeepStrictEqual(produced, serialized)) return '';
  const where = path || '(the answer)';
  if (typeof produced !== 'object' || produced === null || typeof serialized !== 'object' || serialized === null) {
    return `${where} is ${JSON.stringify(produced)} but the serializer sends ${JSON.stringify(serialized)}`;
  }
  const found: string[] = [];
  for (const key of new Set([...Object.keys(produced), ...Object.keys(serialized)])) {
    const inner = differences((produced as Record<string, unknown>)[key], (serialized as Record<string, unknown>)[key], `${path}/${key}`);
    if (inner) found.push(inner);
  }
  return found.join('; ');
}

function describe(errors: ErrorObject[]): string {
  return errors.map((e) => {
    const where = e.instancePath || '(the answer)';
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'additionalProperties') return `${where} has "${String(params.additionalProperty)}", which the schema does not describe`;
    if (e.keyword === 'required') return `${where} lacks "${String(params.missingProperty)}"`;
    return `${where} ${e.message ?? 'does not match'}`;
  }).join('; ');
}
