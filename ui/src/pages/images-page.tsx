import { EntityMissing, useEntityDelete } from '../components/entity-detail.tsx';
import { useState } from 'preact/hooks';
import { api, apiGet } from '../api.ts';
import { invalidateCatalog } from '../components/catalog-cache.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { CursorPager, useCursorPages } from '../components/cursor-pager.tsx';
import { DefinitionList } from '../components/definition-list.tsx';
import { EntityForm, type EntityField } from '../components/entity-form.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { formatBytes, formatCount } from '../components/format-bytes.ts';
import { NotAllowed } from '../components/not-allowed.tsx';
import { PageHeading } from '../components/page-heading.tsx';
import type { Image } from '../components/registry-types.ts';
import { RelativeTime } from '../components/relative-time.tsx';
import { SubjectHistory } from '../components/subject-history.tsx';
import { useResource } from '../components/use-resource.ts';
import { href, navigate } from '../router.ts';
import { useSession } from '../session.ts';
import type { PageProps } from './index.ts';

export const IMAGE_TYPES: Record<string, string> = {
  n: 'single disk, resizable',
  mps: 'multiple partitions, one disk',
  mpa: 'multiple partitions, all disks',
  dd: 'raw (every sector)',
};

const IMAGE_FIELDS: EntityField[] = [
  { name: 'name', label: 'Name', required: true },
  { name: 'type', label: 'Type', kind: 'select', initial: 'n', options: Object.entries(IMAGE_TYPES).map(([value, label]) => ({ value, label: `${value}: ${label}` })) },
  { name: 'os', label: 'Operating system', nullable: true, hint: 'e.g. windows-11, debian-12' },
  { name: 'compression', label: 'Compression (zstd level)', kind: 'number', min: 0, max: 22, initial: 6, hint: '0-22; used when capturing' },
  { name: 'description', label: 'Description', kind: 'textarea', nullable: true },
];

const HOSTS_PER_PAGE = 25;

/** #/images: the list; #/images/new; #/images/<id>: revisions and the hosts that carry them; #/images/<id>/edit. */
export function ImagesPage({ route }: PageProps) {
  const session = useSession();
  const [first, second] = route.path.slice(1);
  if (first === 'new') {
    return (
      <section>
        <p class="crumbs"><a href={href('images')}>Images</a> /</p>
        <PageHeading title="New image" />
        {session.can('catalog:write') ? (
          <EntityForm form="image" path="/api/images" what="image" fields={IMAGE_FIELDS}
            onSaved={(image) => { invalidateCatalog('images'); navigate(href('images', image.id)); }} onCancel={() => navigate(href('images'))} />
        ) : <NotAllowed what="create images" />}
      </section>
    );
  }
  if (first) return <ImageDetail imageId={first} editing={second === 'edit'} />;
  return <ImageList />;
}

const shortSha = (sha: string | null) => (sha ? `${sha.slice(0, 12)}…` : null);

