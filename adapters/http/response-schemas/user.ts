import { ALL_PERMISSIONS } from '../auth.ts';
import { ROLES } from '../../../core/users/user.ts';
import { arrayOf, boolean, choice, dateTime, orNull, page, ref, shape, shared, string } from './schema-kit.ts';

export const Role = shared('Role', choice(ROLES));

export const User = shared('User', shape({ id: string, username: string, role: ref(Role), disabled: boolean, createdAt: dateTime }));

export const UserPage = page('UserPage', User, false);

export const Login = shared('Login', shape({
  user: shape({ id: string, username: string, role: ref(Role) }),
  expiresAt: { ...dateTime, description: 'when the session cookie stops working' },
}));

/** GET /api/auth/me: who is signed in, how, and what the role permits. */
export const SessionUser = shared('SessionUser', shape({
  id: string,
  username: string,
  role: ref(Role),
  via: choice(['session', 'token']),
  permissions: arrayOf(choice(ALL_PERMISSIONS)),
}));

export const ApiToken = shared('ApiToken', shape({
  id: string,
  name: string,
  createdAt: dateTime,
  expiresAt: orNull(dateTime),
  revokedAt: orNull(dateTime),
}), 'An API token without its secret');

export const ApiTokenList = shared('ApiTokenList', shape({ items: arrayOf(ref(ApiToken)) }));

export const IssuedToken = shared('IssuedToken', shape({
  id: string,
  name: string,
  userId: string,
  expiresAt: orNull(dateTime),
  token: { ...string, description: 'the secret, shown only in this answer' },
}));

export const userSchemas = [Role, User, UserPage, Login, SessionUser, ApiToken, ApiTokenList, IssuedToken];
