import type { FastifyReply, FastifyRequest } from 'fastify';
import { can, type Permission } from '../../core/users/permissions.ts';
import { ROLES, type Role } from '../../core/users/user.ts';
import type { SqlCredentials } from '../auth/sql-credentials.ts';
import { HttpError } from './errors.ts';

/**
 * Who may call a route: anyone (`public`), anyone signed in
 * (`authenticated`), or a signed-in user whose role grants the permission.
 * Every API route declares one; a route without one answers 500, so a
 * forgotten rule can never mean "open".
 */
export type Access = 'public' | 'authenticated' | Permission;

export interface AuthUser {
  id: string;
  username: string;
  role: Role;
  via: 'session' | 'token';
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    user: AuthUser | null;
  }
}

export const SESSION_COOKIE = 'brume_session';

export const ALL_PERMISSIONS: readonly Permission[] = [
  'read', 'hosts:write', 'tasks:write', 'catalog:write', 'users:manage', 'projections:rebuild',
];

const WHAT_PERMISSION_ALLOWS: Record<Permission, string> = {
  read: 'read brume\'s data',
  'hosts:write': 'change hosts',
  'tasks:write': 'create or cancel tasks',
  'catalog:write': 'change groups, images or storage nodes',
  'users:manage': 'manage users',
  'projections:rebuild': 'rebuild the read models',
};

const isRole = (value: string): value is Role => (ROLES as readonly string[]).includes(value);

/** Reads the bearer token or the session cookie; a present but unusable credential is a 401, never a fallback. */
async function identify(credentials: SqlCredentials, request: FastifyRequest): Promise<AuthUser> {
  const header = request.headers.authorization;
  let found: { userId: string; username: string; role: string } | null;
  let via: AuthUser['via'];
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new HttpError(401, 'unauthorized', 'the Authorization header must be "Bearer <token>"');
    found = await credentials.identify('token', match[1]!);
    via = 'token';
    if (!found) throw new HttpError(401, 'unauthorized', 'this API token is not valid (unknown, expired or revoked); issue a new one with POST /api/tokens');
  } else {
    const session = request.cookies[SESSION_COOKIE];
    if (!session) {
      throw new HttpError(401, 'unauthorized', 'sign in first (POST /api/auth/login) or send an API token as "Authorization: Bearer <token>"');
    }
    found = await credentials.identify('session', session);
    via = 'session';
    if (!found) throw new HttpError(401, 'unauthorized', 'your session has ended or expired; sign in again');
  }
  if (!isRole(found.role)) throw new HttpError(403, 'forbidden', `your account has an unknown role "${found.role}"; ask an admin to fix it`);
  return { id: found.userId, username: found.username, role: found.role, via };
}

/**
 * A check that the credential this request came with is still good: for
 * answers that outlive the request (the live stream), which must end when
 * the session is signed out or expires, the token is revoked, the account is
 * disabled, or its role loses `access`.
 */
export function credentialStillValid(credentials: SqlCredentials, request: FastifyRequest, access: Permission): () => Promise<boolean> {
  return async () => {
    try {
      const user = await identify(credentials, request);
      return can(user.role, access);
    } catch (error) {
      if (error instanceof HttpError) return false;
      throw error;
    }
  };
}

/** The onRequest hook of every API route: authenticates, then checks the route's permission, before the body is even read. */
export function authenticate(credentials: SqlCredentials) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const access = request.routeOptions.config.access;
    if (access === undefined) throw new Error(`route ${request.method} ${request.routeOptions.url} declares no access rule`);
    if (access === 'public') return;
    const user = await identify(credentials, request);
    request.user = user;
    if (access !== 'authenticated' && !can(user.role, access)) {
      throw new HttpError(403, 'forbidden', `your role (${user.role}) may not ${WHAT_PERMISSION_ALLOWS[access]}; ask an admin if you need to`);
    }
  };
}

/** The signed-in user of a route that requires one (the hook has run). */
export function userOf(request: FastifyRequest): AuthUser {
  if (!request.user) throw new HttpError(401, 'unauthorized', 'sign in first');
  return request.user;
}

export const permissionsOf = (role: Role): Permission[] => ALL_PERMISSIONS.filter((p) => can(role, p));
