import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from './api.ts';
import { Layout } from './components/layout.tsx';
import { SIGNED_OUT_EVENT } from './live.ts';
import { LoginPage } from './pages/login-page.tsx';
import { PAGES, NotFoundPage } from './pages/index.ts';
import { useRoute } from './router.ts';
import { SessionContext, type Session, type SessionUser } from './session.ts';

/** Signs in (or finds the session cookie still good), then shows the page the hash names. */
export function App() {
  const [user, setUser] = useState<SessionUser | null | undefined>(undefined);
  const route = useRoute();

  useEffect(() => {
    api('GET', '/api/auth/me').then(setUser, (error: unknown) => {
      if (error instanceof ApiError && error.status === 401) setUser(null);
      else setUser(null);
    });
    // The live feed learns first when the session ends (signed out in another tab, expired, disabled): back to sign-in.
    const signedOut = () => setUser(null);
    window.addEventListener(SIGNED_OUT_EVENT, signedOut);
    return () => window.removeEventListener(SIGNED_OUT_EVENT, signedOut);
  }, []);

  if (user === undefined) return <div class="boot-splash" aria-busy="true">brume</div>;
  if (user === null) return <LoginPage onSignedIn={setUser} />;

  const session: Session = {
    user,
    can: (permission) => user.permissions.includes(permission),
    async signOut() {
      await api('POST', '/api/auth/logout').catch(() => undefined);
      setUser(null);
    },
  };
  const section = route.path[0] ?? 'dashboard';
  const Page = PAGES[section]?.component ?? NotFoundPage;
  return (
    <SessionContext.Provider value={session}>
      <Layout section={section}>
        <Page route={route} />
      </Layout>
    </SessionContext.Provider>
  );
}
