import type { DomainEvent } from '../shared/event.ts';
import { conflict, invalid, notFound, ok, type Result } from '../shared/result.ts';
import { validateChoice } from '../shared/validate.ts';

export const ROLES = ['admin', 'operator', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export const USER_STREAM = 'user';

/**
 * Secrets never enter the log: a password change and a token issue are
 * recorded as facts; the hashes live in the credentials table.
 */
export type UserCreated = DomainEvent<'UserCreated', { userId: string; username: string; role: Role }>;
export type UserRoleChanged = DomainEvent<'UserRoleChanged', { userId: string; role: Role; previous: Role }>;
export type UserPasswordChanged = DomainEvent<'UserPasswordChanged', { userId: string }>;
export type UserDisabled = DomainEvent<'UserDisabled', { userId: string; username: string }>;
export type UserEnabled = DomainEvent<'UserEnabled', { userId: string; username: string }>;
export type ApiTokenIssued = DomainEvent<'ApiTokenIssued', { userId: string; tokenId: string; name: string; expiresAt: string | null }>;
export type ApiTokenRevoked = DomainEvent<'ApiTokenRevoked', { userId: string; tokenId: string }>;
export type UserLoggedIn = DomainEvent<'UserLoggedIn', { userId: string }>;

export type UserEvent =
  | UserCreated | UserRoleChanged | UserPasswordChanged | UserDisabled | UserEnabled
  | ApiTokenIssued | ApiTokenRevoked | UserLoggedIn;

export type UserState =
  | { status: 'absent' }
  | { status: 'active' | 'disabled'; userId: string; username: string; role: Role; tokens: string[] };

export const initialUserState = (): UserState => ({ status: 'absent' });

export function evolveUser(state: UserState, event: UserEvent): UserState {
  if (event.type === 'UserCreated') return { status: 'active', ...event.data, tokens: [] };
  if (state.status === 'absent') return state;
  switch (event.type) {
    case 'UserRoleChanged': return { ...state, role: event.data.role };
    case 'UserDisabled': return { ...state, status: 'disabled' };
    case 'UserEnabled': return { ...state, status: 'active' };
    case 'ApiTokenIssued': return { ...state, tokens: [...state.tokens, event.data.tokenId] };
    case 'ApiTokenRevoked': return { ...state, tokens: state.tokens.filter((t) => t !== event.data.tokenId) };
    default: return state;
  }
}

const USERNAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function validateUsername(input: unknown): Result<string> {
  if (typeof input !== 'string' || !USERNAME.test(input)) {
    return invalid('username must be 1-64 lowercase letters, digits, dots, dashes or underscores', 'username');
  }
  return ok(input);
}

export function validatePassword(input: unknown): Result<string> {
  if (typeof input !== 'string' || input.length < 10) return invalid('password must be at least 10 characters', 'password');
  if (input.length > 1024) return invalid('password is longer than 1024 characters', 'password');
  return ok(input);
}

export function createUser(command: { userId: string; username: unknown; role: unknown }, state: UserState): Result<UserEvent[]> {
  if (state.status !== 'absent') return conflict(`user ${command.userId} already exists`);
  const username = validateUsername(command.username);
  if (!username.ok) return username;
  const role = validateChoice(command.role, 'role', ROLES);
  if (!role.ok) return role;
  return ok([{ type: 'UserCreated', data: { userId: command.userId, username: username.value, role: role.value } }]);
}

export function changeUserRole(command: { userId: string; role: unknown }, state: UserState): Result<UserEvent[]> {
  if (state.status !== 'active') return notFound(`user ${command.userId} does not exist`);
  const role = validateChoice(command.role, 'role', ROLES);
  if (!role.ok) return role;
  if (role.value === state.role) return ok([]);
  return ok([{ type: 'UserRoleChanged', data: { userId: command.userId, role: role.value, previous: state.role } }]);
}

export function disableUser(command: { userId: string }, state: UserState): Result<UserEvent[]> {
  if (state.status !== 'active') return notFound(`user ${command.userId} does not exist or is already disabled`);
  return ok([{ type: 'UserDisabled', data: { userId: command.userId, username: state.username } }]);
}

/** Gives a disabled account back its access (its old sessions and tokens stay ended). */
export function enableUser(command: { userId: string }, state: UserState): Result<UserEvent[]> {
  if (state.status === 'absent') return notFound(`user ${command.userId} does not exist`);
  if (state.status === 'active') return ok([]);
  return ok([{ type: 'UserEnabled', data: { userId: command.userId, username: state.username } }]);
}
