import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, apiGet } from '../api.ts';
import { useNames } from '../components/catalog-cache.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { CursorPager, useCursorPages } from '../components/cursor-pager.tsx';
import { DefinitionList } from '../components/definition-list.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { formatBytes } from '../components/format-bytes.ts';
import { NotAllowed } from '../components/not-allowed.tsx';
import { PageHeading } from '../components/page-heading.tsx';
import type { BootStage, Task } from '../components/registry-types.ts';
import { formatDateTime, RelativeTime } from '../components/relative-time.tsx';
import { SubjectHistory } from '../components/subject-history.tsx';
import { useResource } from '../components/use-resource.ts';
import { href, navigate } from '../router.ts';
import { useSession } from '../session.ts';
import { HostForm } from './host-form.tsx';

const TASKS_PER_PAGE = 10;

/** The inventory fields FOG collects, in FOG's order, with names a person reads (core/hosts/report-inventory.ts). */
const INVENTORY_LABELS: [string, string][] = [
  ['sysManufacturer', 'System manufacturer'], ['sysProduct', 'System product'], ['sysVersion', 'System version'],
  ['sysSerial', 'System serial'], ['sysUuid', 'System UUID'], ['sysType', 'System type'],
  ['biosVendor', 'BIOS vendor'], ['biosVersion', 'BIOS version'], ['biosDate', 'BIOS date'],
  ['mbManufacturer', 'Motherboard manufacturer'], ['mbProduct', 'Motherboard product'], ['mbVersion', 'Motherboard version'],
  ['mbSerial', 'Motherboard serial'], ['mbAsset', 'Motherboard asset tag'],
  ['cpuManufacturer', 'CPU manufacturer'], ['cpuVersion', 'CPU'], ['cpuCurrentSpeed', 'CPU speed'], ['cpuMaxSpeed', 'CPU max speed'],
  ['memory', 'Memory'], ['disks', 'Disks'], ['gpus', 'Graphics'],
  ['caseManufacturer', 'Case manufacturer'], ['caseVersion', 'Case version'], ['caseSerial', 'Case serial'], ['caseAsset', 'Case asset tag'],
];

const ROLE_LABEL: Record<string, string> = { primary: 'primary', additional: 'additional', pending: 'pending approval' };

export const STATE_LABEL: Record<Task['state'], string> = {
  queued: 'queued', 'checked-in': 'waiting for a slot', 'in-progress': 'in progress', complete: 'complete', failed: 'failed', cancelled: 'cancelled',
};

function inventoryValue(value: unknown) {
  if (Array.isArray(value)) return value.length === 0 ? null : <ul class="plain">{value.map((v, i) => <li key={i}>{String(v)}</li>)}</ul>;
  if (value === null || value === undefined || value === '') return null;
  return String(value);
}

