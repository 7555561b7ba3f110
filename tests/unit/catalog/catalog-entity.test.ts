import { describe, expect, it } from 'vitest';
import { group } from '../../../core/groups/group.ts';
import { image } from '../../../core/images/image.ts';
import { defineCatalogEntity } from '../../../core/shared/catalog-entity.ts';
import { invalid, ok } from '../../../core/shared/result.ts';
import { validateInteger, validateName } from '../../../core/shared/validate.ts';
import { storageNode } from '../../../core/storage-nodes/storage-node.ts';
import { specFor, type Aggregate } from '../support/given-when-then.ts';
import { GROUP, IMAGE, STORAGE_NODE } from '../support/fixtures.ts';

/**
 * Images, storage nodes and groups share one create/update/delete life
 * (core/shared/catalog-entity.ts); each case below runs it for one of them.
 */
interface Case {
  what: string;
  prefix: string;
  entity: { create: Function; update: Function; remove: Function };
  aggregate: Aggregate<any, any>;
  /** The least a create command needs. */
  minimal: Record<string, unknown>;
  /** What create records from `minimal`, defaults filled in. */
  created: Record<string, unknown>;
  /** A valid change of a non-name field. */
  change: [field: string, value: unknown];
}

const CASES: Case[] = [
  {
    what: 'image', prefix: 'Image', entity: image, aggregate: IMAGE,
    minimal: { name: 'win11' },
    created: { name: 'win11', description: '', type: 'n', os: '', compression: 6 },
    change: ['compression', 19],
  },
  {
    what: 'storage node', prefix: 'StorageNode', entity: storageNode, aggregate: STORAGE_NODE,
    minimal: { name: 'store-1', address: '192.0.2.20' },
    created: { name: 'store-1', address: '192.0.2.20', maxClients: 10, master: false, site: null, enabled: true },
    change: ['maxClients', 20],
  },
  {
    what: 'group', prefix: 'Group', entity: group, aggregate: GROUP,
    minimal: { name: 'room-2' },
    created: { name: 'room-2', description: '', imageId: null },
    change: ['description', 'Room 2 desks'],
  },
];

