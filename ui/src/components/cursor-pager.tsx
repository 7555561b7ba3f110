import { useState } from 'preact/hooks';
import { formatCount } from './format-bytes.ts';

/**
 * Cursor paging (the API's `nextCursor`): a stack of the cursors that led
 * to the current page, so Previous goes back without the API paging backwards.
 */
export function useCursorPages() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  return {
    cursor: cursors[cursors.length - 1] ?? null,
    number: cursors.length,
    next: (cursor: string) => setCursors((c) => [...c, cursor]),
    previous: () => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)),
    reset: () => setCursors((c) => (c.length === 1 && c[0] === null ? c : [null])),
  };
}

/** Previous / page n of m / Next under a list. */
export function CursorPager({ pages, nextCursor, total, pageSize, label = 'pages' }: {
  pages: ReturnType<typeof useCursorPages>;
  nextCursor: string | null | undefined;
  total?: number | undefined;
  pageSize: number;
  label?: string;
}) {
  const count = total === undefined ? undefined : Math.max(1, Math.ceil(total / pageSize));
  if (pages.number === 1 && !nextCursor) return null;
  return (
    <nav class="pager" aria-label={label}>
      <button type="button" class="secondary" disabled={pages.number < 2} onClick={pages.previous}>Previous</button>
      <span aria-live="polite">Page {formatCount(pages.number)}{count !== undefined ? ` of ${formatCount(count)}` : ''}</span>
      <button type="button" class="secondary" disabled={!nextCursor} onClick={() => nextCursor && pages.next(nextCursor)}>Next</button>
    </nav>
  );
}