/** The host page: its fields, MACs, groups, inventory, boot stages, tasks and history; edit and delete for those who may. */
export function HostPage({ hostId, editing }: { hostId: string; editing: boolean }) {
  const session = useSession();
  const host = useResource(() => apiGet('/api/hosts/{id}', { params: { id: hostId } }), hostId, { refreshMs: editing ? undefined : 15_000 });
  const images = useNames('images');
  const nodes = useNames('storage-nodes');
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<unknown>(null);
  const mayWrite = session.can('hosts:write');
  const h = host.data;

  if (!h) {
    const gone = host.error instanceof ApiError && host.error.status === 404;
    return (
      <section>
        <p class="crumbs"><a href={href('hosts')}>Hosts</a> /</p>
        <PageHeading title={gone ? 'No such host' : 'Host'} />
        {gone ? <p>This host does not exist (it may have been deleted). <a href={href('hosts')}>Back to the hosts</a>.</p>
          : host.error ? <ErrorMessage error={host.error} /> : <p class="muted" aria-busy="true">Loading…</p>}
      </section>
    );
  }

  async function remove() {
    if (!h) return;
    setDeleting(true);
    setDeleteError(null);
    try {
      await api('DELETE', '/api/hosts/{id}', { params: { id: h.id }, headers: { 'if-match': `"${h.version}"` } });
      navigate(href('hosts'));
    } catch (caught) {
      setDeleteError(caught);
    } finally {
      setDeleting(false);
    }
  }

  if (editing) {
    return (
      <section>
        <p class="crumbs"><a href={href('hosts')}>Hosts</a> / <a href={href('hosts', h.id)}>{h.name}</a> /</p>
        <PageHeading title={`Edit ${h.name}`} />
        {mayWrite ? (
          <HostForm key={h.version} host={h} onReload={() => void host.reload()}
            onSaved={() => { void host.reload(); navigate(href('hosts', h.id)); }}
            onCancel={() => navigate(href('hosts', h.id))} />
        ) : <NotAllowed what="edit hosts" />}
      </section>
    );
  }

  const imageName = (id: string | null) => (id ? <a href={href('images', id)}>{images.get(id) ?? 'image'}</a> : null);
  const inventory = h.inventory ?? {};
  const known = new Set(INVENTORY_LABELS.map(([key]) => key));
  const inventoryItems: [string, ReturnType<typeof inventoryValue>][] = [
    ...INVENTORY_LABELS.filter(([key]) => key in inventory).map(([key, label]) => [label, inventoryValue(inventory[key])] as [string, ReturnType<typeof inventoryValue>]),
    ...Object.keys(inventory).filter((key) => !known.has(key)).sort().map((key) => [key, inventoryValue(inventory[key])] as [string, ReturnType<typeof inventoryValue>]),
  ];

  return (
    <section class="host-page">
      <p class="crumbs"><a href={href('hosts')}>Hosts</a> /</p>
      <PageHeading title={h.name} actions={mayWrite && (
        <>
          <a class="button" href={href('hosts', h.id, 'edit')}>Edit</a>
          <ConfirmButton label="Delete" confirmLabel="Delete for good" busy={deleting} onConfirm={remove}
            question={<>Delete <strong>{h.name}</strong>? It leaves its groups; its history stays.</>} />
        </>
      )}>
        {h.name}
      </PageHeading>
      {h.description && <p class="lead">{h.description}</p>}
      <ErrorMessage error={deleteError} onReload={() => { setDeleteError(null); void host.reload(); }} what="this host" />
      {host.error !== undefined && <ErrorMessage error={host.error} />}

      <div class="panels">
        <section class="panel" aria-labelledby="host-overview">
          <h2 id="host-overview">Overview</h2>
          <DefinitionList items={[
            ['Primary MAC', <span class="mono">{h.primaryMac}</span>],
            ['IP', h.ip && <span class="mono">{h.ip}</span>],
            ['Image', imageName(h.imageId)],
            ['Deployed', h.deployed && <>{imageName(h.deployed.imageId)}{h.deployed.revision !== null ? `, revision ${h.deployed.revision}` : ''}{h.deployed.at && <>, <RelativeTime value={h.deployed.at} /></>}</>],
            ['Storage node', h.storageNodeId ? <a href={href('storage-nodes', h.storageNodeId)}>{nodes.get(h.storageNodeId) ?? 'storage node'}</a> : 'brume\'s own queue'],
            ['Site', h.site],
            ['Groups', h.groups.length > 0 && <ul class="inline">{h.groups.map((g) => <li key={g.id}><a href={href('groups', g.id)}>{g.name}</a></li>)}</ul>],
            ['Active task', h.activeTaskId && <a href={href('tasks', h.activeTaskId)}>{h.tasks.find((t) => t.id === h.activeTaskId)?.typeName ?? 'task'}</a>],
            ['Registered', <RelativeTime value={h.createdAt} />],
            ['Changed', <><RelativeTime value={h.updatedAt} /> <span class="muted">(version {h.version})</span></>],
          ]} />
        </section>

        <section class="panel" aria-labelledby="host-macs-title">
          <h2 id="host-macs-title">MAC addresses</h2>
          <table class="table compact stack">
            <thead><tr><th>MAC</th><th>Role</th><th>Imaging</th></tr></thead>
            <tbody>
              {h.macs.map((m) => (
                <tr key={m.mac}>
                  <td data-label="MAC" class="mono">{m.mac}</td>
                  <td data-label="Role">{ROLE_LABEL[m.role] ?? m.role}</td>
                  <td data-label="Imaging">{m.ignoreForImaging ? 'ignored' : 'used'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>

        <section class="panel" aria-labelledby="host-inventory">
          <h2 id="host-inventory">Inventory</h2>
          {inventoryItems.length === 0
            ? <p class="muted">No inventory reported yet: it arrives with a Hardware Inventory task or a deploy.</p>
            : <DefinitionList items={inventoryItems} />}
        </section>

        <section class="panel" aria-labelledby="host-boot">
          <h2 id="host-boot">Boot stages</h2>
          <BootStages stages={h.bootStages} />
        </section>
      </div>

      <section aria-labelledby="host-tasks">
        <h2 id="host-tasks">Tasks</h2>
        <HostTasks hostId={h.id} active={h.activeTaskId !== null} version={h.version} lastTaskId={h.lastTaskId} />
      </section>

      <section aria-labelledby="host-history">
        <h2 id="host-history">History</h2>
        <SubjectHistory subject={`host-${h.id}`} recent={h.history} label={`History of ${h.name}`} />
      </section>
    </section>
  );
}

function BootStages({ stages }: { stages: BootStage[] }) {
  if (stages.length === 0) return <p class="muted">Not seen booting yet.</p>;
  return (
    <table class="table compact stack boot-stages">
      <thead><tr><th class="col-stage">Stage</th><th class="col-when">When</th><th class="col-mac">MAC</th><th>Detail</th></tr></thead>
      <tbody>
        {stages.map((s) => (
          <tr key={`${s.mac} ${s.stage}`}>
            <td data-label="Stage">{s.stage}</td>
            <td data-label="When"><RelativeTime value={s.at} short /></td>
            <td data-label="MAC" class="mono">{s.mac}</td>
            <td data-label="Detail" class="wrap">{Object.entries(s.detail).map(([k, v]) => <span key={k} class="tag">{k}: {v}</span>)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A task's state, with a progress bar (fixed width, so nothing moves as it fills) while it runs. */
export function TaskState({ task }: { task: Task }) {
  return (
    <span class={`state state-${task.state}`}>
      {STATE_LABEL[task.state] ?? task.state}
      {task.state === 'in-progress' && task.progress && (
        <> <progress max={100} value={task.progress.percent} aria-label={`${task.progress.percent}% done`} /> <span class="num">{task.progress.percent}%</span></>
      )}
    </span>
  );
}

/** The host's tasks, newest first (GET /api/tasks?hostId=), re-read while one is active. */
function HostTasks({ hostId, active, version, lastTaskId }: { hostId: string; active: boolean; version: number; lastTaskId: string | null }) {
  const pages = useCursorPages();
  const tasks = useResource(
    () => apiGet('/api/tasks', { query: { hostId, limit: TASKS_PER_PAGE, cursor: pages.cursor ?? undefined } }),
    `${hostId} ${pages.cursor}`,
    { refreshMs: active ? 5_000 : 30_000, keepPrevious: true },
  );
  const seen = useRef(`${version} ${lastTaskId}`);
  useEffect(() => {
    // The host changed (a new task, a state change): read its tasks now rather than at the next refresh.
    if (seen.current !== `${version} ${lastTaskId}`) { seen.current = `${version} ${lastTaskId}`; void tasks.reload(); }
  }, [version, lastTaskId]);
  const page = tasks.data;
  if (!page) return tasks.error ? <ErrorMessage error={tasks.error} /> : <p class="muted" aria-busy="true">Loading tasks…</p>;
  if (page.items.length === 0) return <p class="muted">No tasks yet.</p>;
  return (
    <>
      <ErrorMessage error={tasks.error} />
      <table class="table stack tasks">
        <thead><tr><th>Task</th><th class="col-state">State</th><th>Created</th><th>Finished</th><th>Image</th><th class="wrap">Reason</th></tr></thead>
        <tbody>
          {page.items.map((t) => (
            <tr key={t.id}>
              <td data-label="Task"><a href={href('tasks', t.id)}>{t.typeName}</a>{t.replayOf ? <span class="muted"> (re-run)</span> : ''}</td>
              <td data-label="State"><TaskState task={t} /></td>
              <td data-label="Created"><span title={formatDateTime(t.createdAt)}><RelativeTime value={t.createdAt} /></span></td>
              <td data-label="Finished"><RelativeTime value={t.finishedAt} /></td>
              <td data-label="Image">{t.imageRevision ? `revision ${t.imageRevision}` : t.progress ? formatBytes(t.progress.bytesTotal) : <span class="muted">—</span>}</td>
              <td data-label="Reason" class="wrap">{t.reason ?? <span class="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <CursorPager pages={pages} nextCursor={page.nextCursor} total={page.total} pageSize={TASKS_PER_PAGE} label="task pages" />
    </>
  );
}
