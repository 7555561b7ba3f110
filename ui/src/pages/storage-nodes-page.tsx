import { EntityMissing, useEntityDelete } from '../components/entity-detail.tsx';
import { ApiError, apiGet } from '../api.ts';
import { invalidateCatalog } from '../components/catalog-cache.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { DefinitionList } from '../components/definition-list.tsx';
import { EntityForm, type EntityField } from '../components/entity-form.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { formatCount } from '../components/format-bytes.ts';
import { NotAllowed } from '../components/not-allowed.tsx';
import { PageHeading } from '../components/page-heading.tsx';
import { RelativeTime } from '../components/relative-time.tsx';
import { SlotMeter } from '../components/slot-meter.tsx';
import { SubjectHistory } from '../components/subject-history.tsx';
import { useResource } from '../components/use-resource.ts';
import { href, navigate } from '../router.ts';
import { useSession } from '../session.ts';
import type { PageProps } from './index.ts';

const NODE_FIELDS: EntityField[] = [
  { name: 'name', label: 'Name', required: true },
  { name: 'address', label: 'Address', required: true, hint: 'host name or IP, optionally :port' },
  { name: 'maxClients', label: 'Max clients', kind: 'number', min: 1, max: 1000, initial: 10, hint: 'imaging clients served at once (slots)' },
  { name: 'site', label: 'Site', nullable: true },
  { name: 'master', label: 'Master of its site (captures and multicasts)', kind: 'checkbox', initial: false },
  { name: 'enabled', label: 'Enabled', kind: 'checkbox', initial: true },
];