describe.each(CASES)('$what as a catalog entity', ({ what, prefix, entity, aggregate, minimal, created, change }) => {
  const spec = specFor(aggregate);
  const createdEvent = { type: `${prefix}Created`, data: { id: 'x-1', ...created } };
  const deletedEvent = { type: `${prefix}Deleted`, data: { id: 'x-1', ...created } };
  const create = (given: unknown[], fields: object = minimal) => spec.given(given).when((s) => entity.create({ id: 'x-1', ...fields }, s));
  const update = (given: unknown[], changes: object) => spec.given(given).when((s) => entity.update({ id: 'x-1', changes }, s));
  const remove = (given: unknown[]) => spec.given(given).when((s) => entity.remove({ id: 'x-1' }, s));
  const [field, value] = change;

  it('is created with its defaults filled in and becomes active', () => {
    const { state } = create([]).then([createdEvent]);
    expect(state).toMatchObject({ status: 'active', id: 'x-1', ...created });
  });

  it('trims the name it is created with', () => {
    create([], { ...minimal, name: `  ${String(minimal.name)}  ` }).then([createdEvent]);
  });

  it.each([
    ['missing', undefined, `a ${what} needs a name`],
    ['blank', '  ', `a ${what} needs a name`],
    ['over 100 characters', 'n'.repeat(101), `${what} name is longer than 100 characters`],
    ['holding a control character', 'a\tb', `${what} name may not contain control characters`],
  ])('refuses a name %s', (_case, name, message) => {
    create([], { ...minimal, name }).thenFails({ code: 'validation', field: 'name', message });
  });

  it('accepts a 100-character name with spaces and punctuation', () => {
    const name = `Win 11 (23H2) ${'x'.repeat(86)}`;
    create([], { ...minimal, name }).thenMatches([{ data: { name } }]);
  });

  it('refuses to create the same id twice', () => {
    create([createdEvent]).thenFails({ code: 'conflict', message: `${what} x-1 already exists` });
  });

  it('refuses to create over a deleted one', () => {
    create([createdEvent, deletedEvent]).thenFails({ code: 'conflict', message: `${what} x-1 already exists` });
  });

  it('records a change with the previous value and folds it into the state', () => {
    const { value: events, state } = update([createdEvent], { [field]: value }).thenMatches([
      { type: `${prefix}Updated`, data: { id: 'x-1', changes: { [field]: value }, previous: { [field]: created[field] } } },
    ]);
    expect(events).toHaveLength(1);
    expect(state).toMatchObject({ status: 'active', [field]: value });
  });

  it('records a rename with the previous name', () => {
    update([createdEvent], { name: 'renamed' })
      .thenMatches([{ data: { changes: { name: 'renamed' }, previous: { name: minimal.name } } }]);
  });

  it('records nothing when no field changes', () => {
    update([createdEvent], { name: ` ${String(minimal.name)}`, [field]: created[field] }).thenNothing();
  });

  it('refuses a field it does not have', () => {
    update([createdEvent], { colour: 'blue' })
      .thenFails({ code: 'validation', field: 'colour', message: `"colour" is not a ${what} field that can be changed` });
  });

  it('refuses an invalid value for a field', () => {
    update([createdEvent], { name: '' }).thenFails({ code: 'validation', field: 'name' });
  });

  it.each([
    ['never created', []],
    ['deleted', [createdEvent, deletedEvent]],
  ])('refuses to update one that was %s', (_case, given) => {
    update(given, { [field]: value }).thenFails({ code: 'not-found', message: `${what} x-1 does not exist` });
  });

  it('is deleted with all its fields recorded (so its name can be released)', () => {
    // Matched rather than equal: a group's delete also carries its members (see groups.test.ts).
    const { state } = remove([createdEvent]).thenMatches([deletedEvent]);
    expect(state).toMatchObject({ status: 'deleted', id: 'x-1', ...created });
  });

  it('records the current fields when deleted after a change', () => {
    const changed = { type: `${prefix}Updated`, data: { id: 'x-1', changes: { name: 'renamed' }, previous: { name: minimal.name } } };
    remove([createdEvent, changed]).thenMatches([{ type: `${prefix}Deleted`, data: { id: 'x-1', name: 'renamed' } }]);
  });

  it.each([
    ['never created', []],
    ['already deleted', [createdEvent, deletedEvent]],
  ])('refuses to delete one that was %s', (_case, given) => {
    remove(given).thenFails({ code: 'not-found', message: `${what} x-1 does not exist` });
  });

  it('ignores updates and deletes for an id that was never created when folding', () => {
    const state = spec.given([{ type: `${prefix}Updated`, data: { id: 'x-1', changes: { name: 'a' }, previous: {} } }, deletedEvent]).state;
    expect(state).toEqual({ status: 'absent' });
  });
});

describe('defineCatalogEntity cross-field check', () => {
  // A made-up entity whose range must be ordered, to exercise `check` on create and on the merged update.
  const range = defineCatalogEntity<'Range', { name: string; low: number; high: number }>({
    prefix: 'Range', what: 'range',
    validators: {
      name: (v) => validateName(v, 'range'),
      low: (v) => validateInteger(v, 'low', 0, 100),
      high: (v) => validateInteger(v, 'high', 0, 100),
    },
    defaults: { low: 0, high: 100 },
    check: (f) => (f.low <= f.high ? ok(f) : invalid('low must not exceed high', 'low')),
  });
  const ranges = specFor({ initial: range.initialState, evolve: range.evolve });
  const createdRange = { type: 'RangeCreated' as const, data: { id: 'r', name: 'r', low: 10, high: 20 } };

  it('applies the check on create', () => {
    ranges.given([]).when((s) => range.create({ id: 'r', name: 'r', low: 30, high: 20 }, s))
      .thenFails({ code: 'validation', field: 'low', message: 'low must not exceed high' });
  });

  it('checks an update against the merged fields, not only the changed ones', () => {
    ranges.given([createdRange]).when((s) => range.update({ id: 'r', changes: { low: 25 } }, s))
      .thenFails({ code: 'validation', message: 'low must not exceed high' });
    ranges.given([createdRange]).when((s) => range.update({ id: 'r', changes: { low: 15 } }, s))
      .then([{ type: 'RangeUpdated', data: { id: 'r', changes: { low: 15 }, previous: { low: 10 } } }]);
  });
});
