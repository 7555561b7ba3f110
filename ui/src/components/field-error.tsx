import { ApiError } from '../api.ts';
import { fieldMatches } from './error-message.tsx';

/** The id of a form field's input, so a 400 naming the field can point at it. */
export const inputId = (form: string, field: string) => `${form}-${field.replace(/[^a-z0-9]+/gi, '-').replace(/-$/, '')}`;
export const errorId = (form: string, field: string) => `${inputId(form, field)}-error`;

/** The API's message if it names this field (exactly, or a part of it when `nested`). */
export function fieldMessage(error: unknown, field: string, nested = false): string | undefined {
  if (!(error instanceof ApiError) || !error.field) return undefined;
  return (nested ? fieldMatches(error.field, field) : error.field === field) ? error.message : undefined;
}

/**
 * Attributes for an input that may be at fault: its id, aria-invalid and
 * the message it is described by.
 *
 * @example
 * <input {...fieldProps('host', 'name', error)} value={name} />
 * <FieldError form="host" field="name" error={error} />
 */
export function fieldProps(form: string, field: string, error: unknown, nested = false) {
  const bad = fieldMessage(error, field, nested) !== undefined;
  return { id: inputId(form, field), 'aria-invalid': bad ? 'true' as const : undefined, 'aria-describedby': bad ? errorId(form, field) : undefined };
}

/** A 400's message next to the input its `field` names. */
export function FieldError({ form, field, error, nested = false }: { form: string; field: string; error: unknown; nested?: boolean }) {
  const message = fieldMessage(error, field, nested);
  if (message === undefined) return null;
  return <span class="field-error" id={errorId(form, field)}>{message}</span>;
}

/** After a 400, moves the focus to the input it names (when the form shows one). */
export function focusField(form: string, error: unknown): void {
  if (!(error instanceof ApiError) || !error.field) return;
  // macs[1].role -> try macs-1-role, then macs-1, then macs
  const parts = error.field.split(/(?=[.[])/);
  for (let n = parts.length; n > 0; n--) {
    const element = document.getElementById(inputId(form, parts.slice(0, n).join('')));
    if (element) {
      element.focus();
      return;
    }
  }
}
