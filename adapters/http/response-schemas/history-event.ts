import { arrayOf, dateTime, integer, orNull, ref, shape, shared, string } from './schema-kit.ts';

/** An event of the log as /api/events, /api/hosts/:id and /api/stream show it (adapters/http/query.ts eventView). */
export const HistoryEvent = shared('HistoryEvent', shape({
  position: { ...integer, description: 'global position in the log' },
  type: string,
  streamId: string,
  streamType: string,
  version: { ...integer, description: 'the stream\'s version after this event' },
  data: { type: 'object', additionalProperties: true, description: 'what the event says; its fields depend on the type (core/*)' },
  schemaVersion: integer,
  actor: { ...string, description: 'a user id, system or boot-client' },
  commandId: string,
  correlationId: string,
  causationId: orNull(string),
  reason: string,
  occurredAt: dateTime,
}, ['reason']), 'An event of the log with its metadata');

export const EventPage = shared('EventPage', shape({
  events: arrayOf(ref(HistoryEvent)),
  nextAfter: { ...orNull(integer), description: 'pass back as after for the next page (oldest first); null on the last' },
  nextBefore: { ...orNull(integer), description: 'with order=newest: pass back as before; null on the last page' },
}, ['nextBefore']));

export const historyEventSchemas = [HistoryEvent, EventPage];
