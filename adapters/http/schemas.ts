import { MAX_PAGE } from '../../projections/sql/queries.ts';

/**
 * JSON schemas shared by the routes. Unknown fields are refused (a typo
 * should not be silently dropped), so every object schema here closes
 * its properties.
 */

type Schema = Record<string, unknown>;

/** A closed object: only the listed properties, `required` among them. */
export const object = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...(required.length ? { required } : {}),
});

export const text = (maxLength: number, description?: string): Schema => ({
  type: 'string', maxLength, ...(description ? { description } : {}),
});
export const nonEmpty = (maxLength: number, description?: string): Schema => ({ ...text(maxLength, description), minLength: 1 });
export const nullable = (maxLength: number, description?: string): Schema => ({
  type: ['string', 'null'], maxLength, ...(description ? { description } : {}),
});
export const integer = (minimum: number, maximum: number, description?: string): Schema => ({
  type: 'integer', minimum, maximum, ...(description ? { description } : {}),
});
export const boolean = (description?: string): Schema => ({ type: 'boolean', ...(description ? { description } : {}) });
export const id = (description = 'an id'): Schema => nonEmpty(100, description);
export const ids = (description: string): Schema => ({ type: 'array', maxItems: 10_000, items: id(), description });

export const idParams = object({ id: id() }, ['id']);

export const pageQuery = {
  limit: integer(1, MAX_PAGE, `page size (default 50, at most ${MAX_PAGE})`),
  cursor: text(1000, 'the nextCursor of the previous page'),
};

export const dateQuery = (what: string): Schema => text(40, `${what}, ISO 8601 (e.g. 2025-05-01T08:00:00Z)`);

export const errorSchema = object(
  {
    error: text(40, 'validation, not-found, conflict, forbidden, unauthorized, ...'),
    message: text(2000, 'what went wrong and what to do about it'),
    field: text(200, 'the input at fault'),
    currentVersion: { type: 'integer', description: 'the version the resource is at now (after a 409)' },
  },
  ['error', 'message'],
);

/** A route's OpenAPI summary and tag plus the security it needs, in one place. */
export const doc = (tag: string, summary: string, extra: Schema = {}): Schema => ({
  tags: [tag],
  summary,
  security: [{ session: [] }, { bearer: [] }],
  ...extra,
});

export const publicDoc = (tag: string, summary: string, extra: Schema = {}): Schema => ({ tags: [tag], summary, security: [], ...extra });
