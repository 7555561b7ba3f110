import { HistoryEvent } from './history-event.ts';
import { arrayOf, dateTime, integer, ref, shape, shared, string, type SharedSchema } from './schema-kit.ts';
import { progressFigures } from './task.ts';

/**
 * The data of GET /api/stream's Server-Sent Events, by event name. They are
 * not JSON answers, so they are listed in the stream's description and here
 * for clients (the dashboard's live.ts) and the stream's tests.
 */

export const LiveProgress = shared('LiveProgress', shape({
  taskId: string,
  ...progressFigures,
  at: { ...dateTime, description: 'when the client reported' },
}), 'A running task\'s freshest report');

export const StreamProgress = shared('StreamProgress', shape({ items: arrayOf(ref(LiveProgress)) }), 'event progress: every task in progress, every second');

export const StreamPosition = shared('StreamPosition', shape({ position: integer }), 'event ready: the position the stream starts after');

export const StreamReset = shared('StreamReset', shape({ position: integer, reason: string }), 'event reset: too much was missed; reload, then go on from position');

export const StreamSignedOut = shared('StreamSignedOut', shape({ message: string }),
  'event signed-out: the session or token stopped being valid (signed out, expired, revoked, disabled, role changed); the stream ends');

export const STREAM_EVENTS: Readonly<Record<string, SharedSchema>> = {
  brume: HistoryEvent, progress: StreamProgress, ready: StreamPosition, reset: StreamReset, 'signed-out': StreamSignedOut,
};

export const streamSchemas = [LiveProgress, StreamProgress, StreamPosition, StreamReset, StreamSignedOut];
