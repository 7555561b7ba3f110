import { dataOf, type SqlProjection } from './projection.ts';

export const usersProjection: SqlProjection = {
  name: 'users',
  tables: [{ table: 'rm_users', key: ['user_id'] }],
  async apply(rows, event) {
    const d = dataOf(event);
    if (event.type === 'UserCreated') {
      rows.put('rm_users', { user_id: d.userId, username: d.username, role: d.role, disabled: false, created_at: event.occurredAt });
      return;
    }
    if (event.type !== 'UserRoleChanged' && event.type !== 'UserDisabled' && event.type !== 'UserEnabled') return;
    const user = await rows.get('rm_users', d.userId);
    if (!user) return;
    rows.put('rm_users', event.type === 'UserRoleChanged' ? { ...user, role: d.role } : { ...user, disabled: event.type === 'UserDisabled' });
  },
};
