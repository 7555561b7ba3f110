import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * A destructive action asked twice: the first press shows what will happen
 * and a confirm button (focused, so Enter confirms and Escape cancels).
 *
 * @example
 * <ConfirmButton label="Delete host" question="Delete lab-01? Its history stays." onConfirm={remove} />
 */
export function ConfirmButton({ label, question, confirmLabel = label, onConfirm, busy = false, disabled = false, danger = true, class: className }: {
  label: ComponentChildren;
  question: ComponentChildren;
  confirmLabel?: ComponentChildren;
  onConfirm: () => void | Promise<void>;
  busy?: boolean;
  disabled?: boolean;
  /** Red for what cannot be undone (the default); the accent colour otherwise. */
  danger?: boolean;
  class?: string;
}) {
  const [asking, setAsking] = useState(false);
  const confirm = useRef<HTMLButtonElement>(null);
  const opener = useRef<HTMLButtonElement>(null);
  useEffect(() => { if (asking) confirm.current?.focus(); }, [asking]);
  const cancel = () => { setAsking(false); setTimeout(() => opener.current?.focus(), 0); };

  if (!asking) {
    return <button type="button" ref={opener} class={`${danger ? 'danger' : ''} ${className ?? ''}`.trim() || undefined} disabled={disabled || busy} onClick={() => setAsking(true)}>{label}</button>;
  }
  return (
    <span class={`confirm${danger ? '' : ' calm'}`} role="group" aria-label="confirm" onKeyDown={(e) => { if (e.key === 'Escape') cancel(); }}>
      <span class="confirm-question">{question}</span>
      <button type="button" ref={confirm} class={danger ? 'danger' : undefined} disabled={busy} onClick={async () => { await onConfirm(); setAsking(false); }}>{busy ? 'Working…' : confirmLabel}</button>
      <button type="button" class="secondary" onClick={cancel}>Cancel</button>
    </span>
  );
}
