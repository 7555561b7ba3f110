import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, apiGet, type BodyOf, type QueryOf } from '../api.ts';
import { href, navigate } from '../router.ts';
import { useSession } from '../session.ts';
import { EntityPicker, type Picked } from '../components/entity-picker.tsx';
import { EventRow, IdText, type HistoryEvent } from '../components/event-row.tsx';
import { FiltersBar, goTo, routeWithQuery } from '../components/filters-bar.tsx';
import { fieldMessage, FieldMessage, FormMessage, invalidProps, newIdempotencyKey } from '../components/form-feedback.tsx';
import { ReasonDialog } from '../components/reason-dialog.tsx';
import type { GroupRun, Image, Task, TaskPage } from '../components/registry-types.ts';
import { ACTIVE_STATES, FINISHED_STATES, isActive, TaskProgressBar, TaskStateBadge } from '../components/task-state.tsx';
import { KIND_LABEL, offeredFor, TaskTypePicker, typeLabel, useTaskTypes, type TaskTarget, type TaskType } from '../components/task-type-picker.tsx';
import { dayStart, When } from '../components/time-and-size.tsx';
import { Actor, useUserNames } from '../components/user-names.tsx';
import type { PageProps } from './index.ts';


const PAGE_SIZE = 50;
const LIST_REFRESH_MS = 5000;
const DETAIL_REFRESH_MS = 3000;

/** Refreshes every `ms` while `active` and the tab is visible (a hidden tab costs the server nothing). */
function usePolling(active: boolean, ms: number, refresh: () => void) {
  const latest = useRef(refresh);
  latest.current = refresh;
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => { if (document.visibilityState === 'visible') latest.current(); }, ms);
    return () => clearInterval(timer);
  }, [active, ms]);
}

/** Tasks: #/tasks (the list), #/tasks/new (create), #/tasks/<id> (one task). */
export function TasksPage({ route }: PageProps) {
  const sub = route.path[1];
  if (sub === 'new') return <CreateTask query={route.query} key={route.query.toString()} />;
  if (sub) return <TaskDetail taskId={sub} key={sub} />;
  return <TaskList query={route.query} />;
}

/* ------------------------------------------------------------------ list */

const STATE_CHOICES: [string, string][] = [
  ['', 'Any state'], ['active', 'Active'], ['history', 'Finished'],
  ...[...ACTIVE_STATES, ...FINISHED_STATES].map((s): [string, string] => [s, s]),
];

function TypeSelect({ id, types, value, onChange, anyLabel }: {
  id: string; types: TaskType[] | null; value: string; onChange: (value: string) => void; anyLabel: string;
}) {
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
      <option value="">{anyLabel}</option>
      {types && (['Basic', 'Advanced'] as const).map((title) => (
        <optgroup label={title} key={title}>
          {types.filter((t) => t.basic === (title === 'Basic')).map((t) => <option value={String(t.id)} key={t.id}>{typeLabel(t)}</option>)}
        </optgroup>
      ))}
    </select>
  );
}

/** The host a filter names, by name when it still exists. */
function useHostName(hostId: string | null): Picked | null {
  const [picked, setPicked] = useState<Picked | null>(null);
  useEffect(() => {
    if (!hostId) { setPicked(null); return; }
    if (picked?.id === hostId) return;
    let live = true;
    setPicked({ id: hostId, name: hostId });
    apiGet('/api/hosts/{id}', { params: { id: hostId } }).then(
      (host) => { if (live) setPicked({ id: host.id, name: host.name }); },
      () => undefined,
    );
    return () => { live = false; };
  }, [hostId]);
  return picked;
}

