import { useSession } from '../session.ts';

/** What a role may not do, said where the form would be (the API refuses it anyway). */
export function NotAllowed({ what }: { what: string }) {
  const session = useSession();
  return <p class="notice" role="status">Your role ({session.user.role}) may not {what}.</p>;
}