function ImageList() {
  const session = useSession();
  const images = useResource(() => apiGet('/api/images'), 'images', { refreshMs: 30_000 });
  return (
    <section>
      <PageHeading title="Images" actions={session.can('catalog:write') && <a class="button" href={href('images', 'new')}>New image</a>} />
      <ErrorMessage error={images.error} />
      <table class="table stack images" aria-busy={images.loading}>
        <thead><tr><th>Name</th><th>Type</th><th class="hide-narrow">OS</th><th>Revision</th><th>Size</th><th class="hide-narrow">SHA-256</th><th>Changed</th></tr></thead>
        <tbody>
          {images.data?.items.length === 0 && <tr><td colSpan={7} class="muted">No images yet.</td></tr>}
          {(images.data?.items ?? []).map((i) => (
            <tr key={i.id}>
              <td data-label="Name"><a href={href('images', i.id)}>{i.name}</a></td>
              <td data-label="Type" title={IMAGE_TYPES[i.type]}>{i.type}</td>
              <td data-label="OS" class="hide-narrow">{i.os || <span class="muted">—</span>}</td>
              <td data-label="Revision">{i.currentRevision ?? <span class="muted">none captured</span>}</td>
              <td data-label="Size" class="num">{i.sizeBytes === null ? <span class="muted">—</span> : formatBytes(i.sizeBytes)}</td>
              <td data-label="SHA-256" class="mono hide-narrow" title={i.sha256 ?? undefined}>{shortSha(i.sha256) ?? <span class="muted">—</span>}</td>
              <td data-label="Changed"><RelativeTime value={i.updatedAt} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function ImageDetail({ imageId, editing }: { imageId: string; editing: boolean }) {
  const session = useSession();
  const image = useResource(() => apiGet('/api/images/{id}', { params: { id: imageId } }), imageId, { refreshMs: editing ? undefined : 30_000 });
  const { deleting, deleteError, remove: removeEntity, clearDeleteError } = useEntityDelete('images', () => invalidateCatalog('images'));
  const mayWrite = session.can('catalog:write');
  const i = image.data;

  if (!i) return <EntityMissing section="images" sectionTitle="Images" what="image" error={image.error} />;

  if (editing) {
    return (
      <section>
        <p class="crumbs"><a href={href('images')}>Images</a> / <a href={href('images', i.id)}>{i.name}</a> /</p>
        <PageHeading title={`Edit ${i.name}`} />
        {mayWrite ? (
          <EntityForm key={i.version} form="image" path="/api/images" what="image" fields={IMAGE_FIELDS} entity={i}
            onReload={() => void image.reload()}
            onSaved={() => { invalidateCatalog('images'); void image.reload(); navigate(href('images', i.id)); }}
            onCancel={() => navigate(href('images', i.id))} />
        ) : <NotAllowed what="edit images" />}
      </section>
    );
  }

  const remove = () => removeEntity(i);

  return (
    <section>
      <p class="crumbs"><a href={href('images')}>Images</a> /</p>
      <PageHeading title={i.name} actions={mayWrite && (
        <>
          <a class="button" href={href('images', i.id, 'edit')}>Edit</a>
          <ConfirmButton label="Delete" confirmLabel="Delete for good" busy={deleting} onConfirm={remove}
            question={<>Delete image <strong>{i.name}</strong>?</>} />
        </>
      )} />
      {i.description && <p class="lead">{i.description}</p>}
      <ErrorMessage error={deleteError} onReload={() => { clearDeleteError(); void image.reload(); }} what="this image" />
      <div class="panel">
        <DefinitionList items={[
          ['Type', <>{i.type}: {IMAGE_TYPES[i.type] ?? ''}</>],
          ['Operating system', i.os],
          ['Compression', `zstd level ${i.compression}`],
          ['Current revision', i.currentRevision ?? 'none captured yet'],
          ['Size', i.sizeBytes !== null && <>{formatBytes(i.sizeBytes)} <span class="muted">({formatCount(i.sizeBytes)} bytes)</span></>],
          ['SHA-256', i.sha256 && <span class="mono sha">{i.sha256}</span>],
          ['Created', <RelativeTime value={i.createdAt} />],
          ['Changed', <><RelativeTime value={i.updatedAt} /> <span class="muted">(version {i.version})</span></>],
        ]} />
      </div>
      <Revisions image={i} mayDelete={mayWrite} />
      <section aria-labelledby="image-history">
        <h2 id="image-history">History</h2>
        <SubjectHistory subject={`image-${i.id}`} label={`History of ${i.name}`} />
      </section>
    </section>
  );
}

/** The revisions, newest first, with how many hosts carry each; old ones can be deleted by those who may. */
function Revisions({ image, mayDelete }: { image: Image; mayDelete: boolean }) {
  const revisions = useResource(async () => {
    const list = await apiGet('/api/images/{id}/revisions', { params: { id: image.id } });
    // One count per revision (limit 1: only the total is read).
    const counts = await Promise.all(list.revisions.map((r) =>
      apiGet('/api/hosts', { query: { deployedImageId: image.id, deployedRevision: r.revision, limit: 1 } }).then((p) => p.total, () => null)));
    return { ...list, counts: new Map(list.revisions.map((r, n) => [r.revision, counts[n] ?? null])) };
  }, `${image.id} ${image.version} ${image.currentRevision}`, { keepPrevious: true });
  const [shown, setShown] = useState<number | 'all'>('all');
  const [busy, setBusy] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function remove(revision: number) {
    setBusy(revision);
    setError(null);
    try {
      await api('DELETE', '/api/images/{id}/revisions/{revision}', { params: { id: image.id, revision } });
      await revisions.reload();
      if (shown === revision) setShown('all');
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(null);
    }
  }

  const data = revisions.data;
  return (
    <>
      <section aria-labelledby="image-revisions">
        <h2 id="image-revisions">Revisions</h2>
        <ErrorMessage error={revisions.error ?? error} />
        {!data ? <p class="muted" aria-busy="true">Loading revisions…</p> : data.revisions.length === 0 ? (
          <p class="muted">No revision yet: a Capture task makes the first.</p>
        ) : (
          <table class="table stack revisions">
            <thead><tr><th class="col-rev">Revision</th><th class="col-size">Size</th><th>SHA-256</th><th class="col-by">Captured by</th><th class="col-hosts">Hosts</th>{mayDelete && <th class="col-actions"><span class="visually-hidden">Actions</span></th>}</tr></thead>
            <tbody>
              {[...data.revisions].reverse().map((r) => {
                const count = data.counts.get(r.revision);
                const current = r.revision === data.current;
                return (
                  <tr key={r.revision}>
                    <td data-label="Revision">{r.revision}{current && <> <span class="tag">current</span></>}</td>
                    <td data-label="Size" class="num" title={`${formatCount(r.sizeBytes)} bytes`}>{formatBytes(r.sizeBytes)}</td>
                    <td data-label="SHA-256" class="mono sha wrap">{r.sha256}</td>
                    <td data-label="Captured by">{r.capturedByTaskId ? <a href={href('tasks', r.capturedByTaskId)}>capture task</a> : <span class="muted">—</span>}</td>
                    <td data-label="Hosts">
                      {count === null || count === undefined ? '—' : count === 0 ? <span class="muted">none</span> : (
                        <button type="button" class="link" onClick={() => setShown(r.revision)} aria-label={`show the ${count} hosts carrying revision ${r.revision}`}>{formatCount(count)}</button>
                      )}
                    </td>
                    {mayDelete && (
                      <td class="wrap actions">
                        {!current && (
                          <ConfirmButton label="Delete" confirmLabel="Delete" busy={busy === r.revision} onConfirm={() => remove(r.revision)}
                            question={<>Delete revision {r.revision} and its files{count ? ` (${count} hosts carry it)` : ''}?</>} />
                        )}
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>
      {data && data.revisions.length > 0 && (
        <CarryingHosts image={image} revisions={data.revisions.map((r) => r.revision)} shown={shown} onShow={setShown} />
      )}
    </>
  );
}

/** The hosts whose last deploy wrote this image (GET /api/hosts?deployedImageId=), optionally one revision. */
function CarryingHosts({ image, revisions, shown, onShow }: { image: Image; revisions: number[]; shown: number | 'all'; onShow: (r: number | 'all') => void }) {
  const pages = useCursorPages();
  const hosts = useResource(
    () => apiGet('/api/hosts', {
      query: { deployedImageId: image.id, deployedRevision: shown === 'all' ? undefined : shown, limit: HOSTS_PER_PAGE, cursor: pages.cursor ?? undefined },
    }),
    `${image.id} ${shown} ${pages.cursor}`, { keepPrevious: true },
  );
  const page = hosts.data;
  return (
    <section aria-labelledby="image-hosts">
      <h2 id="image-hosts">Hosts carrying {image.name}</h2>
      <div class="toolbar">
        <label>Revision
          <select value={String(shown)} onChange={(e) => { pages.reset(); onShow(e.currentTarget.value === 'all' ? 'all' : Number(e.currentTarget.value)); }}>
            <option value="all">every revision</option>
            {[...revisions].reverse().map((r) => <option key={r} value={r}>revision {r}</option>)}
          </select>
        </label>
        <p class="status-line" aria-live="polite">{page ? `${formatCount(page.total ?? 0)} ${page.total === 1 ? 'host' : 'hosts'}` : 'Loading…'}</p>
      </div>
      <ErrorMessage error={hosts.error} />
      {page && page.items.length === 0 ? <p class="muted">No host carries {shown === 'all' ? 'this image' : `revision ${shown}`} (as of its last deploy).</p> : (
        <table class="table stack" aria-busy={hosts.loading}>
          <thead><tr><th>Host</th><th>Revision</th><th>Deployed</th><th class="hide-narrow">MAC</th></tr></thead>
          <tbody class={hosts.loading && page ? 'stale' : undefined}>
            {(page?.items ?? []).map((h) => (
              <tr key={h.id}>
                <td data-label="Host"><a href={href('hosts', h.id)}>{h.name}</a></td>
                <td data-label="Revision">{h.deployed?.revision ?? '—'}{h.deployed?.revision === image.currentRevision && <> <span class="tag">current</span></>}</td>
                <td data-label="Deployed"><RelativeTime value={h.deployed?.at} /></td>
                <td data-label="MAC" class="mono hide-narrow">{h.primaryMac}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page && <CursorPager pages={pages} nextCursor={page.nextCursor} total={page.total} pageSize={HOSTS_PER_PAGE} label="host pages" />}
    </section>
  );
}
