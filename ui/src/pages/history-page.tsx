import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, apiGet } from '../api.ts';
import { href } from '../router.ts';
import { EntityPicker, type Picked } from '../components/entity-picker.tsx';
import { EventRow, IdText, type HistoryEvent } from '../components/event-row.tsx';
import type { Host, HostAsOf, HostMac } from '../components/registry-types.ts';
import { FiltersBar, goTo, routeWithQuery } from '../components/filters-bar.tsx';
import { fieldMessage, FieldMessage, FormMessage, invalidProps } from '../components/form-feedback.tsx';
import { fromLocalInput, toLocalInput, When } from '../components/time-and-size.tsx';
import { useUserNames } from '../components/user-names.tsx';
import type { PageProps } from './index.ts';

/** History: #/history (every event, filtered) and #/history/as-of (a host at a past moment). */
export function HistoryPage({ route }: PageProps) {
  const view = route.path[1] === 'as-of' ? 'as-of' : 'events';
  return (
    <section class="history-page">
      <h1>History</h1>
      <nav class="tabs" aria-label="history views">
        <a href={href('history')} aria-current={view === 'events' ? 'page' : undefined}>Events</a>
        <a href={href('history', 'as-of')} aria-current={view === 'as-of' ? 'page' : undefined}>A host as of a moment</a>
      </nav>
      {view === 'as-of' ? <HostAsOf query={route.query} /> : <EventLog query={route.query} />}
    </section>
  );
}

/* ------------------------------------------------------------ the events */

const KNOWN_TYPES = [
  'HostRegistered', 'HostUpdated', 'HostDeleted', 'HostInventoryReported',
  'GroupCreated', 'GroupUpdated', 'GroupDeleted', 'GroupMembersAdded', 'GroupMembersRemoved', 'GroupTaskRunStarted',
  'ImageCreated', 'ImageUpdated', 'ImageDeleted', 'ImageRevisionCommitted', 'ImageRevisionDeleted',
  'StorageNodeCreated', 'StorageNodeUpdated', 'StorageNodeDeleted',
  'TaskCreated', 'TaskCheckedIn', 'TaskStarted', 'TaskProgressed', 'TaskCompleted', 'TaskFailed', 'TaskCancelled', 'TaskRequeued', 'TaskWakeOnLanSent',
  'SlotQueueJoined', 'SlotGranted', 'SlotQueueLeft', 'SlotReleased',
  'BootStageObserved', 'BootTokenIssued',
  'UserCreated', 'UserRoleChanged', 'UserPasswordChanged', 'UserDisabled', 'UserEnabled', 'UserLoggedIn', 'ApiTokenIssued', 'ApiTokenRevoked',
];

const FILTER_KEYS = ['stream', 'subject', 'type', 'actor', 'correlationId', 'from', 'to'] as const;
type EventFilters = Record<(typeof FILTER_KEYS)[number], string>;

const PAGE_SIZE = 100;

function filtersOf(query: URLSearchParams): EventFilters {
  return Object.fromEntries(FILTER_KEYS.map((k) => [k, query.get(k) ?? ''])) as EventFilters;
}

/** from/to live in the URL as ISO times; the inputs show them in local time. */
function apiQuery(filters: EventFilters) {
  return { ...filters, from: filters.from || undefined, to: filters.to || undefined };
}

