import { useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { href, navigate } from '../router.ts';
import { ErrorMessage } from './error-message.tsx';
import { PageHeading } from './page-heading.tsx';

/**
 * What every detail page (host, group, image, storage node) shows before its
 * entity is there: loading, the API's error, or "no such ..." for a 404.
 */
export function EntityMissing({ section, sectionTitle, what, error, note = '' }: {
  section: string; sectionTitle: string; what: string; error: unknown; note?: string;
}) {
  const gone = error instanceof ApiError && error.status === 404;
  const title = `${what[0]!.toUpperCase()}${what.slice(1)}`;
  return (
    <section>
      <p class="crumbs"><a href={href(section)}>{sectionTitle}</a> /</p>
      <PageHeading title={gone ? `No such ${what}` : title} />
      {gone ? <p>This {what} does not exist{note}. <a href={href(section)}>Back to the {sectionTitle.toLowerCase()}</a>.</p>
        : error ? <ErrorMessage error={error} /> : <p class="muted" aria-busy="true">Loading…</p>}
    </section>
  );
}

/** Deleting the entity of a detail page: DELETE with If-Match, then back to its list; the API's refusal is kept to show. */
export function useEntityDelete(section: 'groups' | 'images' | 'storage-nodes', onDeleted?: () => void) {
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<unknown>(null);
  async function remove(entity: { id: string; version: number }): Promise<void> {
    setDeleting(true);
    setDeleteError(null);
    try {
      await api('DELETE', `/api/${section}/{id}`, { params: { id: entity.id }, headers: { 'if-match': `"${entity.version}"` } });
      onDeleted?.();
      navigate(href(section));
    } catch (caught) {
      setDeleteError(caught);
    } finally {
      setDeleting(false);
    }
  }
  /** Dismisses a refusal (before reloading the entity, say). */
  const clearDeleteError = () => setDeleteError(null);
  return { deleting, deleteError, remove, clearDeleteError };
}
