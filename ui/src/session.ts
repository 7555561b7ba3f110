import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

/** The signed-in user as GET /api/auth/me answers; `can` hides what the role may not do (the API refuses it anyway). */
export interface SessionUser {
  id: string;
  username: string;
  role: 'admin' | 'operator' | 'auditor';
  permissions: string[];
}

export interface Session {
  user: SessionUser;
  can(permission: string): boolean;
  signOut(): Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}