function EventLog({ query }: { query: URLSearchParams }) {
  const { users, nameOf } = useUserNames();
  const filters = filtersOf(query);
  const key = JSON.stringify(filters);
  const [draft, setDraft] = useState(filters);
  const [events, setEvents] = useState<HistoryEvent[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  // Newest first by default (what just happened); a followed correlation reads best as the story it tells, oldest first.
  const order: 'newest' | 'oldest' = query.get('order') === 'oldest' || (query.get('order') !== 'newest' && filters.correlationId) ? 'oldest' : 'newest';
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const ticket = useRef(0);

  useEffect(() => { setDraft(filters); }, [key]);

  function load(cursor?: number) {
    const mine = ++ticket.current;
    setLoading(true);
    const paging = order === 'newest' ? { order, before: cursor } : { after: cursor };
    apiGet('/api/events', { query: { ...apiQuery(filters), limit: PAGE_SIZE, ...paging } }).then(
      (answer) => {
        if (mine !== ticket.current) return;
        setEvents((known) => (cursor === undefined ? answer.events : [...(known ?? []), ...answer.events]));
        setNext(order === 'newest' ? answer.nextBefore ?? null : answer.nextAfter);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => { if (mine === ticket.current) { setError(e); setLoading(false); if (cursor === undefined) setEvents([]); } },
    );
  }
  useEffect(() => load(), [key, order]);
  const flipOrder = () => {
    const params = new URLSearchParams(query);
    params.set('order', order === 'newest' ? 'oldest' : 'newest');
    goTo(`#/history?${params.toString()}`);
  };

  const apply = (next: EventFilters) => goTo(routeWithQuery(['history'], next));
  const since = (hours: number) => apply({ ...draft, from: new Date(Math.floor((Date.now() - hours * 3_600_000) / 1000) * 1000).toISOString(), to: '' });
  const filtered = Object.values(filters).some(Boolean);
  const field = (name: keyof EventFilters) => fieldMessage(error, name);
  const input = (name: keyof EventFilters, label: string, placeholder: string, extra: Record<string, unknown> = {}) => (
    <div class="filter-field" key={name}>
      <label for={`history-${name}`}>{label}</label>
      <input id={`history-${name}`} type="text" spellcheck={false} placeholder={placeholder} value={draft[name]}
        onInput={(e) => setDraft({ ...draft, [name]: e.currentTarget.value.trim() })} {...invalidProps(`history-${name}`, field(name))} {...extra} />
      <FieldMessage id={`history-${name}`} message={field(name)} />
    </div>
  );

  return (
    <>
      <FiltersBar label="Filter the history" onApply={() => apply(draft)} onClear={() => apply(filtersOf(new URLSearchParams()))} canClear={filtered}>
        {input('stream', 'Stream', 'host-<id>, task-<id>…')}
        {input('subject', 'Concerning', 'host-<id>: its tasks too')}
        {input('type', 'Event type', 'e.g. TaskCancelled', { list: 'history-types' })}
        <datalist id="history-types">{KNOWN_TYPES.map((t) => <option value={t} key={t} />)}</datalist>
        <div class="filter-field">
          <label for="history-actor">Who</label>
          <select id="history-actor" value={draft.actor} onChange={(e) => apply({ ...draft, actor: e.currentTarget.value })} {...invalidProps('history-actor', field('actor'))}>
            <option value="">Anyone</option>
            {users.map((u) => <option value={u.id} key={u.id}>{u.username} ({u.role})</option>)}
            <option value="system">system</option>
            <option value="boot-client">boot-client (booted machines)</option>
            {draft.actor && !users.some((u) => u.id === draft.actor) && !['system', 'boot-client'].includes(draft.actor) && <option value={draft.actor}>{draft.actor}</option>}
          </select>
          <FieldMessage id="history-actor" message={field('actor')} />
        </div>
        {input('correlationId', 'Correlation', 'follow one request')}
        <div class="filter-field filter-field-wide">
          <label for="history-from">From</label>
          <input id="history-from" type="datetime-local" step="1" value={toLocalInput(draft.from)}
            onChange={(e) => setDraft({ ...draft, from: fromLocalInput(e.currentTarget.value) })} {...invalidProps('history-from', field('from'))} />
          <FieldMessage id="history-from" message={field('from')} />
        </div>
        <div class="filter-field filter-field-wide">
          <label for="history-to">Before</label>
          <input id="history-to" type="datetime-local" step="1" value={toLocalInput(draft.to)}
            onChange={(e) => setDraft({ ...draft, to: fromLocalInput(e.currentTarget.value) })} {...invalidProps('history-to', field('to'))} />
          <FieldMessage id="history-to" message={field('to')} />
        </div>
      </FiltersBar>
      <div class="quick-ranges" role="group" aria-label="quick time ranges">
        <span class="muted small">Since:</span>
        <button type="button" class="secondary small" onClick={() => since(1)}>1 hour ago</button>
        <button type="button" class="secondary small" onClick={() => since(24)}>24 hours ago</button>
        <button type="button" class="secondary small" onClick={() => since(24 * 7)}>7 days ago</button>
      </div>
      {filters.correlationId && <CorrelationBanner correlationId={filters.correlationId} events={events} />}
      <FormMessage error={error} shownFields={[...FILTER_KEYS]} />
      <p class="list-status" aria-live="polite">
        {events === null ? 'Loading the history…'
          : `${events.length}${next !== null ? '+' : ''} event${events.length === 1 ? '' : 's'}, ${order} first${filtered ? ', filtered' : ''}`}
        {loading && events !== null && <span class="muted"> · loading</span>}
        {' '}<button type="button" class="link" onClick={flipOrder}>{order === 'newest' ? 'Show oldest first' : 'Show newest first'}</button>
      </p>
      {events && events.length === 0 && !error && <p class="muted">No event matches.</p>}
      {events && events.length > 0 && (
        <ol class="event-list" aria-busy={loading}>
          {events.map((e) => <EventRow event={e} nameOf={nameOf} key={e.position} />)}
        </ol>
      )}
      {next !== null && (
        <button type="button" class="secondary load-more" disabled={loading} onClick={() => load(next)}>
          {order === 'newest' ? `Load the ${PAGE_SIZE} before these` : `Load the next ${PAGE_SIZE}`}
        </button>
      )}
      {filters.correlationId && events && <CausedTasks events={events} correlationId={filters.correlationId} nameOf={nameOf} />}
    </>
  );
}

/** What "following a correlation" means, said once above the events. */
function CorrelationBanner({ correlationId, events }: { correlationId: string; events: HistoryEvent[] | null }) {
  const first = events?.[0];
  return (
    <div class="correlation-banner" role="status">
      <p>Following correlation <IdText value={correlationId} />: the request that started it and every event recorded under it
        {first && <>, from <When at={first.occurredAt} /></>}.</p>
      <p class="muted small">Tasks it created go on under their own correlation (their clients' reports); they are listed below the events.</p>
    </div>
  );
}

/**
 * One group deploy and all it caused: the tasks a correlation created,
 * each opening onto its own events (check-in, progress, completion) as
 * they were recorded later, under the task's correlation.
 */
function CausedTasks({ events, correlationId, nameOf }: { events: HistoryEvent[]; correlationId: string; nameOf: (a: string | null | undefined) => string }) {
  const created = events.filter((e) => e.type === 'TaskCreated');
  if (created.length === 0) return null;
  return (
    <div class="caused-tasks">
      <h2>What followed: {created.length} task{created.length === 1 ? '' : 's'} this created</h2>
      <ul class="plain-list">
        {created.map((e) => <CausedTask key={e.position} created={e} correlationId={correlationId} nameOf={nameOf} />)}
      </ul>
    </div>
  );
}

function CausedTask({ created, correlationId, nameOf }: { created: HistoryEvent; correlationId: string; nameOf: (a: string | null | undefined) => string }) {
  const taskId = String(created.data.taskId ?? created.streamId.replace(/^task-/, ''));
  const [open, setOpen] = useState(false);
  const [later, setLater] = useState<HistoryEvent[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!open || later) return;
    apiGet('/api/events', { query: { subject: `task-${taskId}`, limit: 500 } }).then(
      (answer) => setLater(answer.events.filter((e) => e.correlationId !== correlationId)),
      setError,
    );
  }, [open]);
  return (
    <li>
      <details onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
        <summary><a href={href('tasks', taskId)}>task <IdText value={taskId} /></a> on host <IdText value={String(created.data.hostId ?? '')} /></summary>
        <FormMessage error={error} />
        {later === null ? <p class="muted">Loading…</p> : later.length === 0 ? <p class="muted">Nothing since it was created.</p> : (
          <ol class="event-list">{later.map((e) => <EventRow event={e} nameOf={nameOf} key={e.position} showStream={false} />)}</ol>
        )}
      </details>
    </li>
  );
}

/* ----------------------------------------------------- a host as of then */

/** The host as it is now (GET /api/hosts/:id): the fields the as-of answer compares with. */
type HostNow = Pick<Host, 'name' | 'description' | 'macs' | 'ip' | 'imageId' | 'storageNodeId' | 'site' | 'version'>;

const FIELDS: { key: keyof HostNow & keyof HostAsOf; label: string }[] = [
  { key: 'name', label: 'Name' },
  { key: 'description', label: 'Description' },
  { key: 'macs', label: 'MACs' },
  { key: 'ip', label: 'IP' },
  { key: 'imageId', label: 'Image' },
  { key: 'storageNodeId', label: 'Storage node' },
  { key: 'site', label: 'Site' },
];

function HostAsOf({ query }: { query: URLSearchParams }) {
  const hostId = query.get('hostId') ?? '';
  const at = query.get('at') ?? '';
  const [host, setHost] = useState<Picked | null>(hostId ? { id: hostId, name: hostId } : null);
  const [moment, setMoment] = useState(at);
  const [then, setThen] = useState<HostAsOf | null>(null);
  const [now, setNow] = useState<HostNow | null | 'deleted'>(null);
  const [changes, setChanges] = useState<HistoryEvent[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [names, setNames] = useState<Map<string, string>>(new Map());
  const { nameOf } = useUserNames();

  useEffect(() => { setMoment(at); }, [at]);
  useEffect(() => {
    if (!hostId) { setHost(null); return; }
    if (host?.id !== hostId) setHost({ id: hostId, name: hostId });
    apiGet('/api/hosts/{id}', { params: { id: hostId } }).then(
      (found) => { setNow(found); setHost({ id: hostId, name: found.name }); },
      (e: unknown) => setNow(e instanceof ApiError && e.status === 404 ? 'deleted' : null),
    );
    apiGet('/api/events', { query: { stream: `host-${hostId}`, limit: 500 } }).then((a) => setChanges(a.events), () => setChanges([]));
  }, [hostId]);
  useEffect(() => {
    Promise.all([
      apiGet('/api/images').catch(() => ({ items: [] })),
      apiGet('/api/storage-nodes').catch(() => ({ items: [] })),
    ]).then(([images, nodes]) => setNames(new Map([...images.items, ...nodes.items].map((i) => [i.id, i.name]))));
  }, []);
  useEffect(() => {
    setThen(null);
    setError(null);
    if (!hostId || !at) return;
    apiGet('/api/hosts/{id}/as-of', { params: { id: hostId }, query: { at } }).then((answer) => {
      setThen(answer);
      if (host?.name === hostId) setHost({ id: hostId, name: answer.name });
    }, setError);
  }, [hostId, at]);

  function show(event?: Event) {
    event?.preventDefault();
    if (!host) { setError(new ApiError(400, 'validation', 'choose a host', 'hostId')); return; }
    if (!moment) { setError(new ApiError(400, 'validation', 'choose a moment', 'at')); return; }
    goTo(routeWithQuery(['history', 'as-of'], { hostId: host.id, at: moment }));
  }

  const render = (key: (typeof FIELDS)[number]['key'], value: unknown) => {
    if (key === 'macs') {
      const macs = (value ?? []) as HostMac[];
      return macs.length === 0 ? '—' : (
        <ul class="mac-list">{macs.map((m) => <li key={m.mac}><span class="mono">{m.mac}</span> <span class="muted small">{m.role}{m.ignoreForImaging ? ', not for imaging' : ''}</span></li>)}</ul>
      );
    }
    if ((key === 'imageId' || key === 'storageNodeId') && typeof value === 'string') return names.get(value) ?? value;
    return value === null || value === undefined || value === '' ? '—' : String(value);
  };
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const current = now !== null && now !== 'deleted' ? now : null;

  return (
    <>
      <p class="muted">The host's stream folded up to the moment you choose: what it was called, its MACs, IP and image then. Pick a change below to step through them.</p>
      <form class="as-of-form" onSubmit={show}>
        <EntityPicker kind="host" id="as-of-host" label="Host" value={host} onChange={setHost} required message={fieldMessage(error, 'hostId')} />
        <div class="form-field">
          <label for="as-of-at">As of</label>
          <div class="inline-controls">
            <input id="as-of-at" type="datetime-local" step="0.001" value={toLocalInput(moment)} required
              onChange={(e) => setMoment(fromLocalInput(e.currentTarget.value))} {...invalidProps('as-of-at', fieldMessage(error, 'at'))} />
            <button type="button" class="secondary" onClick={() => setMoment(new Date().toISOString())}>Now</button>
          </div>
          <FieldMessage id="as-of-at" message={fieldMessage(error, 'at')} />
        </div>
        <div class="form-actions"><button type="submit">Show</button></div>
      </form>
      <FormMessage error={error} shownFields={['hostId', 'at']} />
      {then && (
        <div class="as-of-result">
          <h2>{then.name} as of <When at={then.at} /></h2>
          <p>
            {then.status === 'deleted' ? <strong class="error">Deleted by then. </strong> : null}
            Version {then.version} of {then.currentVersion}: last changed <When at={then.lastEventAt} /> ({then.lastEventType}).
            {' '}<a href={routeWithQuery(['history'], { stream: `host-${then.hostId}`, to: new Date(new Date(then.at).getTime() + 1).toISOString() })}>Its events up to then</a>
          </p>
          <div class="table-scroll">
            <table class="records as-of-table">
              <caption class="visually-hidden">The host's fields then and now</caption>
              <thead><tr><th scope="col">Field</th><th scope="col">Then</th><th scope="col">Now</th></tr></thead>
              <tbody>
                {FIELDS.map(({ key, label }) => {
                  const changed = current !== null && !same(then[key], current[key]);
                  return (
                    <tr key={key} class={changed ? 'changed' : undefined}>
                      <th scope="row">{label}{changed && <span class="changed-mark"> changed since</span>}</th>
                      <td data-label="Then">{render(key, then[key])}</td>
                      <td data-label="Now">{now === 'deleted' ? <span class="muted">host deleted</span> : current ? render(key, current[key]) : '…'}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {then.inventory && (
            <details class="as-of-inventory">
              <summary>Inventory then</summary>
              <dl class="facts">{Object.entries(then.inventory).map(([k, v]) => <div class="fact" key={k}><dt>{k}</dt><dd>{Array.isArray(v) ? v.join(', ') : String(v ?? '—')}</dd></div>)}</dl>
            </details>
          )}
        </div>
      )}
      {hostId && changes.length > 0 && (
        <div class="as-of-timeline">
          <h2>Its changes</h2>
          <ol class="timeline">
            {changes.map((e) => {
              const current = then !== null && e.version === then.version;
              return (
                <li key={e.position} class={current ? 'current' : undefined} aria-current={current ? 'step' : undefined}>
                  <a href={routeWithQuery(['history', 'as-of'], { hostId, at: e.occurredAt })}>v{e.version} {e.type}</a>
                  {' '}<When at={e.occurredAt} /> <span class="muted small">by {nameOf(e.actor)}{e.reason ? `: ${e.reason}` : ''}</span>
                </li>
              );
            })}
          </ol>
        </div>
      )}
    </>
  );
}
