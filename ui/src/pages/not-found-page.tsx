import { href } from '../router.ts';

export function NotFoundPage() {
  return (
    <section>
      <h1>Not found</h1>
      <p>There is no such page. <a href={href('dashboard')}>Back to the dashboard</a>.</p>
    </section>
  );
}
