import { describe, expect, it } from 'vitest';
import { can, type Permission } from '../../../core/users/permissions.ts';
import { ROLES } from '../../../core/users/user.ts';

const PERMISSIONS: Permission[] = ['read', 'hosts:write', 'tasks:write', 'catalog:write', 'users:manage', 'projections:rebuild'];
const granted = (role: (typeof ROLES)[number]) => PERMISSIONS.filter((p) => can(role, p));

describe('permissions', () => {
  it('lets an admin do everything', () => {
    expect(granted('admin')).toEqual(PERMISSIONS);
  });

  it('lets an operator read, look after hosts and run tasks, and nothing more', () => {
    expect(granted('operator')).toEqual(['read', 'hosts:write', 'tasks:write']);
  });

  it('lets an auditor read everything and change nothing', () => {
    expect(granted('auditor')).toEqual(['read']);
  });

  it.each(ROLES)('lets a %s read', (role) => {
    expect(can(role, 'read')).toBe(true);
  });

  it.each(['catalog:write', 'users:manage', 'projections:rebuild'] as const)('keeps %s for admins only', (permission) => {
    expect(ROLES.filter((role) => can(role, permission))).toEqual(['admin']);
  });

  it('grants nothing for a permission it does not know', () => {
    expect(ROLES.filter((role) => can(role, 'hosts:delete' as Permission))).toEqual([]);
  });
});