function TaskList({ query }: { query: URLSearchParams }) {
  const session = useSession();
  const { types } = useTaskTypes();
  const { nameOf } = useUserNames();
  const filters = {
    state: query.get('state') ?? '',
    type: query.get('type') ?? '',
    hostId: query.get('hostId') ?? '',
    from: query.get('from') ?? '',
    to: query.get('to') ?? '',
  };
  const key = JSON.stringify(filters);
  const host = useHostName(filters.hostId || null);
  const [draft, setDraft] = useState(filters);
  // Pages belong to one set of filters: new filters start again at the first page.
  const [paging, setPaging] = useState<{ key: string; cursors: (string | null)[] }>({ key, cursors: [null] });
  const cursors = paging.key === key ? paging.cursors : [null];
  const setCursors = (next: (string | null)[]) => setPaging({ key, cursors: next });
  const [page, setPage] = useState<TaskPage | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const ticket = useRef(0);
  const cursor = cursors[cursors.length - 1] ?? null;

  useEffect(() => { setDraft(filters); }, [key]);

  /** `quietly`: a background refresh, which shows no busy state (nothing flickers every few seconds). */
  function load(quietly = false) {
    const mine = ++ticket.current;
    if (!quietly) setLoading(true);
    const to = filters.to ? dayStart(filters.to, true) : undefined;
    apiGet('/api/tasks', {
      query: {
        // The state comes from the address as typed; the API says so when it is not one it knows.
        state: (filters.state || undefined) as QueryOf<'/api/tasks'>['state'], type: filters.type, hostId: filters.hostId,
        from: filters.from ? dayStart(filters.from) : undefined, to, limit: PAGE_SIZE, cursor: cursor ?? undefined,
      },
    }).then(
      (answer) => { if (mine === ticket.current) { setPage(answer); setError(null); setLoading(false); } },
      (e: unknown) => { if (mine === ticket.current) { setError(e); setLoading(false); } },
    );
  }
  useEffect(() => load(), [key, cursor]);
  usePolling(Boolean(page?.items.some((t) => isActive(t.state))), LIST_REFRESH_MS, () => load(true));

  const apply = (next: typeof filters) => goTo(routeWithQuery(['tasks'], next));
  const filtered = Object.values(filters).some(Boolean);
  const shownFields = ['state', 'type', 'hostId', 'from', 'to', 'cursor'];

  return (
    <section class="tasks-page">
      <div class="page-head">
        <h1>Tasks</h1>
        {session.can('tasks:write') && <a class="button" href={href('tasks', 'new')}>New task</a>}
      </div>
      <FiltersBar label="Filter tasks" onApply={() => apply(draft)} onClear={() => apply({ state: '', type: '', hostId: '', from: '', to: '' })} canClear={filtered}>
        <div class="filter-field">
          <label for="tasks-state">State</label>
          <select id="tasks-state" value={draft.state} onChange={(e) => apply({ ...draft, state: e.currentTarget.value })} {...invalidProps('tasks-state', fieldMessage(error, 'state'))}>
            {STATE_CHOICES.map(([value, label]) => <option value={value} key={value}>{label}</option>)}
          </select>
          <FieldMessage id="tasks-state" message={fieldMessage(error, 'state')} />
        </div>
        <div class="filter-field">
          <label for="tasks-type">Type</label>
          <TypeSelect id="tasks-type" types={types} value={draft.type} anyLabel="Any type" onChange={(type) => apply({ ...draft, type })} />
          <FieldMessage id="tasks-type" message={fieldMessage(error, 'type')} />
        </div>
        <div class="filter-field filter-field-wide">
          <EntityPicker kind="host" id="tasks-host" label="Host" value={host} placeholder="any host" keepWhileTyping
            onChange={(picked) => apply({ ...draft, hostId: picked?.id ?? '' })}
            message={fieldMessage(error, 'hostId')} />
        </div>
        <div class="filter-field">
          <label for="tasks-from">Created from</label>
          <input id="tasks-from" type="date" value={draft.from} max={draft.to || undefined}
            onChange={(e) => apply({ ...draft, from: e.currentTarget.value })} {...invalidProps('tasks-from', fieldMessage(error, 'from'))} />
          <FieldMessage id="tasks-from" message={fieldMessage(error, 'from')} />
        </div>
        <div class="filter-field">
          <label for="tasks-to">to (inclusive)</label>
          <input id="tasks-to" type="date" value={draft.to} min={draft.from || undefined}
            onChange={(e) => apply({ ...draft, to: e.currentTarget.value })} {...invalidProps('tasks-to', fieldMessage(error, 'to'))} />
          <FieldMessage id="tasks-to" message={fieldMessage(error, 'to')} />
        </div>
      </FiltersBar>
      <FormMessage error={error} shownFields={shownFields} />
      <p class="list-status" aria-live="polite">
        {page === null ? 'Loading tasks…' : `${page.total} task${page.total === 1 ? '' : 's'}${filtered ? ' match' : ''}`}
        {loading && page !== null && <span class="muted"> · refreshing</span>}
      </p>
      <div class="table-scroll">
        <table class="records tasks-table" aria-busy={loading}>
          <caption class="visually-hidden">Tasks, newest first</caption>
          <thead>
            <tr><th scope="col">Task</th><th scope="col">Host</th><th scope="col">State</th><th scope="col">Created</th><th scope="col">By</th></tr>
          </thead>
          <tbody>
            {(page?.items ?? []).map((task) => (
              <tr key={task.id}>
                <td data-label="Task"><a href={href('tasks', task.id)} class="task-link"><span class="fog-id">{task.typeId}</span>{task.typeName}</a>
                  {task.replayOf && <span class="muted small"> (re-run)</span>}</td>
                <td data-label="Host"><a href={href('hosts', task.hostId)}>{task.hostName}</a></td>
                <td data-label="State"><div class="state-cell">
                  <TaskStateBadge state={task.state} />
                  {task.state === 'in-progress' && <TaskProgressBar progress={task.progress} compact />}
                </div></td>
                <td data-label="Created"><When at={task.createdAt} compact /></td>
                <td data-label="By"><Actor actor={task.createdBy} nameOf={nameOf} /></td>
              </tr>
            ))}
            {page && page.items.length === 0 && (
              <tr class="empty-row"><td colSpan={5}>{filtered ? 'No task matches these filters.' : 'No task yet.'}</td></tr>
            )}
          </tbody>
        </table>
      </div>
      <nav class="pager" aria-label="pages of tasks">
        <button type="button" class="secondary" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>Previous</button>
        <span>Page {cursors.length}</span>
        <button type="button" class="secondary" disabled={!page?.nextCursor} onClick={() => page?.nextCursor && setCursors([...cursors, page.nextCursor])}>Next</button>
      </nav>
    </section>
  );
}

