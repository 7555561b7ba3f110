import { describe, expect, it } from 'vitest';
import {
  ROLES, changeUserRole, createUser, disableUser, enableUser, validatePassword, validateUsername, type UserEvent,
} from '../../../core/users/user.ts';
import { expectResult } from '../support/given-when-then.ts';
import { userCreated, users } from '../support/fixtures.ts';

const disabled: UserEvent = { type: 'UserDisabled', data: { userId: 'user-1', username: 'alice' } };
const create = (username: unknown, role: unknown, given: UserEvent[] = []) =>
  users.given(given).when((s) => createUser({ userId: 'user-1', username, role }, s));
const changeRole = (role: unknown, given: UserEvent[] = [userCreated('operator')]) =>
  users.given(given).when((s) => changeUserRole({ userId: 'user-1', role }, s));

describe('usernames', () => {
  it.each(['alice', 'a', '0day', 'jean.dupont', 'ops_team-2', `a${'b'.repeat(63)}`])('accepts %j', (name) => {
    expectResult(validateUsername(name)).then(name);
  });

  it.each([
    ['upper case', 'Alice'],
    ['a leading dot', '.alice'],
    ['a leading dash', '-alice'],
    ['a space', 'al ice'],
    ['an @', 'alice@example.org'],
    ['65 characters', `a${'b'.repeat(64)}`],
    ['empty', ''],
    ['not text', 7],
  ])('refuses %s', (_case, name) => {
    expectResult(validateUsername(name)).thenFails({
      code: 'validation', field: 'username', message: 'username must be 1-64 lowercase letters, digits, dots, dashes or underscores',
    });
  });
});

describe('passwords', () => {
  it('accepts 10 to 1024 characters, kept exactly as typed', () => {
    expectResult(validatePassword(' 123456789')).then(' 123456789');
    expectResult(validatePassword('p'.repeat(1024))).then('p'.repeat(1024));
  });

  it.each([['9 characters', '123456789'], ['empty', ''], ['not text', 1234567890]])('refuses %s as too short', (_case, password) => {
    expectResult(validatePassword(password)).thenFails({ code: 'validation', field: 'password', message: 'password must be at least 10 characters' });
  });

  it('refuses over 1024 characters', () => {
    expectResult(validatePassword('p'.repeat(1025))).thenFails({ code: 'validation', field: 'password', message: 'password is longer than 1024 characters' });
  });
});

describe('createUser', () => {
  it.each(ROLES)('creates an active %s with no tokens', (role) => {
    const { state } = create('alice', role).then([userCreated(role)]);
    expect(state).toEqual({ status: 'active', userId: 'user-1', username: 'alice', role, tokens: [] });
  });

  it('knows three roles', () => {
    expect(ROLES).toEqual(['admin', 'operator', 'auditor']);
  });

  it('refuses a bad username before the role', () => {
    create('Alice', 'king').thenFails({ code: 'validation', field: 'username' });
  });

  it.each(['king', 'Admin', undefined, null])('refuses the role %j', (role) => {
    create('alice', role).thenFails({ code: 'validation', field: 'role', message: 'role must be one of admin, operator, auditor' });
  });

  it('refuses an id that exists, even disabled', () => {
    create('bob', 'operator', [userCreated()]).thenFails({ code: 'conflict', message: 'user user-1 already exists' });
    create('bob', 'operator', [userCreated(), disabled]).thenFails({ code: 'conflict', message: 'user user-1 already exists' });
  });
});

describe('changeUserRole', () => {
  it('records the new role with the previous one', () => {
    const { state } = changeRole('admin').then([{ type: 'UserRoleChanged', data: { userId: 'user-1', role: 'admin', previous: 'operator' } }]);
    expect(state).toMatchObject({ status: 'active', role: 'admin' });
  });

  it('demotes as well as promotes', () => {
    changeRole('auditor', [userCreated('admin')])
      .then([{ type: 'UserRoleChanged', data: { userId: 'user-1', role: 'auditor', previous: 'admin' } }]);
  });

  it('records nothing when the role is the same', () => {
    changeRole('operator').thenNothing();
  });

  it('refuses an unknown role', () => {
    changeRole('root').thenFails({ code: 'validation', field: 'role', message: 'role must be one of admin, operator, auditor' });
  });

  it.each([
    ['does not exist', []],
    ['is disabled', [userCreated(), disabled]],
  ])('refuses a user who %s', (_case, given) => {
    changeRole('admin', given).thenFails({ code: 'not-found', message: 'user user-1 does not exist' });
  });
});

describe('disableUser', () => {
  it('records the username it disables and leaves the user disabled', () => {
    const { state } = users.given([userCreated()]).when((s) => disableUser({ userId: 'user-1' }, s)).then([disabled]);
    expect(state).toMatchObject({ status: 'disabled', username: 'alice', role: 'operator' });
  });

  it.each([
    ['does not exist', []],
    ['is already disabled', [userCreated(), disabled]],
  ])('refuses a user who %s', (_case, given) => {
    users.given(given).when((s) => disableUser({ userId: 'user-1' }, s))
      .thenFails({ code: 'not-found', message: 'user user-1 does not exist or is already disabled' });
  });
});

describe('enableUser', () => {
  it('gives a disabled user back an active account with the same role', () => {
    const enabled: UserEvent = { type: 'UserEnabled', data: { userId: 'user-1', username: 'alice' } };
    const { state } = users.given([userCreated(), disabled]).when((s) => enableUser({ userId: 'user-1' }, s)).then([enabled]);
    expect(state).toMatchObject({ status: 'active', username: 'alice', role: 'operator' });
  });

  it('records nothing for an active user, and refuses one that does not exist', () => {
    users.given([userCreated()]).when((s) => enableUser({ userId: 'user-1' }, s)).then([]);
    users.given([]).when((s) => enableUser({ userId: 'user-1' }, s)).thenFails({ code: 'not-found', message: 'user user-1 does not exist' });
  });
});

describe('user state', () => {
  it('tracks issued and revoked tokens and ignores logins and password changes', () => {
    const state = users.given([
      userCreated(),
      { type: 'ApiTokenIssued', data: { userId: 'user-1', tokenId: 'tok-1', name: 'ci', expiresAt: null } },
      { type: 'ApiTokenIssued', data: { userId: 'user-1', tokenId: 'tok-2', name: 'backup', expiresAt: '2027-01-01T00:00:00.000Z' } },
      { type: 'UserLoggedIn', data: { userId: 'user-1' } },
      { type: 'UserPasswordChanged', data: { userId: 'user-1' } },
      { type: 'ApiTokenRevoked', data: { userId: 'user-1', tokenId: 'tok-1' } },
    ]).state;
    expect(state).toEqual({ status: 'active', userId: 'user-1', username: 'alice', role: 'operator', tokens: ['tok-2'] });
  });

  it('ignores events for a user that was never created', () => {
    expect(users.given([disabled]).state).toEqual({ status: 'absent' });
  });
});
