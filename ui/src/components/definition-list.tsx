import type { ComponentChildren } from 'preact';

/**
 * Label/value pairs (a host's fields, an image's): a two-column grid on
 * wide screens, stacked on a phone. Empty values show a dash.
 */
export function DefinitionList({ items, class: className }: { items: [label: string, value: ComponentChildren][]; class?: string }) {
  return (
    <dl class={`facts ${className ?? ''}`}>
      {items.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value === null || value === undefined || value === '' ? <span class="muted">—</span> : value}</dd>
        </div>
      ))}
    </dl>
  );
}
