import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { fieldMessage, FieldMessage, FormMessage, invalidProps } from './form-feedback.tsx';

/**
 * Asks why before doing something that goes into the history (cancelling
 * a task): a modal dialog, so focus stays in it and Escape closes it. The
 * reason is required here and by the API; the API's refusal shows in the
 * dialog, next to the reason when it names it.
 */
export function ReasonDialog({ open, title, confirmLabel, onConfirm, onClose, children, danger = true }: {
  open: boolean;
  title: string;
  confirmLabel: string;
  /** Throws to keep the dialog open with the error. */
  onConfirm: (reason: string) => Promise<void>;
  onClose: () => void;
  children?: ComponentChildren;
  danger?: boolean;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      setReason('');
      setError(null);
      element.showModal();
    } else if (!open && element.open) element.close();
  }, [open]);

  async function submit(event: Event) {
    event.preventDefault();
    if (!reason.trim()) {
      setError(new Error('say why: the reason goes into the history'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onConfirm(reason.trim());
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  const reasonError = fieldMessage(error, 'reason') ?? (error instanceof Error && error.name === 'Error' ? error.message : undefined);
  return (
    <dialog ref={dialog} class="reason-dialog" aria-labelledby="reason-dialog-title" onCancel={(e) => { e.preventDefault(); if (!busy) onClose(); }}>
      <form method="dialog" onSubmit={submit}>
        <h2 id="reason-dialog-title">{title}</h2>
        {children}
        <label for="reason-dialog-reason">Reason <small>(required, kept in the history)</small></label>
        <textarea id="reason-dialog-reason" rows={3} maxLength={1000} required autofocus value={reason}
          onInput={(e) => setReason(e.currentTarget.value)} {...invalidProps('reason-dialog-reason', reasonError)} />
        <FieldMessage id="reason-dialog-reason" message={reasonError} />
        <FormMessage error={reasonError ? null : error} />
        <div class="reason-dialog-actions">
          <button type="button" class="secondary" onClick={onClose} disabled={busy}>Keep it</button>
          <button type="submit" class={danger ? 'danger' : undefined} disabled={busy}>{busy ? 'Working…' : confirmLabel}</button>
        </div>
      </form>
    </dialog>
  );
}
