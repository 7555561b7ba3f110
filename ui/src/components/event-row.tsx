import { href } from '../router.ts';
import { routeWithQuery } from './filters-bar.tsx';
import { formatBytes, When } from './time-and-size.tsx';
import type { HistoryEvent } from './registry-types.ts';
import { Actor } from './user-names.tsx';

/** An event as GET /api/events answers it. */
export type { HistoryEvent };

const IDS = new Set(['id', 'hostId', 'taskId', 'groupId', 'imageId', 'userId', 'storageNodeId', 'runId', 'groupRunId']);

function short(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value.length > 60 ? `${value.slice(0, 57)}…` : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    const items = value.map((v) => (typeof v === 'object' && v !== null && 'mac' in v ? String((v as { mac: unknown }).mac) : short(v)));
    return items.length > 4 ? `${items.slice(0, 4).join(', ')} +${items.length - 4}` : items.join(', ');
  }
  return JSON.stringify(value).slice(0, 60);
}

/** One line of what an event says, for the common types; the full data is one click away. */
export function summarise(event: HistoryEvent): string {
  const d = event.data;
  if (event.type.endsWith('Updated') && d.changes && typeof d.changes === 'object') {
    const previous = (d.previous ?? {}) as Record<string, unknown>;
    return Object.entries(d.changes as Record<string, unknown>)
      .map(([key, value]) => (key in previous ? `${key}: ${short(previous[key])} → ${short(value)}` : `${key}: ${short(value)}`))
      .join('; ');
  }
  if (event.type === 'TaskProgressed' && typeof d.bytesTotal === 'number' && typeof d.bytesDone === 'number') {
    const percent = d.bytesTotal > 0 ? Math.round((1000 * d.bytesDone) / d.bytesTotal) / 10 : 0;
    return `${percent}% (${formatBytes(d.bytesDone)} of ${formatBytes(d.bytesTotal)})${d.partition ? `, ${String(d.partition)}` : ''}`;
  }
  if (event.type === 'GroupTaskRunStarted' && Array.isArray(d.tasks)) {
    const skipped = Array.isArray(d.skipped) ? d.skipped.length : 0;
    return `${d.tasks.length} task${d.tasks.length === 1 ? '' : 's'} created${skipped ? `, ${skipped} host${skipped === 1 ? '' : 's'} skipped` : ''}`;
  }
  const parts = Object.entries(d)
    .filter(([key, value]) => !IDS.has(key) && value !== null && value !== undefined && value !== '' && (typeof value !== 'object' || Array.isArray(value)))
    .slice(0, 4)
    .map(([key, value]) => `${key}: ${short(value)}`);
  if (d.options && typeof d.options === 'object') parts.push(`options: ${Object.entries(d.options).map(([k, v]) => `${k}=${String(v)}`).join(', ')}`);
  return parts.join('; ');
}

/** The page a stream's aggregate has in the dashboard, if any. */
function pageOfStream(event: HistoryEvent): string | null {
  const id = event.streamId.slice(event.streamType.length + 1);
  if (!id) return null;
  switch (event.streamType) {
    case 'host': return href('hosts', id);
    case 'task': return href('tasks', id);
    case 'group': return href('groups', id);
    case 'image': return href('images', id);
    case 'storage-node': return href('storage-nodes', id);
    default: return null;
  }
}

/** An id too long for its column: shown shortened, whole on hover and to screen readers, selectable to copy. */
export function IdText({ value }: { value: string | null | undefined }) {
  if (!value) return <span>—</span>;
  return <span class="mono id-text" title={value}>{value}</span>;
}

/**
 * One event of the history with everything an auditor asks about it: when,
 * what, on which stream (a link filters by it), who, why, the command it
 * came from and its correlation (a link follows it: every event the same
 * request caused) and causation. The data is in a disclosure.
 */
export function EventRow({ event, nameOf, showStream = true }: {
  event: HistoryEvent;
  nameOf: (actor: string | null | undefined) => string;
  showStream?: boolean;
}) {
  const summary = summarise(event);
  const page = pageOfStream(event);
  const hostId = event.streamType === 'host' ? event.streamId.slice('host-'.length) : null;
  return (
    <li class="event-row">
      <div class="event-row-head">
        <span class="event-row-time"><When at={event.occurredAt} /></span>
        <strong class="event-row-type">{event.type}</strong>
        {showStream && (
          <span class="event-row-stream">
            <a href={routeWithQuery(['history'], { stream: event.streamId })} title={`only events of ${event.streamId}`} class="mono">{event.streamId}</a>
            <span class="muted"> v{event.version}</span>
            {page && <> · <a href={page}>open</a></>}
            {hostId && <> · <a href={routeWithQuery(['history', 'as-of'], { hostId, at: event.occurredAt })} title="the host's state right after this event">as of then</a></>}
          </span>
        )}
      </div>
      {summary && <p class="event-row-summary">{summary}</p>}
      <dl class="event-row-meta">
        <div><dt>who</dt><dd><Actor actor={event.actor} nameOf={nameOf} /></dd></div>
        {event.reason && <div class="event-row-reason"><dt>reason</dt><dd>{event.reason}</dd></div>}
        <div><dt>command</dt><dd><IdText value={event.commandId} /></dd></div>
        <div>
          <dt>correlation</dt>
          <dd><a href={routeWithQuery(['history'], { correlationId: event.correlationId })} class="mono id-text" title={`follow ${event.correlationId}: every event it caused`}>{event.correlationId}</a></dd>
        </div>
        {event.causationId && <div><dt>caused by</dt><dd><IdText value={event.causationId} /></dd></div>}
      </dl>
      <details class="event-row-data">
        <summary>Data and position</summary>
        <p class="muted">position {event.position} · stream {event.streamId} version {event.version} · schema {event.schemaVersion}
          {hostId && <> · <a href={routeWithQuery(['history', 'as-of'], { hostId, at: event.occurredAt })}>the host as of this event</a></>}
        </p>
        <pre>{JSON.stringify(event.data, null, 2)}</pre>
      </details>
    </li>
  );
}
