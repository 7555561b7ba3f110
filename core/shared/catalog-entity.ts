import type { DomainEvent } from './event.ts';
import { conflict, notFound, ok, type Result } from './result.ts';
import { diffChanges } from './validate.ts';

/**
 * Images, storage nodes and groups share one life: created with validated
 * fields, changed field by field, deleted. This builds the decide and evolve
 * functions for such an entity from its field validators, so each entity
 * module states only what is particular to it.
 */
export interface CatalogEntitySpec<Prefix extends string, F extends object> {
  prefix: Prefix;
  /** Human word for messages, e.g. "storage node". */
  what: string;
  validators: { [K in keyof F]: (value: unknown) => Result<F[K]> };
  defaults: Partial<F>;
  /** Fields recorded in `previous` on every update, changed or not, for rules that need them. */
  alwaysInPrevious?: (keyof F)[];
  /** Cross-field rules checked after validation. */
  check?: (fields: F) => Result<F>;
}

export type Created<P extends string, F extends object> = DomainEvent<`${P}Created`, { id: string } & F>;
export type Updated<P extends string, F extends object> = DomainEvent<
  `${P}Updated`,
  { id: string; changes: Partial<F>; previous: Partial<F> }
>;
export type Deleted<P extends string, F extends object> = DomainEvent<`${P}Deleted`, { id: string } & F>;
export type CatalogEvent<P extends string, F extends object> = Created<P, F> | Updated<P, F> | Deleted<P, F>;

export type CatalogState<F extends object> =
  | { status: 'absent' }
  | ({ status: 'active' | 'deleted'; id: string } & F);

export function defineCatalogEntity<P extends string, F extends object>(spec: CatalogEntitySpec<P, F>) {
  type E = CatalogEvent<P, F>;
  const { prefix, what } = spec;

  function validateAll(raw: Partial<Record<keyof F, unknown>>): Result<F> {
    const fields = {} as F;
    for (const key of Object.keys(spec.validators) as (keyof F)[]) {
      const value = raw[key] !== undefined ? raw[key] : spec.defaults[key];
      const result = spec.validators[key](value);
      if (!result.ok) return result;
      fields[key] = result.value;
    }
    return spec.check ? spec.check(fields) : ok(fields);
  }

  return {
    initialState: (): CatalogState<F> => ({ status: 'absent' }),

    evolve(state: CatalogState<F>, event: E): CatalogState<F> {
      const type: string = event.type;
      if (type === `${prefix}Created`) {
        const { id, ...fields } = event.data as { id: string } & F;
        return { status: 'active', id, ...(fields as unknown as F) };
      }
      if (state.status === 'absent') return state;
      if (type === `${prefix}Updated`) return { ...state, ...(event.data as { changes: Partial<F> }).changes };
      if (type === `${prefix}Deleted`) return { ...state, status: 'deleted' };
      return state;
    },

    create(command: { id: string } & Partial<Record<keyof F, unknown>>, state: CatalogState<F>): Result<E[]> {
      if (state.status !== 'absent') return conflict(`${what} ${command.id} already exists`);
      const fields = validateAll(command);
      if (!fields.ok) return fields;
      return ok([{ type: `${prefix}Created`, data: { id: command.id, ...fields.value } } as E]);
    },

    update(command: { id: string; changes: Partial<Record<keyof F, unknown>> }, state: CatalogState<F>): Result<E[]> {
      if (state.status !== 'active') return notFound(`${what} ${command.id} does not exist`);
      const diff = diffChanges<F>(state as unknown as F, command.changes, spec.validators, what);
      if (!diff.ok) return diff;
      if (Object.keys(diff.value.changes).length === 0) return ok([]);
      for (const key of spec.alwaysInPrevious ?? []) diff.value.previous[key] = (state as unknown as F)[key];
      if (spec.check) {
        const merged = spec.check({ ...(state as unknown as F), ...diff.value.changes });
        if (!merged.ok) return merged;
      }
      return ok([{ type: `${prefix}Updated`, data: { id: command.id, ...diff.value } } as E]);
    },

    remove(command: { id: string }, state: CatalogState<F>): Result<E[]> {
      if (state.status !== 'active') return notFound(`${what} ${command.id} does not exist`);
      // Only the entity's own fields: state may carry more (a group's members), which the event does not declare.
      const fields: Record<string, unknown> = {};
      for (const key of Object.keys(spec.validators)) fields[key] = (state as Record<string, unknown>)[key];
      return ok([{ type: `${prefix}Deleted`, data: { id: command.id, ...fields } } as E]);
    },
  };
}
