import type { Kysely } from 'kysely';
import type { Schema } from '../database/schema.ts';
import type { RecordedEvent } from '../../core/shared/event.ts';
import { decodeCursor, queryEvents, tailStart } from '../../projections/sql/queries.ts';
import { badRequest } from './errors.ts';

/** A date query parameter; a bad one is a 400 naming the parameter. */
export function parseDate(value: string | undefined, parameter: string): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw badRequest(`${parameter} must be a date such as 2025-05-01 or 2025-05-01T08:00:00Z, not "${value.slice(0, 40)}"`, parameter);
  }
  return date;
}

/**
 * A list cursor as the read queries issued it (a pair of strings, the first
 * a date when `firstIsDate`); anything else is a 400 rather than a query
 * that fails or silently starts over.
 */
export function checkCursor(cursor: string | undefined, firstIsDate = false): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const parts = decodeCursor(cursor);
  const valid = parts !== null && parts.length === 2 && parts.every((p) => typeof p === 'string')
    && (!firstIsDate || !Number.isNaN(new Date(parts[0] as string).getTime()));
  if (!valid) throw badRequest('cursor is not one this API issued; pass back nextCursor from the previous page unchanged', 'cursor');
  return cursor;
}

/** An event as the API shows it: position first, dates as ISO strings. */
export const eventView = (e: RecordedEvent) => ({
  position: e.globalPosition,
  type: e.type,
  streamId: e.streamId,
  streamType: e.streamType,
  version: e.version,
  data: e.data,
  schemaVersion: e.schemaVersion,
  actor: e.metadata.actor,
  commandId: e.metadata.commandId,
  correlationId: e.metadata.correlationId,
  causationId: e.metadata.causationId,
  ...(e.metadata.reason ? { reason: e.metadata.reason } : {}),
  occurredAt: e.occurredAt.toISOString(),
});

/** The last `count` events concerning a subject (e.g. `host-<id>`), oldest first. */
export async function recentEvents(db: Kysely<Schema>, subject: string, count: number) {
  const after = await tailStart(db, { subject }, count);
  const { events } = await queryEvents(db, { subject, limit: count, ...(after !== undefined ? { after } : {}) });
  return events.map(eventView);
}
