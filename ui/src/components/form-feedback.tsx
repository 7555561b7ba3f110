import { ApiError } from '../api.ts';

/**
 * Where an API error belongs: a 400 (or 404, 409) that names a `field` the
 * form shows goes next to that input; anything else goes at the top of the
 * form. A form lists the fields it shows, and the API's field names map to
 * them (`options.afterTask` -> the after-task select).
 */

/** The message for one of the form's fields, if the error names it (`prefixes` also match `macs[0]`-style children). */
export function fieldMessage(error: unknown, ...fields: string[]): string | undefined {
  if (!(error instanceof ApiError) || !error.field) return undefined;
  const field = error.field;
  return fields.some((f) => field === f || field.startsWith(`${f}.`) || field.startsWith(`${f}[`)) ? error.message : undefined;
}

/** A text for any thrown value. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return 'brume cannot be reached; check the connection and try again';
  return error instanceof Error ? error.message : String(error);
}

/** The props an input takes to point at its message (aria-invalid, aria-describedby). */
export function invalidProps(id: string, message: string | undefined): { 'aria-invalid'?: 'true'; 'aria-describedby'?: string } {
  return message ? { 'aria-invalid': 'true', 'aria-describedby': `${id}-error` } : {};
}

/** The message under an input; `id` is the input's id. */
export function FieldMessage({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return <span id={`${id}-error`} class="field-message" role="alert">{message}</span>;
}

/**
 * The form-level message: the error unless it names one of `shownFields`
 * (then it sits next to its input already). Keeps its line when empty only
 * if `reserve` is set, so a form does not jump when a message appears.
 */
export function FormMessage({ error, shownFields = [], reserve = false }: { error: unknown; shownFields?: string[]; reserve?: boolean }) {
  const inline = error !== null && error !== undefined && fieldMessage(error, ...shownFields) !== undefined;
  const text = error === null || error === undefined || inline ? '' : messageOf(error);
  if (!text && !reserve) return null;
  return <p class={`form-message${text ? ' error' : ''}`} role={text ? 'alert' : undefined}>{text}</p>;
}

/**
 * A fresh Idempotency-Key: a retried submit (double click, lost answer)
 * then has no second effect. crypto.randomUUID needs a secure context;
 * getRandomValues works over plain http on a LAN too.
 */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
