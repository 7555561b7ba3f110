import { expect } from 'vitest';
import type { DomainError, Result } from '../../../core/shared/result.ts';

/**
 * Emmett-style specs for pure decide functions:
 *
 *   hosts.given([registered]).when((state) => updateHost(cmd, state)).then([updated])
 *   hosts.given([]).when((state) => updateHost(cmd, state)).thenFails({ code: 'not-found', message: /does not exist/ })
 *
 * `given` folds the events through the aggregate's evolve; `when` runs the
 * decision on the folded state; `then*` check the Result.
 */
export interface Aggregate<S, E> {
  initial: () => S;
  evolve: (state: S, event: E) => S;
}

export interface ExpectedFailure {
  code: DomainError['code'];
  /** Checked when present; pass `field: undefined` to require that no field is named. */
  field?: string | undefined;
  message?: RegExp | string;
}

/** Folds events into a state, as loading an aggregate from its stream does. */
export function fold<S, E>(aggregate: Aggregate<S, E>, events: readonly E[], from: S = aggregate.initial()): S {
  return events.reduce(aggregate.evolve, from);
}

export interface Outcome<S, T> {
  /** The decision succeeded with exactly `expected`; returns it and the state after folding it (when it is a list of events). */
  then(expected: T): { value: T; state: S };
  /** The decision succeeded and its value contains `expected` (toMatchObject). */
  thenMatches(expected: unknown): { value: T; state: S };
  /** The decision succeeded; returns its value for closer checks. */
  thenSucceeds(): { value: T; state: S };
  /** The decision succeeded and recorded nothing. */
  thenNothing(): void;
  /** The decision was refused with this code (and field and message, when given). */
  thenFails(expected: ExpectedFailure): DomainError;
}

function outcome<S, E, T>(aggregate: Aggregate<S, E>, state: S, result: Result<T>): Outcome<S, T> {
  const succeeded = (): T => {
    if (!result.ok) expect.fail(`expected success, got ${result.error.code}: ${result.error.message}`);
    return result.value;
  };
  const after = (value: T): S => (Array.isArray(value) ? fold(aggregate, value as E[], state) : state);
  return {
    then(expected) {
      const value = succeeded();
      expect(value).toEqual(expected);
      return { value, state: after(value) };
    },
    thenMatches(expected) {
      const value = succeeded();
      expect(value).toMatchObject(expected as object);
      return { value, state: after(value) };
    },
    thenSucceeds() {
      const value = succeeded();
      return { value, state: after(value) };
    },
    thenNothing() {
      expect(succeeded()).toEqual([]);
    },
    thenFails(expected) {
      if (result.ok) expect.fail(`expected a ${expected.code} failure, got success: ${JSON.stringify(result.value)}`);
      const { error } = result;
      expect(error.code).toBe(expected.code);
      if ('field' in expected) expect(error.field).toBe(expected.field);
      if (expected.message !== undefined) expect(error.message).toMatch(expected.message);
      return error;
    },
  };
}

export function specFor<S, E>(aggregate: Aggregate<S, E>) {
  return {
    given(events: readonly E[] = []) {
      const state = fold(aggregate, events);
      return {
        state,
        when: <T>(decide: (state: S) => Result<T>): Outcome<S, T> => outcome(aggregate, state, decide(state)),
      };
    },
  };
}

/** For functions that are not deciders (validators, parsers): the same checks on a bare Result. */
export const expectResult = <T>(result: Result<T>): Outcome<undefined, T> =>
  outcome<undefined, never, T>({ initial: () => undefined, evolve: (s) => s }, undefined, result);
