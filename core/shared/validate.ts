import { invalid, ok, type Result } from './result.ts';

/** A display name: trimmed, 1-100 printable characters. */
export function validateName(input: unknown, what: string, field = 'name'): Result<string> {
  if (typeof input !== 'string' || input.trim() === '') return invalid(`a ${what} needs a name`, field);
  const name = input.trim();
  if (name.length > 100) return invalid(`${what} name is longer than 100 characters`, field);
  if (/[\u0000-\u001f\u007f]/.test(name)) return invalid(`${what} name may not contain control characters`, field);
  return ok(name);
}

export function validateInteger(input: unknown, field: string, min: number, max: number): Result<number> {
  if (typeof input !== 'number' || !Number.isInteger(input) || input < min || input > max) {
    return invalid(`${field} must be a whole number from ${min} to ${max}`, field);
  }
  return ok(input);
}

export function validateBoolean(input: unknown, field: string): Result<boolean> {
  if (typeof input !== 'boolean') return invalid(`${field} must be true or false`, field);
  return ok(input);
}

export function validateChoice<T extends string>(input: unknown, field: string, choices: readonly T[]): Result<T> {
  if (typeof input !== 'string' || !choices.includes(input as T)) {
    return invalid(`${field} must be one of ${choices.join(', ')}`, field);
  }
  return ok(input as T);
}

export function validateText(input: unknown, field: string, max = 1000): Result<string> {
  if (input === undefined || input === null) return ok('');
  if (typeof input !== 'string') return invalid(`${field} must be text`, field);
  if (input.length > max) return invalid(`${field} is longer than ${max} characters`, field);
  return ok(input);
}

export function validateOptionalId(input: unknown, field: string): Result<string | null> {
  if (input === undefined || input === null || input === '') return ok(null);
  if (typeof input !== 'string' || input.length > 100) return invalid(`${field} must be an id string`, field);
  return ok(input);
}

/**
 * Applies per-field validators to a partial change, keeping only the fields
 * whose value differs from the current state. Shared by every "update" operation.
 */
export function diffChanges<F extends object>(
  current: F,
  raw: Partial<Record<keyof F, unknown>>,
  validators: { [K in keyof F]?: (value: unknown) => Result<F[K]> },
  what: string,
): Result<{ changes: Partial<F>; previous: Partial<F> }> {
  const changes: Partial<F> = {};
  const previous: Partial<F> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const validate = validators[key as keyof F];
    if (!validate) return invalid(`"${key}" is not a ${what} field that can be changed`, key);
    const result = validate(value);
    if (!result.ok) return result;
    const k = key as keyof F;
    if (JSON.stringify(result.value) === JSON.stringify(current[k])) continue;
    changes[k] = result.value;
    previous[k] = current[k];
  }
  return ok({ changes, previous });
}
