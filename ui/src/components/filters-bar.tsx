import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/**
 * Filters live in the hash's query (#/tasks?state=active&type=1), so a
 * filtered list can be bookmarked, shared and gone back to.
 */
export function routeWithQuery(path: string[], params: Record<string, string | null | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  const text = query.toString();
  return `#/${path.map(encodeURIComponent).join('/')}${text ? `?${text}` : ''}`;
}

/** Goes to a route; `replace` changes the current history entry instead of adding one (for refinements as you type). */
export function goTo(hash: string, replace = false): void {
  if (location.hash === hash) return;
  if (!replace) {
    location.hash = hash;
    return;
  }
  history.replaceState(history.state, '', hash);
  dispatchEvent(new HashChangeEvent('hashchange'));
}

const NARROW = '(max-width: 640px)';

/**
 * A row of filters: labelled fields that wrap on narrow screens, with
 * Apply (Enter in any field) and Clear. Selects may apply at once; text
 * fields apply on Enter. On a phone the filters fold away behind their
 * summary (which says when some are set), so the list stays in view.
 */
export function FiltersBar({ label, onApply, onClear, canClear, children }: {
  label: string;
  onApply: () => void;
  onClear: () => void;
  canClear: boolean;
  children: ComponentChildren;
}) {
  const [narrow, setNarrow] = useState(() => matchMedia(NARROW).matches);
  const [open, setOpen] = useState(() => !matchMedia(NARROW).matches);
  useEffect(() => {
    const query = matchMedia(NARROW);
    const changed = () => { setNarrow(query.matches); if (!query.matches) setOpen(true); };
    query.addEventListener('change', changed);
    return () => query.removeEventListener('change', changed);
  }, []);
  const form = (
    <form class="filters-bar" role="search" aria-label={label} onSubmit={(e) => { e.preventDefault(); onApply(); }}>
      <div class="filters-bar-fields">{children}</div>
      <div class="filters-bar-actions">
        <button type="submit">Apply</button>
        <button type="button" class="secondary" onClick={onClear} disabled={!canClear}>Clear</button>
      </div>
    </form>
  );
  if (!narrow) return form;
  return (
    <details class="filters-bar-fold" open={open} onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>{label}{canClear ? ' (some set)' : ''}</summary>
      {form}
    </details>
  );
}