/** The queues, or null where the server has no /api/queues (the nodes' own slot counts are used then). */
function useQueues(key: string) {
  return useResource(async () => {
    try {
      return (await apiGet('/api/queues')).items;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
  }, key, { refreshMs: 5_000 });
}

/** #/storage-nodes: slots used and free per node; #/storage-nodes/new; #/storage-nodes/<id> (and /edit). */
export function StorageNodesPage({ route }: PageProps) {
  const session = useSession();
  const [first, second] = route.path.slice(1);
  if (first === 'new') {
    return (
      <section>
        <p class="crumbs"><a href={href('storage-nodes')}>Storage nodes</a> /</p>
        <PageHeading title="New storage node" />
        {session.can('catalog:write') ? (
          <EntityForm form="node" path="/api/storage-nodes" what="storage node" fields={NODE_FIELDS}
            onSaved={(n) => { invalidateCatalog('storage-nodes'); navigate(href('storage-nodes', n.id)); }}
            onCancel={() => navigate(href('storage-nodes'))} />
        ) : <NotAllowed what="create storage nodes" />}
      </section>
    );
  }
  if (first) return <NodeDetail nodeId={first} editing={second === 'edit'} />;
  return <NodeList />;
}

function NodeList() {
  const session = useSession();
  const nodes = useResource(() => apiGet('/api/storage-nodes'), 'nodes', { refreshMs: 5_000 });
  const queues = useQueues('queues');
  const queueOf = (id: string) => queues.data?.find((q) => q.queueId === id);
  const own = queues.data?.find((q) => q.queueId === 'default');
  return (
    <section>
      <PageHeading title="Storage nodes" actions={session.can('catalog:write') && <a class="button" href={href('storage-nodes', 'new')}>New storage node</a>} />
      <ErrorMessage error={nodes.error ?? queues.error} />
      <table class="table stack nodes" aria-busy={nodes.loading}>
        <thead><tr><th>Name</th><th class="hide-narrow">Address</th><th class="col-site">Site</th><th class="col-slots">Slots in use</th><th class="col-waiting">Waiting</th><th class="col-state">State</th></tr></thead>
        <tbody>
          {nodes.data?.items.length === 0 && <tr><td colSpan={6} class="muted">No storage nodes: every host uses brume's own queue.</td></tr>}
          {(nodes.data?.items ?? []).map((n) => {
            const queue = queueOf(n.id);
            const used = queue ? queue.active.length : n.slotsUsed;
            const waiting = queue ? queue.waiting.length : n.waiting;
            return (
              <tr key={n.id}>
                <td data-label="Name"><a href={href('storage-nodes', n.id)}>{n.name}</a>{n.master && <> <span class="tag">master</span></>}</td>
                <td data-label="Address" class="mono hide-narrow">{n.address}</td>
                <td data-label="Site">{n.site ?? <span class="muted">—</span>}</td>
                <td data-label="Slots in use"><SlotMeter used={used} max={n.maxClients} /></td>
                <td data-label="Waiting" class="num">{formatCount(waiting)}</td>
                <td data-label="State">{n.enabled ? 'enabled' : <span class="error">disabled</span>}</td>
              </tr>
            );
          })}
          {own && (
            <tr>
              <td data-label="Name">brume <span class="muted">(hosts without a node)</span></td>
              <td data-label="Address" class="hide-narrow muted">this server</td>
              <td data-label="Site"><span class="muted">—</span></td>
              <td data-label="Slots in use"><SlotMeter used={own.active.length} max={own.maxClients} /></td>
              <td data-label="Waiting" class="num">{formatCount(own.waiting.length)}</td>
              <td data-label="State">enabled</td>
            </tr>
          )}
        </tbody>
      </table>
      <p class="hint">Slots: imaging clients a node serves at once; the rest wait in line, first come, first served. Updated every 5 seconds.</p>
    </section>
  );
}

function NodeDetail({ nodeId, editing }: { nodeId: string; editing: boolean }) {
  const session = useSession();
  const node = useResource(() => apiGet('/api/storage-nodes/{id}', { params: { id: nodeId } }), nodeId, { refreshMs: editing ? undefined : 5_000 });
  const queues = useQueues(`queues ${nodeId}`);
  const { deleting, deleteError, remove: removeEntity, clearDeleteError } = useEntityDelete('storage-nodes', () => invalidateCatalog('storage-nodes'));
  const mayWrite = session.can('catalog:write');
  const n = node.data;

  if (!n) return <EntityMissing section="storage-nodes" sectionTitle="Storage nodes" what="storage node" error={node.error} />;

  if (editing) {
    return (
      <section>
        <p class="crumbs"><a href={href('storage-nodes')}>Storage nodes</a> / <a href={href('storage-nodes', n.id)}>{n.name}</a> /</p>
        <PageHeading title={`Edit ${n.name}`} />
        {mayWrite ? (
          <EntityForm key={n.version} form="node" path="/api/storage-nodes" what="storage node" fields={NODE_FIELDS} entity={n}
            onReload={() => void node.reload()}
            onSaved={() => { invalidateCatalog('storage-nodes'); void node.reload(); navigate(href('storage-nodes', n.id)); }}
            onCancel={() => navigate(href('storage-nodes', n.id))} />
        ) : <NotAllowed what="edit storage nodes" />}
      </section>
    );
  }

  const remove = () => removeEntity(n);

  const queue = queues.data?.find((q) => q.queueId === n.id);
  const used = queue ? queue.active.length : n.slotsUsed;
  return (
    <section>
      <p class="crumbs"><a href={href('storage-nodes')}>Storage nodes</a> /</p>
      <PageHeading title={n.name} actions={mayWrite && (
        <>
          <a class="button" href={href('storage-nodes', n.id, 'edit')}>Edit</a>
          <ConfirmButton label="Delete" confirmLabel="Delete for good" busy={deleting} onConfirm={remove}
            question={<>Delete storage node <strong>{n.name}</strong>?</>} />
        </>
      )} />
      <ErrorMessage error={deleteError ?? queues.error} onReload={() => { clearDeleteError(); void node.reload(); }} what="this storage node" />
      <div class="panels">
        <div class="panel">
          <h2>Overview</h2>
          <DefinitionList items={[
            ['Address', <span class="mono">{n.address}</span>],
            ['Site', n.site],
            ['Master', n.master ? 'yes: captures and multicasts for its site' : 'no'],
            ['State', n.enabled ? 'enabled' : <span class="error">disabled: no client gets a slot</span>],
            ['Slots in use', <SlotMeter used={used} max={n.maxClients} />],
            ['Waiting', formatCount(queue ? queue.waiting.length : n.waiting)],
            ['Changed', <><RelativeTime value={n.updatedAt} /> <span class="muted">(version {n.version})</span></>],
          ]} />
        </div>
        <div class="panel">
          <h2>Imaging now</h2>
          {queue === undefined ? (
            <p class="muted">{queues.data === null ? `${used} in progress (the server does not list the queue itself).` : 'Loading…'}</p>
          ) : queue.active.length === 0 && queue.waiting.length === 0 ? <p class="muted">No client is imaging through this node.</p> : (
            <table class="table compact stack">
              <thead><tr><th>Host</th><th>Slot</th><th>Since</th></tr></thead>
              <tbody>
                {queue.active.map((a) => (
                  <tr key={a.taskId}>
                    <td data-label="Host">{a.hostId ? <a href={href('hosts', a.hostId)}>{a.hostName ?? 'host'}</a> : '—'}</td>
                    <td data-label="Slot"><a href={href('tasks', a.taskId)}>in a slot</a></td>
                    <td data-label="Since"><RelativeTime value={a.since} /></td>
                  </tr>
                ))}
                {queue.waiting.map((w) => (
                  <tr key={w.taskId}>
                    <td data-label="Host">{w.hostId ? <a href={href('hosts', w.hostId)}>{w.hostName ?? 'host'}</a> : '—'}</td>
                    <td data-label="Slot"><a href={href('tasks', w.taskId)}>waiting, #{w.position}</a></td>
                    <td data-label="Since"><RelativeTime value={w.checkedInAt} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </div>
      <section aria-labelledby="node-history">
        <h2 id="node-history">History</h2>
        <SubjectHistory subject={`storage-node-${n.id}`} label={`History of ${n.name}`} />
      </section>
    </section>
  );
}
