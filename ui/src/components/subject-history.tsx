import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { apiGet } from '../api.ts';
import { href } from '../router.ts';
import { useSession } from '../session.ts';
import { useCatalog } from './catalog-cache.ts';
import { useUserNames } from './user-names.tsx';
import { ErrorMessage } from './error-message.tsx';
import { formatBytes } from './format-bytes.ts';
import type { EventPage, HistoryEvent, HostMac } from './registry-types.ts';
import { RelativeTime } from './relative-time.tsx';

/** Names to show instead of ids in event summaries. */
export interface EventNames {
  images: Map<string, string>;
  groups: Map<string, string>;
  nodes: Map<string, string>;
  taskTypes: Map<number, string>;
}

const shortId = (id: string) => id.slice(0, 8);

function showValue(field: string, value: unknown, names: EventNames): ComponentChildren {
  if (value === null || value === undefined || value === '') return <em>none</em>;
  if (field === 'imageId' && typeof value === 'string') return names.images.get(value) ?? shortId(value);
  if (field === 'storageNodeId' && typeof value === 'string') return names.nodes.get(value) ?? shortId(value);
  if (field === 'macs' && Array.isArray(value)) return (value as HostMac[]).map((m) => `${m.mac}${m.role === 'primary' ? '' : ` (${m.role})`}`).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function changesOf(d: Record<string, any>, names: EventNames): ComponentChildren {
  const changes = Object.entries((d.changes ?? {}) as Record<string, unknown>);
  if (changes.length === 0) return 'saved without changes';
  return <>changed {changes.map(([field, value], i) => (
    <span key={field}>{i > 0 ? '; ' : ''}{field} from {showValue(field, d.previous?.[field], names)} to {showValue(field, value, names)}</span>
  ))}</>;
}

const queueName = (queueId: unknown, names: EventNames) =>
  queueId === 'default' || typeof queueId !== 'string' ? 'brume\'s own queue' : names.nodes.get(queueId) ?? `storage node ${shortId(queueId)}`;

const taskLink = (taskId: unknown, label: ComponentChildren = 'task') =>
  typeof taskId === 'string' ? <a href={href('tasks', taskId)}>{label}</a> : label;

/**
 * One line a person can read for an event: what happened, with names and
 * links rather than ids. Unknown types show their name and data.
 *
 * @example
 * summariseEvent({ type: 'HostUpdated', data: { changes: { ip: '192.0.2.9' }, previous: { ip: null } }, ... }, names)
 * // "changed ip from none to 192.0.2.9"
 */
export function summariseEvent(event: HistoryEvent, names: EventNames, subject = ''): ComponentChildren {
  // An event's data depends on its type (the API documents it as an open object): read loosely, per type below.
  const d = event.data as Record<string, any>;
  const catalog = /^(Group|Image|StorageNode)(Created|Updated|Deleted)$/.exec(event.type);
  if (catalog) {
    if (catalog[2] === 'Created') return <>created <strong>{d.name}</strong></>;
    if (catalog[2] === 'Deleted') return <>deleted <strong>{d.name}</strong></>;
    return changesOf(d, names);
  }
  switch (event.type) {
    case 'HostRegistered':
      return <>registered <strong>{d.name}</strong> with {showValue('macs', d.macs, names)}{d.ip ? `, IP ${d.ip}` : ''}{d.imageId ? <>, image {showValue('imageId', d.imageId, names)}</> : ''}</>;
    case 'HostUpdated':
      return changesOf(d, names);
    case 'HostDeleted':
      return <>deleted <strong>{d.name}</strong></>;
    case 'HostInventoryReported':
      return `inventory reported (${Object.keys(d.inventory ?? {}).length} fields)`;
    case 'GroupMembersAdded':
    case 'GroupMembersRemoved': {
      const group = names.groups.get(d.id) ?? shortId(String(d.id));
      const hostIds = (d.hostIds as string[] | undefined) ?? [];
      if (subject.startsWith('group-')) {
        // Seen from the group: which hosts came and went.
        return <>{event.type === 'GroupMembersAdded' ? 'added' : 'removed'} {hostIds.length === 1 ? '' : `${hostIds.length} hosts: `}{hostIds.slice(0, 10).map((id, i) => (
          <span key={id}>{i > 0 ? ', ' : ''}<a href={href('hosts', id)}>host {shortId(id)}</a></span>
        ))}{hostIds.length > 10 ? ', …' : ''}</>;
      }
      const verb = event.type === 'GroupMembersAdded' ? 'added to' : 'removed from';
      return <>{hostIds.length === 1 ? '' : `${hostIds.length} hosts `}{verb} group <a href={href('groups', d.id)}>{group}</a></>;
    }
    case 'GroupTaskRunStarted':
      return <>{names.taskTypes.get(d.typeId) ?? `type ${d.typeId}`} on group <a href={href('groups', d.groupId)}>{names.groups.get(d.groupId) ?? shortId(d.groupId)}</a>: {d.tasks?.length ?? 0} tasks, {d.skipped?.length ?? 0} skipped</>;
    case 'TaskCreated':
      return <>{taskLink(d.taskId, `${names.taskTypes.get(d.typeId) ?? `type ${d.typeId}`} task`)} created{d.imageId ? <> with image {showValue('imageId', d.imageId, names)}</> : ''}{d.groupRunId ? ' (group task)' : ''}{d.replayOf ? ' (re-run)' : ''}</>;
    case 'TaskCheckedIn':
      return <>{taskLink(d.taskId)}: the machine checked in</>;
    case 'TaskStarted':
      return <>{taskLink(d.taskId)} started{d.imageRevision ? ` (revision ${d.imageRevision})` : ''}</>;
    case 'TaskProgressed':
      return <>{taskLink(d.taskId)}: {formatBytes(d.bytesDone)} of {formatBytes(d.bytesTotal)}{d.partition ? ` (${d.partition})` : ''}</>;
    case 'TaskCompleted':
      return <>{taskLink(d.taskId)} completed{d.imageRevision ? ` (revision ${d.imageRevision})` : ''}</>;
    case 'TaskFailed':
      return <>{taskLink(d.taskId)} failed: {d.reason}</>;
    case 'TaskCancelled':
      return <>{taskLink(d.taskId)} cancelled: {d.reason}</>;
    case 'TaskRequeued':
      return <>{taskLink(d.taskId)} requeued: {d.reason}</>;
    case 'TaskWakeOnLanSent':
      return <>{taskLink(d.taskId)}: Wake-on-LAN {d.sentTo?.length ? `sent to ${d.sentTo.join(', ')}` : 'not sent'} ({d.basis})</>;
    case 'BootStageObserved':
      return <>boot stage <strong>{d.stage}</strong> from {d.mac}{d.sightings > 1 ? ` (${d.sightings} times)` : ''}</>;
    case 'SlotQueueJoined':
      return <>{taskLink(d.taskId)} joined the queue of {queueName(d.queueId, names)}</>;
    case 'SlotGranted':
      return <>{taskLink(d.taskId)} got a slot on {queueName(d.queueId, names)}</>;
    case 'SlotQueueLeft':
      return <>{taskLink(d.taskId)} left the queue of {queueName(d.queueId, names)}: {d.reason}</>;
    case 'SlotReleased':
      return <>{taskLink(d.taskId)} released its slot on {queueName(d.queueId, names)}: {d.reason}</>;
    case 'ImageRevisionCommitted':
      return <>revision {d.revision} captured ({formatBytes(d.sizeBytes)})</>;
    case 'ImageRevisionDeleted':
      return <>revision {d.revision} deleted</>;
    case 'BootTokenIssued':
      return <>boot token issued for {taskLink(d.taskId)}</>;
    default:
      return <span class="mono">{JSON.stringify(d).slice(0, 200)}</span>;
  }
}

/** Ids to names for the catalog lists the summaries use. */
export function useEventNames(): EventNames {
  const images = useCatalog('images');
  const groups = useCatalog('groups');
  const nodes = useCatalog('storage-nodes');
  const types = useCatalog('task-types');
  return {
    images: new Map((images ?? []).map((i) => [i.id, i.name])),
    groups: new Map((groups ?? []).map((g) => [g.id, g.name])),
    nodes: new Map((nodes ?? []).map((n) => [n.id, n.name])),
    taskTypes: new Map((types ?? []).map((t) => [t.id, t.name])),
  };
}

/** Who did it: a user by name (you, or from GET /api/users), the system or a booted client. */
export function ActorName({ actor, nameOf }: { actor: string; nameOf?: (actor: string) => string }) {
  const session = useSession();
  if (actor === session.user.id) return <span title={actor}>{session.user.username}</span>;
  if (actor === 'system' || actor === 'boot-client') return <span>{actor}</span>;
  const name = nameOf?.(actor);
  if (name && name !== actor) return <span title={actor}>{name}</span>;
  return <span class="mono" title={actor}>user {shortId(actor)}</span>;
}

/** Events as a table, newest first or oldest first as given. */
export function EventTable({ events, names, caption, subject }: { events: HistoryEvent[]; names: EventNames; caption?: string; subject?: string }) {
  const { nameOf } = useUserNames();
  return (
    <table class="table stack events">
      {caption && <caption class="visually-hidden">{caption}</caption>}
      <thead><tr><th class="col-when">When</th><th class="col-what">What</th><th class="col-event">Event</th><th class="col-who">Who</th></tr></thead>
      <tbody>
        {events.map((e) => (
          <tr key={e.position}>
            <td data-label="When"><RelativeTime value={e.occurredAt} /></td>
            <td data-label="What" class="wrap">{summariseEvent(e, names, subject)}{e.reason && <span class="muted"> — reason: {e.reason}</span>}</td>
            <td data-label="Event" class="mono">{e.type}</td>
            <td data-label="Who"><ActorName actor={e.actor} nameOf={nameOf} /></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * What happened to a subject (`host-<id>`, `group-<id>`): the recent events
 * the caller already has, newest first, and on request the full history
 * from GET /api/events?subject=, oldest first, a page at a time.
 */
export function SubjectHistory({ subject, recent, label }: { subject: string; recent?: HistoryEvent[] | undefined; label: string }) {
  const names = useEventNames();
  const [full, setFull] = useState<Pick<EventPage, 'events' | 'nextAfter'> | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // Without recent events to start from, the history opens at its beginning.
  useEffect(() => { if (recent === undefined) void more(); }, [subject]);

  async function more() {
    setBusy(true);
    setError(null);
    try {
      const page = await apiGet('/api/events', { query: { subject, limit: 200, after: full?.nextAfter ?? undefined } });
      setFull((f) => ({ events: [...(f?.events ?? []), ...page.events], nextAfter: page.nextAfter }));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="history">
      {full === null && recent === undefined ? <p class="muted" aria-busy="true">Loading…</p> : full === null ? (
        <>
          {recent!.length === 0 ? <p class="muted">Nothing recorded yet.</p> : (
            <EventTable events={[...recent!].reverse()} names={names} subject={subject} caption={`${label}: the latest events, newest first`} />
          )}
          <p class="under-table">
            <span class="muted">The latest {recent!.length} events, newest first. </span>
            <button type="button" class="secondary" disabled={busy} onClick={more}>{busy ? 'Loading…' : 'Show the full history (oldest first)'}</button>
          </p>
        </>
      ) : (
        <>
          {full.events.length === 0 ? <p class="muted">Nothing recorded yet.</p>
            : <EventTable events={full.events} names={names} subject={subject} caption={`${label}: the full history, oldest first`} />}
          <p class="under-table">
            <span class="muted">{full.events.length} events, oldest first{full.nextAfter === null ? ' — that is all.' : '.'} </span>
            {full.nextAfter !== null && <button type="button" class="secondary" disabled={busy} onClick={more}>{busy ? 'Loading…' : 'Load more'}</button>}
            {recent !== undefined && <button type="button" class="link" onClick={() => setFull(null)}>Back to the latest</button>}
          </p>
        </>
      )}
      <ErrorMessage error={error} />
    </div>
  );
}
