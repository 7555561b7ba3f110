import { describe, expect, it } from 'vitest';
import { changeGroupMembers, group, type ChangeGroupMembers, type GroupEvent } from '../../../core/groups/group.ts';
import { groupCreated, groups, membersAdded, membersRemoved } from '../support/fixtures.ts';

const change = (command: Omit<ChangeGroupMembers, 'groupId'>, given: GroupEvent[] = [groupCreated()]) =>
  groups.given(given).when((s) => changeGroupMembers({ groupId: 'group-1', ...command }, s));

const groupDeleted: GroupEvent = { type: 'GroupDeleted', data: { id: 'group-1', name: 'room-2', description: '', imageId: null } };

describe('group fields', () => {
  it('records an image for group deploys and clears it with an empty string', () => {
    groups.given([]).when((s) => group.create({ id: 'group-1', name: 'room-2', imageId: 'image-1' }, s))
      .then([groupCreated({ imageId: 'image-1' })]);
    groups.given([groupCreated({ imageId: 'image-1' })]).when((s) => group.update({ id: 'group-1', changes: { imageId: '' } }, s))
      .then([{ type: 'GroupUpdated', data: { id: 'group-1', changes: { imageId: null }, previous: { imageId: 'image-1' } } }]);
  });

  it('refuses an image id that is not an id string', () => {
    groups.given([]).when((s) => group.create({ id: 'group-1', name: 'room-2', imageId: 9 }, s))
      .thenFails({ code: 'validation', field: 'imageId', message: 'imageId must be an id string' });
  });

  // Regression: found by these specs and fixed in core.
  it('records GroupDeleted with exactly its declared fields', () => {
    groups.given([groupCreated(), membersAdded(['host-1'])]).when((s) => group.remove({ id: 'group-1' }, s)).then([groupDeleted]);
  });
});

describe('group membership', () => {
  it('starts with no members', () => {
    expect(groups.given([groupCreated()]).state).toMatchObject({ status: 'active', members: [] });
  });

  it('adds hosts in the order given and folds them into the members', () => {
    const { state } = change({ add: ['host-2', 'host-1'] }).then([membersAdded(['host-2', 'host-1'])]);
    expect(state).toMatchObject({ members: ['host-2', 'host-1'] });
  });

  it('keeps members in the order they joined', () => {
    const { state } = change({ add: ['host-0'] }, [groupCreated(), membersAdded(['host-3'])]).then([membersAdded(['host-0'])]);
    expect(state).toMatchObject({ members: ['host-3', 'host-0'] });
  });

  it('removes members', () => {
    const { state } = change({ remove: ['host-1'] }, [groupCreated(), membersAdded(['host-1', 'host-2'])]).then([membersRemoved(['host-1'])]);
    expect(state).toMatchObject({ members: ['host-2'] });
  });

  it('adds and removes in one change, adds first', () => {
    change({ add: ['host-3'], remove: ['host-1'] }, [groupCreated(), membersAdded(['host-1'])])
      .then([membersAdded(['host-3']), membersRemoved(['host-1'])]);
  });

  it('skips hosts already in, hosts already out and repeats, so a request can be sent twice', () => {
    const given = [groupCreated(), membersAdded(['host-1'])];
    change({ add: ['host-1', 'host-2', 'host-2'], remove: ['host-9'] }, given).then([membersAdded(['host-2'])]);
    change({ add: ['host-1'], remove: ['host-9'] }, given).thenNothing();
  });

  it('records nothing for an empty change', () => {
    change({}).thenNothing();
    change({ add: [], remove: [] }).thenNothing();
  });

  it.each([
    ['add', { add: 'host-1' }],
    ['add', { add: ['host-1', 2] }],
    ['remove', { remove: { 0: 'host-1' } }],
  ])('refuses an %s that is not a list of host ids', (field, command) => {
    change(command as Omit<ChangeGroupMembers, 'groupId'>)
      .thenFails({ code: 'validation', field, message: `${field} must be a list of host ids` });
  });

  it.each([
    ['never created', []],
    ['deleted', [groupCreated(), groupDeleted]],
  ])('refuses a group that was %s', (_case, given) => {
    change({ add: ['host-1'] }, given).thenFails({ code: 'not-found', message: 'group group-1 does not exist' });
  });

  it('keeps the members through a rename', () => {
    const renamed: GroupEvent = { type: 'GroupUpdated', data: { id: 'group-1', changes: { name: 'room-3' }, previous: { name: 'room-2' } } };
    expect(groups.given([groupCreated(), membersAdded(['host-1']), renamed]).state).toMatchObject({ name: 'room-3', members: ['host-1'] });
  });

  it('ignores membership events for a group that was never created', () => {
    expect(groups.given([membersAdded(['host-1'])]).state).toEqual({ status: 'absent' });
  });
});
