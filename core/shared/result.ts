/**
 * Outcomes of domain operations as plain data, so the HTTP API, the CLI and
 * tests can all turn the same failure into the right message and status.
 */

/** Why a command was refused. `field` names the input at fault, when there is one. */
export type DomainError =
  | { code: 'validation'; message: string; field?: string }
  | { code: 'not-found'; message: string; field?: string }
  | { code: 'conflict'; message: string; field?: string; currentVersion?: number }
  | { code: 'forbidden'; message: string; field?: string };

export type Result<T> = { ok: true; value: T } | { ok: false; error: DomainError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });

export const invalid = (message: string, field?: string): { ok: false; error: DomainError } => ({
  ok: false,
  error: field === undefined ? { code: 'validation', message } : { code: 'validation', message, field },
});

export const notFound = (message: string, field?: string): { ok: false; error: DomainError } => ({
  ok: false,
  error: field === undefined ? { code: 'not-found', message } : { code: 'not-found', message, field },
});

export const conflict = (message: string, field?: string): { ok: false; error: DomainError } => ({
  ok: false,
  error: field === undefined ? { code: 'conflict', message } : { code: 'conflict', message, field },
});

/** Thrown where a Result cannot travel (deep in an adapter); carries the same error. */
export class DomainFailure extends Error {
  constructor(readonly error: DomainError) {
    super(error.message);
    this.name = 'DomainFailure';
  }
}
