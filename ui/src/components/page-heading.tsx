import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

/**
 * A page's h1, which names the tab and takes the focus when the page
 * opens (unless `focus` is false, e.g. where a search box should have it),
 * so keyboard and screen-reader users start at the top of the new page.
 */
export function PageHeading({ title, children, focus = true, actions }: { title: string; children?: ComponentChildren; focus?: boolean; actions?: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · brume`;
    if (focus) heading.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <div class="page-head">
      <h1 ref={heading} tabIndex={-1}>{children ?? title}</h1>
      {actions && <div class="page-actions">{actions}</div>}
    </div>
  );
}
