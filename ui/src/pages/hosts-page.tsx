import { useEffect, useRef, useState } from 'preact/hooks';
import { apiGet } from '../api.ts';
import { useNames } from '../components/catalog-cache.ts';
import { CursorPager, useCursorPages } from '../components/cursor-pager.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { formatCount } from '../components/format-bytes.ts';
import { NotAllowed } from '../components/not-allowed.tsx';
import { PageHeading } from '../components/page-heading.tsx';
import type { HostPage as HostPageAnswer } from '../components/registry-types.ts';
import { href, navigate } from '../router.ts';
import { useSession } from '../session.ts';
import { HostForm } from './host-form.tsx';
import { HostImportPage } from './host-import-page.tsx';
import { HostPage } from './host-page.tsx';
import type { PageProps } from './index.ts';

const PAGE_SIZE = 50;

/**
 * #/hosts: the search list; #/hosts/new: register; #/hosts/import: CSV
 * import; #/hosts/<id>: the host page (#/hosts/<id>/edit to edit it).
 */
export function HostsPage({ route }: PageProps) {
  const [first, second] = route.path.slice(1);
  if (first === 'new') return <RegisterHostPage />;
  if (first === 'import') return <HostImportPage />;
  if (first) return <HostPage hostId={first} editing={second === 'edit'} />;
  return <HostList initialQuery={route.query.get('q') ?? ''} />;
}

function RegisterHostPage() {
  const session = useSession();
  return (
    <section>
      <p class="crumbs"><a href={href('hosts')}>Hosts</a> /</p>
      <PageHeading title="Register a host" />
      {session.can('hosts:write')
        ? <HostForm onSaved={(host) => navigate(href('hosts', host.id))} onCancel={() => navigate(href('hosts'))} />
        : <NotAllowed what="register hosts" />}
    </section>
  );
}

/** Moves the focus between the result links with the arrow keys; Up from the first goes back to the search box. */
function arrowKeys(event: KeyboardEvent, search: HTMLInputElement | null) {
  if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
  const links = [...document.querySelectorAll<HTMLAnchorElement>('.host-list tbody a.row-link')];
  if (links.length === 0) return;
  const at = links.indexOf(document.activeElement as HTMLAnchorElement);
  event.preventDefault();
  if (event.key === 'ArrowDown') links[Math.min(at + 1, links.length - 1)]!.focus();
  else if (at <= 0) search?.focus();
  else links[at - 1]!.focus();
}

/** Hosts, searched as you type by name, MAC or IP, a page at a time. */
function HostList({ initialQuery }: { initialQuery: string }) {
  const session = useSession();
  const [query, setQuery] = useState(initialQuery);
  const pages = useCursorPages();
  const [page, setPage] = useState<HostPageAnswer | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const latest = useRef(0);
  const search = useRef<HTMLInputElement>(null);
  const images = useNames('images');

  useEffect(() => { search.current?.focus(); }, []);

  useEffect(() => {
    const ticket = ++latest.current;
    setLoading(true);
    // Typing fast sends one request per pause, and only the newest answer is shown.
    const timer = setTimeout(() => {
      apiGet('/api/hosts', { query: { q: query.trim() || undefined, limit: PAGE_SIZE, cursor: pages.cursor ?? undefined } }).then(
        (answer) => { if (ticket === latest.current) { setPage(answer); setError(null); setLoading(false); } },
        (e: unknown) => { if (ticket === latest.current) { setError(e); setLoading(false); } },
      );
    }, 150);
    return () => clearTimeout(timer);
  }, [query, pages.cursor]);

  useEffect(() => {
    // The search stays in the address (Back returns to it) without a new history entry per key.
    const target = query.trim() ? `#/hosts?q=${encodeURIComponent(query.trim())}` : '#/hosts';
    if (location.hash !== target) history.replaceState(history.state, '', target);
  }, [query]);

  useEffect(() => {
    const slash = (e: KeyboardEvent) => {
      const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLSelectElement;
      if (e.key === '/' && !typing) { e.preventDefault(); search.current?.focus(); }
    };
    addEventListener('keydown', slash);
    return () => removeEventListener('keydown', slash);
  }, []);

  const total = page?.total;
  return (
    <section class="host-list" onKeyDown={(e) => arrowKeys(e, search.current)}>
      <PageHeading title="Hosts" focus={false} actions={session.can('hosts:write') && (
        <>
          <a class="button" href={href('hosts', 'new')}>Register a host</a>
          <a class="button secondary" href={href('hosts', 'import')}>Import CSV</a>
        </>
      )} />
      <div class="search-row">
        <label class="search">Search
          <input ref={search} type="search" placeholder="name, MAC or IP" value={query} autoComplete="off" spellcheck={false}
            aria-describedby="host-search-help host-count" aria-controls="host-results"
            onInput={(e) => { setQuery(e.currentTarget.value); pages.reset(); }} />
        </label>
        <p class="status-line" id="host-count" aria-live="polite">
          {total === undefined ? 'Loading…' : `${formatCount(total)} ${total === 1 ? 'host' : 'hosts'}${query.trim() ? ' match' : ''}`}
          {loading && total !== undefined && <span class="spinner" aria-hidden="true" />}
        </p>
      </div>
      <p id="host-search-help" class="hint">Any part of a name, a MAC in any form (00:c0:4f, 00-C0-4F, 00c0.4f18) or the start of an IP. ↓ moves into the results, / comes back here.</p>
      <ErrorMessage error={error} />
      <table class="table hosts" id="host-results" aria-busy={loading}>
        <thead><tr><th class="col-name">Name</th><th class="col-mac hide-narrow">MAC</th><th class="col-ip hide-narrow">IP</th><th class="hide-narrow">Image</th><th class="col-task">Task</th></tr></thead>
        <tbody class={loading && page ? 'stale' : undefined}>
          {page === null && !error && Array.from({ length: 8 }, (_, i) => (
            <tr key={i} class="placeholder" aria-hidden="true"><td colSpan={5}>&nbsp;</td></tr>
          ))}
          {page?.items.length === 0 && (
            <tr><td colSpan={5} class="muted">No host matches “{query.trim()}”.</td></tr>
          )}
          {(page?.items ?? []).map((h) => (
            <tr key={h.id}>
              <td>
                <a class="row-link" href={href('hosts', h.id)}>{h.name}</a>
                <span class="sub show-narrow mono">{h.primaryMac}{h.ip ? ` · ${h.ip}` : ''}</span>
              </td>
              <td class="mono hide-narrow">{h.primaryMac}</td>
              <td class="mono hide-narrow">{h.ip ?? '—'}</td>
              <td class="hide-narrow">{h.imageId ? images.get(h.imageId) ?? '…' : <span class="muted">—</span>}</td>
              <td>{h.activeTaskId ? <a href={href('tasks', h.activeTaskId)}>active</a> : <span class="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <CursorPager pages={pages} nextCursor={page?.nextCursor} total={total} pageSize={PAGE_SIZE} label="host pages" />
    </section>
  );
}
