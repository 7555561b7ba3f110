import { useEffect, useState } from 'preact/hooks';
import { apiGet } from '../api.ts';
import type { User } from './registry-types.ts';

/** A user as GET /api/users lists it. */
export type UserRow = User;

/** The history names actors by user id; this turns them back into names (every role may list users). */
export function useUserNames(): { users: UserRow[]; nameOf: (actor: string | null | undefined) => string } {
  const [users, setUsers] = useState<UserRow[]>([]);
  useEffect(() => {
    let live = true;
    apiGet('/api/users').then((answer) => { if (live) setUsers(answer.items); }, () => undefined);
    return () => { live = false; };
  }, []);
  const byId = new Map(users.map((u) => [u.id, u.username]));
  return { users, nameOf: (actor) => (actor ? byId.get(actor) ?? actor : '—') };
}

/** Who did it: a user's name (with the id on hover), or the built-in actors `system` and `boot-client`. */
export function Actor({ actor, nameOf }: { actor: string | null | undefined; nameOf: (actor: string | null | undefined) => string }) {
  if (!actor) return <span>—</span>;
  const name = nameOf(actor);
  return name === actor ? <span class={actor === 'system' || actor === 'boot-client' ? 'actor-builtin' : 'mono'}>{actor}</span> : <span title={actor}>{name}</span>;
}
