import { EntityMissing, useEntityDelete } from '../components/entity-detail.tsx';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, apiGet, type BodyOf } from '../api.ts';
import { invalidateCatalog, useCatalog, useNames } from '../components/catalog-cache.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { CursorPager, useCursorPages } from '../components/cursor-pager.tsx';
import { DefinitionList } from '../components/definition-list.tsx';
import { EntityForm, type EntityField } from '../components/entity-form.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { FieldError, fieldProps } from '../components/field-error.tsx';
import { formatCount } from '../components/format-bytes.ts';
import { NotAllowed } from '../components/not-allowed.tsx';
import { PageHeading } from '../components/page-heading.tsx';
import type { Group, GroupRun, Host } from '../components/registry-types.ts';
import { RelativeTime } from '../components/relative-time.tsx';
import { ActorName, SubjectHistory } from '../components/subject-history.tsx';
import { useResource } from '../components/use-resource.ts';
import { useUserNames } from '../components/user-names.tsx';
import { href, navigate } from '../router.ts';
import { useSession } from '../session.ts';
import type { PageProps } from './index.ts';

const MEMBERS_PER_PAGE = 25;

function useGroupFields(): EntityField[] {
  const images = useCatalog('images');
  return [
    { name: 'name', label: 'Name', required: true },
    {
      name: 'imageId', label: 'Image', kind: 'select', nullable: true, hint: 'group deploys use it instead of each host\'s own',
      options: [{ value: '', label: 'each host\'s own' }, ...(images ?? []).map((i) => ({ value: i.id, label: i.name }))],
    },
    { name: 'description', label: 'Description', kind: 'textarea', nullable: true },
  ];
}

/** #/groups: the list; #/groups/new; #/groups/<id>: members, group tasks, history; #/groups/<id>/edit. */
export function GroupsPage({ route }: PageProps) {
  const [first, second] = route.path.slice(1);
  if (first === 'new') return <NewGroup />;
  if (first) return <GroupDetail groupId={first} editing={second === 'edit'} />;
  return <GroupList />;
}

function NewGroup() {
  const session = useSession();
  const fields = useGroupFields();
  const images = useCatalog('images');
  return (
    <section>
      <p class="crumbs"><a href={href('groups')}>Groups</a> /</p>
      <PageHeading title="New group" />
      {!session.can('catalog:write') ? <NotAllowed what="create groups" /> : images === undefined ? <p class="muted">Loading…</p> : (
        <EntityForm form="group" path="/api/groups" what="group" fields={fields}
          onSaved={(g) => { invalidateCatalog('groups'); navigate(href('groups', g.id)); }} onCancel={() => navigate(href('groups'))} />
      )}
    </section>
  );
}

