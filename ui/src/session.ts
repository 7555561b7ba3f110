import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { SessionUser } from './components/registry-types.ts';

/** The signed-in user as GET /api/auth/me answers; `can` hides what the role may not do (the API refuses it anyway). */
export type { SessionUser };
export type Permission = SessionUser['permissions'][number];

export interface Session {
  user: SessionUser;
  can(permission: Permission): boolean;
  signOut(): Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}
