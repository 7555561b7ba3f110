/**
 * Building blocks of the response schemas. Answers are described exactly:
 * every object is closed (`additionalProperties: false`) and every property
 * is required unless named optional, so the schemas say what a client can
 * count on and the strict mode (strict-responses.ts) catches a field the
 * code sends but the schema forgot.
 */

export type Schema = Record<string, unknown>;

/** A schema registered once with `app.addSchema` and referred to by `ref`; @fastify/swagger names it `components.schemas.<$id>`. */
export type SharedSchema = Schema & { $id: string };

export const shared = (id: string, schema: Schema, description?: string): SharedSchema => ({
  $id: id, ...(description ? { description } : {}), ...schema,
});

export const ref = (schema: SharedSchema): Schema => ({ $ref: `${schema.$id}#` });

/** A closed object whose properties are all required but those named in `optional`. */
export function shape(properties: Record<string, Schema>, optional: readonly string[] = []): Schema {
  const required = Object.keys(properties).filter((name) => !optional.includes(name));
  return { type: 'object', additionalProperties: false, properties, ...(required.length ? { required } : {}) };
}

/** `schema` or null: a type list for plain types, anyOf for references and unions. */
export function orNull(schema: Schema): Schema {
  if (typeof schema.type === 'string') return { ...schema, type: [schema.type, 'null'] };
  return { anyOf: [schema, { type: 'null' }] };
}

export const string: Schema = { type: 'string' };
export const integer: Schema = { type: 'integer' };
export const number: Schema = { type: 'number' };
export const boolean: Schema = { type: 'boolean' };
/** Dates leave the server as ISO 8601 strings (Date#toISOString), whether the code holds a Date or the string. */
export const dateTime: Schema = { type: 'string', format: 'date-time' };
export const choice = (values: readonly (string | null)[]): Schema =>
  (values.includes(null) ? { type: ['string', 'null'], enum: values } : { type: 'string', enum: values });
export const constant = (value: string | boolean): Schema => ({ type: typeof value, const: value });
export const arrayOf = (items: Schema): Schema => ({ type: 'array', items });
/** An object whose keys are data (counters by reason, inventory fields), every value of one schema. */
export const mapOf = (values: Schema): Schema => ({ type: 'object', additionalProperties: values });
export const described = (description: string, schema: Schema): Schema => ({ ...schema, description });

/** A list answer: `{ items, total, nextCursor }`; lists that are never paged always say `nextCursor: null`. */
export const page = (id: string, item: SharedSchema, paged: boolean): SharedSchema => shared(id, shape({
  items: arrayOf(ref(item)),
  total: { ...integer, description: 'how many match, over all pages' },
  nextCursor: paged
    ? { ...orNull(string), description: 'pass back as cursor for the next page; null on the last page' }
    : { type: 'null', description: 'the whole list is one page' },
}));
