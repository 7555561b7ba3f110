import type { Role } from './user.ts';

/**
 * What each role may do. Admins may do everything; operators run tasks and
 * look after hosts; auditors read everything, including the full history,
 * and change nothing.
 */
export type Permission =
  | 'read'
  | 'hosts:write'
  | 'tasks:write'
  | 'catalog:write'
  | 'users:manage'
  | 'projections:rebuild';

const GRANTS: Record<Role, readonly Permission[]> = {
  admin: ['read', 'hosts:write', 'tasks:write', 'catalog:write', 'users:manage', 'projections:rebuild'],
  operator: ['read', 'hosts:write', 'tasks:write'],
  auditor: ['read'],
};

export const can = (role: Role, permission: Permission): boolean => GRANTS[role].includes(permission);