function GroupList() {
  const session = useSession();
  const groups = useResource(() => apiGet('/api/groups'), 'groups', { refreshMs: 30_000 });
  const images = useNames('images');
  return (
    <section>
      <PageHeading title="Groups" actions={session.can('catalog:write') && <a class="button" href={href('groups', 'new')}>New group</a>} />
      <ErrorMessage error={groups.error} />
      <table class="table stack groups" aria-busy={groups.loading}>
        <thead><tr><th>Name</th><th class="col-members">Members</th><th>Image</th><th class="hide-narrow">Description</th></tr></thead>
        <tbody>
          {groups.data?.items.length === 0 && <tr><td colSpan={4} class="muted">No groups yet.</td></tr>}
          {(groups.data?.items ?? []).map((g) => (
            <tr key={g.id}>
              <td data-label="Name"><a href={href('groups', g.id)}>{g.name}</a></td>
              <td data-label="Members" class="num">{formatCount(g.memberCount)}</td>
              <td data-label="Image">{g.imageId ? <a href={href('images', g.imageId)}>{images.get(g.imageId) ?? 'image'}</a> : <span class="muted">each host's own</span>}</td>
              <td data-label="Description" class="hide-narrow">{g.description || <span class="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function GroupDetail({ groupId, editing }: { groupId: string; editing: boolean }) {
  const session = useSession();
  const group = useResource(() => apiGet('/api/groups/{id}', { params: { id: groupId } }), groupId, { refreshMs: editing ? undefined : 30_000 });
  const fields = useGroupFields();
  const images = useNames('images');
  const { deleting, deleteError, remove: removeEntity, clearDeleteError } = useEntityDelete('groups', () => invalidateCatalog('groups'));
  const [runsSeen, setRunsSeen] = useState(0);
  const mayWrite = session.can('catalog:write');
  const g = group.data;

  if (!g) return <EntityMissing section="groups" sectionTitle="Groups" what="group" error={group.error} />;

  if (editing) {
    return (
      <section>
        <p class="crumbs"><a href={href('groups')}>Groups</a> / <a href={href('groups', g.id)}>{g.name}</a> /</p>
        <PageHeading title={`Edit ${g.name}`} />
        {mayWrite ? (
          <EntityForm key={g.version} form="group" path="/api/groups" what="group" fields={fields} entity={g}
            onReload={() => void group.reload()}
            onSaved={() => { invalidateCatalog('groups'); void group.reload(); navigate(href('groups', g.id)); }}
            onCancel={() => navigate(href('groups', g.id))} />
        ) : <NotAllowed what="edit groups" />}
      </section>
    );
  }

  const remove = () => removeEntity(g);

  return (
    <section>
      <p class="crumbs"><a href={href('groups')}>Groups</a> /</p>
      <PageHeading title={g.name} actions={mayWrite && (
        <>
          <a class="button" href={href('groups', g.id, 'edit')}>Edit</a>
          <ConfirmButton label="Delete" confirmLabel="Delete for good" busy={deleting} onConfirm={remove}
            question={<>Delete group <strong>{g.name}</strong>? Its {g.memberCount} hosts stay.</>} />
        </>
      )} />
      {g.description && <p class="lead">{g.description}</p>}
      <ErrorMessage error={deleteError} onReload={() => { clearDeleteError(); void group.reload(); }} what="this group" />
      <div class="panels">
        <div class="panel">
          <h2>Overview</h2>
          <DefinitionList items={[
            ['Members', formatCount(g.memberCount)],
            ['Image', g.imageId ? <a href={href('images', g.imageId)}>{images.get(g.imageId) ?? 'image'}</a> : 'each host\'s own'],
            ['Created', <RelativeTime value={g.createdAt} />],
            ['Changed', <><RelativeTime value={g.updatedAt} /> <span class="muted">(version {g.version})</span></>],
          ]} />
        </div>
        {session.can('tasks:write') && (
          <div class="panel">
            <h2>Run a task on every member</h2>
            <GroupTaskForm group={g} onStarted={() => setRunsSeen((n) => n + 1)} />
          </div>
        )}
      </div>
      <Members group={g} onChanged={() => void group.reload()} mayChange={mayWrite} />
      <GroupRuns groupId={g.id} generation={runsSeen} />
      <section aria-labelledby="group-history">
        <h2 id="group-history">History</h2>
        <SubjectHistory subject={`group-${g.id}`} label={`History of ${g.name}`} />
      </section>
    </section>
  );
}

const FORM = 'group-task';

/** POST /api/tasks with groupId: one task per member; members that cannot take it are listed with the reason. */
function GroupTaskForm({ group, onStarted }: { group: Group; onStarted: () => void }) {
  const types = useCatalog('task-types');
  const images = useCatalog('images');
  const [type, setType] = useState('deploy');
  const [imageId, setImageId] = useState('');
  const [wakeBefore, setWakeBefore] = useState(false);
  const [afterTask, setAfterTask] = useState('reboot');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [run, setRun] = useState<GroupRun | null>(null);
  const groupTypes = (types ?? []).filter((t) => t.access !== 'host');
  const chosen = groupTypes.find((t) => t.slug === type);

  async function start() {
    setBusy(true);
    setError(null);
    setRun(null);
    try {
      const body: BodyOf<'/api/tasks', 'POST'> = { type, groupId: group.id, options: { wakeBefore, afterTask }, ...(imageId ? { imageId } : {}) };
      const answer = await api('POST', '/api/tasks', { body });
      if ('runId' in answer) setRun(answer);
      onStarted();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  const destructive = chosen?.direction === 'down' || /wipe/.test(type);
  return (
    <div class="group-task">
      <div class="form-grid">
        <label>Task
          <select {...fieldProps(FORM, 'type', error)} value={type} onChange={(e) => setType(e.currentTarget.value)}>
            {groupTypes.map((t) => <option key={t.slug} value={t.slug}>{t.name}</option>)}
          </select>
          {chosen && <small class="hint">{chosen.description}</small>}
          <FieldError form={FORM} field="type" error={error} />
        </label>
        {chosen?.direction === 'down' && (
          <label>Image
            <select {...fieldProps(FORM, 'imageId', error)} value={imageId} onChange={(e) => setImageId(e.currentTarget.value)}>
              <option value="">{group.imageId ? 'the group\'s image' : 'each host\'s own'}</option>
              {(images ?? []).map((i) => <option key={i.id} value={i.id}>{i.name}</option>)}
            </select>
            <FieldError form={FORM} field="imageId" error={error} />
          </label>
        )}
        <label>Afterwards
          <select value={afterTask} onChange={(e) => setAfterTask(e.currentTarget.value)}>
            <option value="reboot">reboot</option>
            <option value="shutdown">shut down</option>
            <option value="stay">stay on</option>
          </select>
        </label>
        <label class="check"><input type="checkbox" checked={wakeBefore} onChange={(e) => setWakeBefore(e.currentTarget.checked)} /> Wake the machines first (Wake-on-LAN)</label>
      </div>
      <ErrorMessage error={error} shownByFields={['type', 'imageId']} />
      <div class="form-actions">
        <ConfirmButton label={`Start on ${formatCount(group.memberCount)} ${group.memberCount === 1 ? 'member' : 'members'}`} busy={busy}
          disabled={group.memberCount === 0 || !chosen} confirmLabel="Start"
          question={<>{chosen?.name ?? type} on every member of {group.name}{destructive ? ': their disks are overwritten' : ''}?</>}
          onConfirm={start} danger={destructive} />
      </div>
      {run && (
        <div class="notice" role="status">
          <p>{formatCount(run.tasks.length)} {run.tasks.length === 1 ? 'task' : 'tasks'} created{run.skipped.length > 0 ? `, ${formatCount(run.skipped.length)} members skipped` : ''}.</p>
          {run.skipped.length > 0 && (
            <ul>{run.skipped.map((s) => <li key={s.hostId}><a href={href('hosts', s.hostId)}>host</a>: {s.reason}</li>)}</ul>
          )}
        </div>
      )}
    </div>
  );
}

/** The group's members (GET /api/hosts?groupId=), searchable; adding and removing for those who may. */
function Members({ group, onChanged, mayChange }: { group: Group; onChanged: () => void; mayChange: boolean }) {
  const [query, setQuery] = useState('');
  const [debounced, setDebounced] = useState('');
  const pages = useCursorPages();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  useEffect(() => { const t = setTimeout(() => setDebounced(query.trim()), 150); return () => clearTimeout(t); }, [query]);
  const members = useResource(
    () => apiGet('/api/hosts', { query: { groupId: group.id, q: debounced || undefined, limit: MEMBERS_PER_PAGE, cursor: pages.cursor ?? undefined } }),
    `${group.id} ${debounced} ${pages.cursor}`, { keepPrevious: true },
  );
  const images = useNames('images');

  async function change(hostId: string, action: 'add' | 'remove') {
    setBusy(hostId);
    setError(null);
    try {
      await api('POST', '/api/groups/{id}/members', { params: { id: group.id }, body: { [action]: [hostId] } });
      invalidateCatalog('groups');
      onChanged();
      await members.reload();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(null);
    }
  }

  const page = members.data;
  return (
    <section aria-labelledby="group-members">
      <h2 id="group-members">Members</h2>
      <div class="toolbar">
        <label class="search">Search the members
          <input type="search" value={query} placeholder="name, MAC or IP" autoComplete="off" onInput={(e) => { setQuery(e.currentTarget.value); pages.reset(); }} />
        </label>
        <p class="status-line" aria-live="polite">{page ? `${formatCount(page.total ?? 0)} ${debounced ? 'match' : page.total === 1 ? 'member' : 'members'}` : 'Loading…'}</p>
      </div>
      <ErrorMessage error={members.error ?? error} />
      {page && page.items.length === 0 ? <p class="muted">{debounced ? 'No member matches.' : 'No members yet.'}</p> : (
        <table class="table stack members" aria-busy={members.loading}>
          <thead><tr><th>Name</th><th>MAC</th><th class="hide-narrow">IP</th><th class="hide-narrow">Image</th><th class="col-task">Task</th>{mayChange && <th class="col-remove"><span class="visually-hidden">Remove</span></th>}</tr></thead>
          <tbody class={members.loading && page ? 'stale' : undefined}>
            {(page?.items ?? []).map((h) => (
              <tr key={h.id}>
                <td data-label="Name"><a href={href('hosts', h.id)}>{h.name}</a></td>
                <td data-label="MAC" class="mono">{h.primaryMac}</td>
                <td data-label="IP" class="mono hide-narrow">{h.ip ?? '—'}</td>
                <td data-label="Image" class="hide-narrow">{h.imageId ? images.get(h.imageId) ?? '…' : <span class="muted">—</span>}</td>
                <td data-label="Task">{h.activeTaskId ? <a href={href('tasks', h.activeTaskId)}>active</a> : <span class="muted">—</span>}</td>
                {mayChange && (
                  <td><button type="button" class="secondary" disabled={busy === h.id} aria-label={`remove ${h.name} from ${group.name}`} onClick={() => void change(h.id, 'remove')}>Remove</button></td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page && <CursorPager pages={pages} nextCursor={page.nextCursor} total={page.total} pageSize={MEMBERS_PER_PAGE} label="member pages" />}
      {mayChange && <AddMembers group={group} busy={busy} onAdd={(id) => void change(id, 'add')} />}
    </section>
  );
}

/** Find hosts by name, MAC or IP and add them. */
function AddMembers({ group, busy, onAdd }: { group: Group; busy: string | null; onAdd: (hostId: string) => void }) {
  const [query, setQuery] = useState('');
  const [found, setFound] = useState<Host[] | null>(null);
  const latest = useRef(0);
  useEffect(() => {
    const q = query.trim();
    if (!q) { setFound(null); return undefined; }
    const ticket = ++latest.current;
    const timer = setTimeout(() => {
      apiGet('/api/hosts', { query: { q, limit: 8 } }).then((p) => { if (ticket === latest.current) setFound(p.items); }, () => undefined);
    }, 150);
    return () => clearTimeout(timer);
  }, [query, busy]);
  return (
    <div class="add-members">
      <label class="search">Add hosts
        <input type="search" value={query} placeholder="find a host by name, MAC or IP" autoComplete="off" onInput={(e) => setQuery(e.currentTarget.value)} />
      </label>
      {found && (found.length === 0 ? <p class="muted">No host matches.</p> : (
        <ul class="pick-list">
          {found.map((h) => {
            const member = h.groupIds.includes(group.id);
            return (
              <li key={h.id}>
                <span><a href={href('hosts', h.id)}>{h.name}</a> <span class="mono muted">{h.primaryMac}</span></span>
                {member ? <span class="muted">member</span> : (
                  <button type="button" class="secondary" disabled={busy === h.id} aria-label={`add ${h.name} to ${group.name}`} onClick={() => onAdd(h.id)}>Add</button>
                )}
              </li>
            );
          })}
        </ul>
      ))}
    </div>
  );
}

/** Past group tasks: the GroupTaskRunStarted events concerning this group, newest first. */
function GroupRuns({ groupId, generation }: { groupId: string; generation: number }) {
  const types = useCatalog('task-types');
  const { nameOf } = useUserNames();
  const runs = useResource(
    () => apiGet('/api/events', { query: { subject: `group-${groupId}`, type: 'GroupTaskRunStarted', limit: 500 } }),
    `${groupId} ${generation}`, { refreshMs: 30_000, keepPrevious: true },
  );
  const events = [...(runs.data?.events ?? [])].reverse();
  const typeName = (id: number) => types?.find((t) => t.id === id)?.name ?? `type ${id}`;
  return (
    <section aria-labelledby="group-runs">
      <h2 id="group-runs">Group tasks</h2>
      <ErrorMessage error={runs.error} />
      {!runs.data ? <p class="muted" aria-busy="true">Loading…</p> : events.length === 0 ? <p class="muted">No task has been run on this group yet.</p> : (
        <table class="table stack runs">
          <thead><tr><th>When</th><th>Task</th><th class="col-count">Tasks</th><th class="col-count">Skipped</th><th>Who</th></tr></thead>
          <tbody>
            {events.map((e) => ({ e, d: e.data as Record<string, any> })).map(({ e, d }) => (
              <tr key={e.position}>
                <td data-label="When"><RelativeTime value={e.occurredAt} /></td>
                <td data-label="Task">{typeName(d.typeId)}</td>
                <td data-label="Tasks" class="num">
                  <details>
                    <summary>{formatCount(d.tasks?.length ?? 0)}</summary>
                    <ul class="plain">{(d.tasks as { taskId: string; hostId: string }[]).map((t) => (
                      <li key={t.taskId}><a href={href('tasks', t.taskId)}>task</a> on <a href={href('hosts', t.hostId)}>host</a></li>
                    ))}</ul>
                  </details>
                </td>
                <td data-label="Skipped" class="wrap">
                  {(d.skipped?.length ?? 0) === 0 ? <span class="muted">none</span> : (
                    <details>
                      <summary>{formatCount(d.skipped.length)}</summary>
                      <ul class="plain">{(d.skipped as { hostId: string; reason: string }[]).map((s) => <li key={s.hostId}>{s.reason}</li>)}</ul>
                    </details>
                  )}
                </td>
                <td data-label="Who"><ActorName actor={e.actor} nameOf={nameOf} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