/* ---------------------------------------------------------------- create */

interface TargetInfo { imageId: string | null; memberCount?: number }

function CreateTask({ query }: { query: URLSearchParams }) {
  const session = useSession();
  const { types, error: typesError } = useTaskTypes();
  const [target, setTarget] = useState<TaskTarget>(query.get('groupId') ? 'group' : 'host');
  const [picked, setPicked] = useState<Picked | null>(null);
  const [info, setInfo] = useState<TargetInfo | null>(null);
  const [typeId, setTypeId] = useState<number | null>(null);
  const [images, setImages] = useState<Image[] | null>(null);
  const [imageId, setImageId] = useState('');
  const [afterTask, setAfterTask] = useState<'reboot' | 'shutdown' | 'stay'>('reboot');
  const [wakeBefore, setWakeBefore] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [groupResult, setGroupResult] = useState<GroupRun | null>(null);
  const attempt = useRef<{ key: string; body: string } | null>(null);

  // Prefill from the link that led here (#/tasks/new?hostId=...&type=deploy).
  useEffect(() => {
    const id = query.get('groupId') ?? query.get('hostId');
    const kind: TaskTarget = query.get('groupId') ? 'group' : 'host';
    if (id) {
      setPicked({ id, name: id });
      apiGet(`/api/${kind}s/{id}`, { params: { id } }).then((e) => setPicked({ id: e.id, name: e.name }), () => undefined);
    }
    apiGet('/api/images').then((answer) => setImages(answer.items), () => setImages([]));
  }, []);
  useEffect(() => {
    const wanted = query.get('type');
    if (!types || !wanted) return;
    const found = types.find((t) => String(t.id) === wanted || t.slug === wanted);
    if (found) setTypeId(found.id);
  }, [types]);

  // What the target brings: its image (the default for imaging tasks).
  useEffect(() => {
    setInfo(null);
    if (!picked) return;
    let live = true;
    apiGet(`/api/${target}s/{id}`, { params: { id: picked.id } }).then(
      (found) => { if (live) setInfo({ imageId: found.imageId, ...('memberCount' in found ? { memberCount: found.memberCount } : {}) }); },
      () => undefined,
    );
    return () => { live = false; };
  }, [target, picked?.id]);

  const type = types?.find((t) => t.id === typeId) ?? null;
  // A type the new target cannot take is dropped rather than sent to be refused.
  useEffect(() => { if (type && !offeredFor(type, target)) setTypeId(null); }, [target, type?.id]);

  if (!session.can('tasks:write')) {
    return (
      <section>
        <h1>New task</h1>
        <p>Your role ({session.user.role}) may read tasks but not create them. <a href={href('tasks')}>Back to the tasks</a>.</p>
      </section>
    );
  }

  const needsImage = Boolean(type?.direction);
  const imageName = (id: string | null | undefined) => (id ? images?.find((i) => i.id === id)?.name ?? id : null);
  const defaultImage = imageName(info?.imageId);
  const showAfterTask = type !== null && type.kind !== 'server-side';
  const showWake = type !== null && type.slug !== 'wake-up';

  async function submit(event: Event) {
    event.preventDefault();
    const missing = !picked ? new ApiError(400, 'validation', `choose a ${target}`, target === 'host' ? 'hostId' : 'groupId')
      : !type ? new ApiError(400, 'validation', 'choose a task type', 'type') : null;
    if (missing || !picked || !type) { setError(missing); showProblem(missing); return; }
    const body: BodyOf<'/api/tasks', 'POST'> = {
      type: type.id,
      ...(target === 'host' ? { hostId: picked.id } : { groupId: picked.id }),
      options: { ...(showAfterTask ? { afterTask } : {}), ...(showWake ? { wakeBefore } : {}) },
      ...(needsImage && imageId ? { imageId } : {}),
    };
    const text = JSON.stringify(body);
    // The same request again (a double click, an answer lost on the way) keeps its key: no second task.
    if (!attempt.current || attempt.current.body !== text) attempt.current = { key: newIdempotencyKey(), body: text };
    setBusy(true);
    setError(null);
    try {
      const answer = await api('POST', '/api/tasks', { body, headers: { 'Idempotency-Key': attempt.current.key } });
      attempt.current = null;
      if ('runId' in answer) setGroupResult(answer);
      else navigate(href('tasks', answer.id));
    } catch (caught) {
      setError(caught);
      showProblem(caught);
    } finally {
      setBusy(false);
    }
  }

  /** Brings the input the API named (or the form's message) into view, and focus to it. */
  function showProblem(problem: unknown) {
    const field = problem instanceof ApiError ? problem.field ?? '' : '';
    const id = field === 'hostId' || field === 'groupId' ? 'task-target'
      : field === 'type' ? 'task-type'
      : field === 'imageId' ? 'task-image'
      : field === 'options.afterTask' ? 'task-after'
      : field === 'options.wakeBefore' ? 'task-wake'
      : null;
    requestAnimationFrame(() => {
      const element = id ? document.getElementById(id) : document.querySelector('.task-form .form-message');
      element?.scrollIntoView({ block: 'center' });
      const focusable = id === 'task-type' ? element?.querySelector<HTMLInputElement>('input:checked, input') : element;
      (focusable as HTMLElement | null)?.focus({ preventScroll: true });
    });
  }

  if (groupResult) {
    return (
      <section class="tasks-page">
        <h1>Tasks created on {picked?.name ?? 'the group'}</h1>
        <p role="status">{groupResult.tasks.length} task{groupResult.tasks.length === 1 ? '' : 's'} created
          {groupResult.skipped.length > 0 && `, ${groupResult.skipped.length} host${groupResult.skipped.length === 1 ? '' : 's'} skipped`}.
          {' '}<a href={routeWithQuery(['history'], { stream: `group-run-${groupResult.runId}` })}>The run in the history</a>
        </p>
        <ul class="plain-list">
          {groupResult.tasks.map((t) => (
            <li key={t.id}><a href={href('tasks', t.id)}>{t.typeName} on {t.hostName}</a> <TaskStateBadge state={t.state} /></li>
          ))}
        </ul>
        {groupResult.skipped.length > 0 && (
          <>
            <h2>Skipped</h2>
            <ul class="plain-list">
              {groupResult.skipped.map((s) => <li key={s.hostId}><a href={href('hosts', s.hostId)} class="mono">{s.hostId}</a>: {s.reason}</li>)}
            </ul>
          </>
        )}
        <p><a href={href('tasks')}>All tasks</a> · <button type="button" class="link" onClick={() => { setGroupResult(null); setError(null); }}>Create another</button></p>
      </section>
    );
  }

  const targetField = target === 'host' ? 'hostId' : 'groupId';
  const shownFields = ['hostId', 'groupId', 'type', 'imageId', 'options'];
  return (
    <section class="tasks-page">
      <p class="breadcrumb"><a href={href('tasks')}>Tasks</a> /</p>
      <h1>New task</h1>
      <form class="task-form" onSubmit={submit} noValidate>
        <FormMessage error={error} shownFields={shownFields} />
        <fieldset class="task-form-target">
          <legend>Run it on</legend>
          <div class="segmented" role="radiogroup" aria-label="target kind">
            {(['host', 'group'] as const).map((kind) => (
              <label key={kind} class={target === kind ? 'chosen' : undefined}>
                <input type="radio" name="target-kind" value={kind} checked={target === kind}
                  onChange={() => { setTarget(kind); setPicked(null); setError(null); }} />
                {kind === 'host' ? 'One host' : 'A group (each member)'}
              </label>
            ))}
          </div>
          <EntityPicker kind={target} id="task-target" key={target} label={target === 'host' ? 'Host' : 'Group'} value={picked}
            onChange={setPicked} required message={fieldMessage(error, targetField)} />
          {picked && info && (
            <p class="muted small">
              {target === 'group' && info.memberCount !== undefined && `${info.memberCount} member${info.memberCount === 1 ? '' : 's'}; `}
              {defaultImage ? `image: ${defaultImage}` : `no image set on this ${target}`}
            </p>
          )}
        </fieldset>

        {typesError ? <p class="error" role="alert">{typesError}</p>
          : types === null ? <p aria-busy="true" class="muted">Loading the task types…</p>
          : <TaskTypePicker id="task-type" types={types} target={target} value={typeId} onChange={(id) => { setTypeId(id); setError(null); }}
              message={fieldMessage(error, 'type')} />}

        {type && (
          <fieldset class="task-form-options">
            <legend>{typeLabel(type)}: options</legend>
            <p class="muted small">{type.description}. {KIND_LABEL[type.kind]}.</p>
            {needsImage && (
              <div class="form-field">
                <label for="task-image">{type.direction === 'up' ? 'Capture into image' : 'Image'}</label>
                <select id="task-image" value={imageId} onChange={(e) => setImageId(e.currentTarget.value)} {...invalidProps('task-image', fieldMessage(error, 'imageId'))}>
                  <option value="">
                    {target === 'host'
                      ? (defaultImage ? `The host's image (${defaultImage})` : 'The host\'s image (none set: choose one)')
                      : (defaultImage ? `The group's image (${defaultImage})` : 'Each host\'s own image')}
                  </option>
                  {(images ?? []).map((image) => <option value={image.id} key={image.id}>{image.name}{image.currentRevision ? ` (revision ${image.currentRevision})` : ' (not captured yet)'}</option>)}
                </select>
                <FieldMessage id="task-image" message={fieldMessage(error, 'imageId')} />
              </div>
            )}
            {showAfterTask && (
              <div class="form-field">
                <label for="task-after">When it is done</label>
                <select id="task-after" value={afterTask} onChange={(e) => setAfterTask(e.currentTarget.value as typeof afterTask)}
                  {...invalidProps('task-after', fieldMessage(error, 'options.afterTask'))}>
                  <option value="reboot">Reboot (FOG's default)</option>
                  <option value="shutdown">Shut down</option>
                  <option value="stay">Stay on</option>
                </select>
                <FieldMessage id="task-after" message={fieldMessage(error, 'options.afterTask')} />
              </div>
            )}
            {showWake && (
              <div class="form-field">
                <label class="checkbox">
                  <input id="task-wake" type="checkbox" checked={wakeBefore} onChange={(e) => setWakeBefore(e.currentTarget.checked)}
                    {...invalidProps('task-wake', fieldMessage(error, 'options.wakeBefore'))} />
                  Wake the machine first (Wake-on-LAN)
                </label>
                <FieldMessage id="task-wake" message={fieldMessage(error, 'options.wakeBefore')} />
              </div>
            )}
            <FieldMessage id="task-options" message={fieldMessage(error, 'options') && !fieldMessage(error, 'options.afterTask', 'options.wakeBefore') ? fieldMessage(error, 'options') : undefined} />
          </fieldset>
        )}

        <div class="form-actions">
          <button type="submit" disabled={busy}>{busy ? 'Creating…' : target === 'group' ? 'Create on every member' : 'Create task'}</button>
          <a href={href('tasks')}>Cancel</a>
        </div>
      </form>
    </section>
  );
}

/* ---------------------------------------------------------------- detail */

function Fact({ label, children }: { label: string; children: ComponentChildren }) {
  return <div class="fact"><dt>{label}</dt><dd>{children}</dd></div>;
}

function TaskDetail({ taskId }: { taskId: string }) {
  const session = useSession();
  const { nameOf } = useUserNames();
  const [task, setTask] = useState<Task | null>(null);
  const [missing, setMissing] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [events, setEvents] = useState<HistoryEvent[]>([]);
  const [moreEvents, setMoreEvents] = useState<number | null>(null);
  const [names, setNames] = useState<{ image?: string; node?: string }>({});
  const [cancelling, setCancelling] = useState(false);
  const [replaying, setReplaying] = useState(false);
  const cancelKey = useRef(newIdempotencyKey());
  const replayKey = useRef(newIdempotencyKey());
  const lastPosition = useRef<number | undefined>(undefined);

  async function loadTask() {
    try {
      const found = await apiGet('/api/tasks/{id}', { params: { id: taskId } });
      setTask(found);
      setError(null);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 404) setMissing(caught.message);
      else setError(caught);
    }
  }

  /** The task's events, read onwards from the last one seen (the history only grows). */
  async function loadEvents() {
    try {
      const answer = await apiGet('/api/events', { query: { subject: `task-${taskId}`, limit: 200, after: lastPosition.current } });
      if (answer.events.length) {
        lastPosition.current = answer.events[answer.events.length - 1]!.position;
        setEvents((known) => [...known, ...answer.events.filter((e) => !known.some((k) => k.position === e.position))]);
      }
      setMoreEvents(answer.nextAfter);
    } catch (caught) {
      setError(caught);
    }
  }

  useEffect(() => { void loadTask(); void loadEvents(); }, [taskId]);
  usePolling(task !== null && isActive(task.state), DETAIL_REFRESH_MS, () => { void loadTask(); void loadEvents(); });

  useEffect(() => {
    if (!task) return;
    let live = true;
    const found: { image?: string; node?: string } = {};
    Promise.all([
      task.imageId ? apiGet('/api/images/{id}', { params: { id: task.imageId } }).then((i) => { found.image = i.name; }, () => undefined) : null,
      task.storageNodeId ? apiGet('/api/storage-nodes/{id}', { params: { id: task.storageNodeId } }).then((n) => { found.node = n.name; }, () => undefined) : null,
    ]).then(() => { if (live) setNames(found); });
    return () => { live = false; };
  }, [task?.imageId, task?.storageNodeId]);

  if (missing) {
    return (
      <section>
        <p class="breadcrumb"><a href={href('tasks')}>Tasks</a> /</p>
        <h1>Task not found</h1>
        <p>{missing}. <a href={href('tasks')}>All tasks</a></p>
      </section>
    );
  }

  async function cancel(reason: string) {
    const answer = await api('POST', '/api/tasks/{id}/cancel', {
      params: { id: taskId }, body: { reason }, headers: { 'Idempotency-Key': cancelKey.current },
    });
    cancelKey.current = newIdempotencyKey();
    setTask(answer);
    setCancelling(false);
    void loadEvents();
  }

  async function replay() {
    setReplaying(true);
    setError(null);
    try {
      const answer = await api('POST', '/api/tasks/{id}/replay', { params: { id: taskId }, headers: { 'Idempotency-Key': replayKey.current } });
      replayKey.current = newIdempotencyKey();
      navigate(href('tasks', answer.id));
    } catch (caught) {
      setError(caught);
    } finally {
      setReplaying(false);
    }
  }

  const canWrite = session.can('tasks:write');
  return (
    <section class="tasks-page task-detail" aria-busy={task === null}>
      <p class="breadcrumb"><a href={href('tasks')}>Tasks</a> /</p>
      <div class="page-head">
        <h1>{task ? <><span class="fog-id">{task.typeId}</span> {task.typeName} on <a href={href('hosts', task.hostId)}>{task.hostName}</a></> : 'Task'}</h1>
        {task && <TaskStateBadge state={task.state} />}
      </div>
      {task && canWrite && (
        <div class="task-actions">
          {isActive(task.state) && <button type="button" class="danger" onClick={() => setCancelling(true)}>Cancel task…</button>}
          {!isActive(task.state) && <button type="button" onClick={() => void replay()} disabled={replaying}>{replaying ? 'Re-running…' : 'Run again (replay)'}</button>}
        </div>
      )}
      <FormMessage error={error} />
      {task === null ? <p class="muted">Loading the task…</p> : (
        <div class="task-detail-body">
          <div class="task-detail-side">
          {(task.state === 'in-progress' || task.progress) && (
            <div class="task-progress-panel">
              <h2>Progress{task.progress?.live && <span class="muted small"> · live</span>}</h2>
              {task.progress ? (
                <>
                  <TaskProgressBar progress={task.progress} stopped={task.state !== 'in-progress'} />
                  <p class="muted small">{task.progress.partition ? `partition ${task.progress.partition} · ` : ''}last report <When at={task.lastReportAt} fallback="not yet" /></p>
                </>
              ) : <p class="muted">No report from the client yet.</p>}
            </div>
          )}
          {task.reason && (
            <p class={`task-reason ${task.state === 'failed' ? 'error' : ''}`}><strong>{task.state === 'cancelled' ? 'Cancelled' : task.state === 'failed' ? 'Failed' : 'Note'}:</strong> {task.reason}</p>
          )}
          </div>
          <dl class="facts">
            <Fact label="State">{task.state}</Fact>
            <Fact label="Type"><span class="fog-id">{task.typeId}</span> {task.typeName}</Fact>
            <Fact label="Host"><a href={href('hosts', task.hostId)}>{task.hostName}</a></Fact>
            <Fact label="Image">{task.imageId ? <a href={href('images', task.imageId)}>{names.image ?? task.imageId}</a> : '—'}{task.imageRevision ? ` (revision ${task.imageRevision})` : ''}</Fact>
            <Fact label="Storage node">{task.storageNodeId ? names.node ?? task.storageNodeId : 'brume itself'}</Fact>
            <Fact label="Options">{task.options ? `after: ${task.options.afterTask}; wake first: ${task.options.wakeBefore ? 'yes' : 'no'}` : '—'}</Fact>
            <Fact label="Created"><When at={task.createdAt} /> by <Actor actor={task.createdBy} nameOf={nameOf} /></Fact>
            <Fact label="Checked in"><When at={task.checkedInAt} /></Fact>
            {task.state === 'checked-in' && <Fact label="Check-in good until"><When at={task.checkInDeadline} /></Fact>}
            <Fact label="Started"><When at={task.startedAt} /></Fact>
            <Fact label="Finished"><When at={task.finishedAt} /></Fact>
            {task.replayOf && <Fact label="Re-run of"><a href={href('tasks', task.replayOf)}><IdText value={task.replayOf} /></a></Fact>}
            {task.groupRunId && <Fact label="Group run"><a href={routeWithQuery(['history'], { stream: `group-run-${task.groupRunId}` })}><IdText value={task.groupRunId} /></a></Fact>}
            <Fact label="Id"><IdText value={task.id} /></Fact>
          </dl>
        </div>
      )}
      <h2>History of this task</h2>
      <p class="muted small"><a href={routeWithQuery(['history'], { subject: `task-${taskId}` })}>Open in the history</a></p>
      {events.length === 0 ? <p class="muted">No event yet.</p> : (
        <ol class="event-list">
          {events.map((e) => <EventRow event={e} nameOf={nameOf} key={e.position} showStream={false} />)}
        </ol>
      )}
      {moreEvents !== null && <button type="button" class="secondary" onClick={() => void loadEvents()}>Load more events</button>}
      <ReasonDialog open={cancelling} title={task ? `Cancel ${task.typeName} on ${task.hostName}?` : 'Cancel the task?'} confirmLabel="Cancel the task"
        onConfirm={cancel} onClose={() => setCancelling(false)}>
        <p class="muted small">A cancelled task cannot complete; its client stops at its next report. It can be run again later.</p>
      </ReasonDialog>
    </section>
  );
}

