import { ApiError } from '../api.ts';

/** What a failure says to a person: the API's own message, or that brume cannot be reached. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return 'brume cannot be reached; check the connection and try again';
  if (error instanceof Error) return error.message;
  return String(error);
}

/** A 409 after a lost race: someone else changed the thing since it was read. */
export const isVersionConflict = (error: unknown): error is ApiError =>
  error instanceof ApiError && error.status === 409 && error.currentVersion !== undefined;

/**
 * An API failure where it belongs: in the page or above a form. A 409 with
 * `currentVersion` offers a reload (the edit was made on an old copy);
 * errors that name a field the form shows are left to that field
 * (`shownByFields`).
 *
 * @example
 * <ErrorMessage error={error} onReload={host.reload} shownByFields={['name', 'ip']} />
 */
export function ErrorMessage({ error, onReload, shownByFields = [], what = 'it' }: {
  error: unknown;
  onReload?: () => void;
  shownByFields?: readonly string[];
  /** The thing that changed, for the conflict message ("this host"). */
  what?: string;
}) {
  if (!error) return null;
  if (error instanceof ApiError && error.field && shownByFields.some((f) => fieldMatches(error.field!, f))) return null;
  if (isVersionConflict(error)) {
    return (
      <div class="error-box" role="alert">
        <p><strong>Someone changed {what} meanwhile</strong> (it is now at version {error.currentVersion}); your change was not saved.</p>
        {onReload && <button type="button" onClick={onReload}>Reload the current version</button>}
      </div>
    );
  }
  return (
    <div class="error-box" role="alert">
      <p>{messageOf(error)}</p>
      {error instanceof ApiError && error.status === 401 && <p><a href="#/">Sign in again</a></p>}
    </div>
  );
}

/** `macs[0].role` belongs to the `macs[0]` input and to the `macs` group; `name` only to `name`. */
export function fieldMatches(errorField: string, field: string): boolean {
  return errorField === field || errorField.startsWith(`${field}[`) || errorField.startsWith(`${field}.`);
}
