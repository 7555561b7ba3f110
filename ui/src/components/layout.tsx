import type { ComponentChildren } from 'preact';
import { PAGES } from '../pages/index.ts';
import { href } from '../router.ts';
import { useSession } from '../session.ts';

/** The frame of every page: the navigation (only what the role may see), who is signed in, the page. */
export function Layout({ section, children }: { section: string; children: ComponentChildren }) {
  const session = useSession();
  const entries = Object.entries(PAGES).filter(([, page]) => page.nav && (!page.permission || session.can(page.permission)));
  return (
    <div class="layout">
      <header class="topbar">
        <a class="brand" href={href('dashboard')}>brume</a>
        <nav aria-label="sections">
          {entries.map(([key, page]) => (
            <a href={href(key)} aria-current={key === section ? 'page' : undefined}>{page.title}</a>
          ))}
        </nav>
        <div class="who">
          <span title={`role: ${session.user.role}`}>{session.user.username} <small>({session.user.role})</small></span>
          <button type="button" class="link" onClick={() => void session.signOut()}>Sign out</button>
        </div>
      </header>
      <main id="main">{children}</main>
    </div>
  );
}
