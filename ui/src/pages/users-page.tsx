import { useEffect, useRef, useState } from 'preact/hooks';
import { api, apiGet } from '../api.ts';
import { href } from '../router.ts';
import { useSession } from '../session.ts';
import { fieldMessage, FieldMessage, FormMessage, invalidProps, messageOf, newIdempotencyKey } from '../components/form-feedback.tsx';
import { When } from '../components/time-and-size.tsx';
import type { Role } from '../components/registry-types.ts';
import type { UserRow } from '../components/user-names.tsx';
import type { PageProps } from './index.ts';

const ROLES: { role: Role; may: string }[] = [
  { role: 'admin', may: 'everything, including users, images, groups and storage nodes' },
  { role: 'operator', may: 'register and edit hosts; create, cancel and replay tasks; read everything' },
  { role: 'auditor', may: 'read everything, including the full history; change nothing' },
];

/** Users and their roles: admins only (the navigation hides it from others and the API refuses them). */
export function UsersPage(_props: PageProps) {
  const session = useSession();
  if (!session.can('users:manage')) {
    return (
      <section>
        <h1>Users</h1>
        <p>Only admins manage users; your role is {session.user.role}. <a href={href('dashboard')}>Back to the dashboard</a>.</p>
      </section>
    );
  }
  return <UsersAdmin />;
}

function UsersAdmin() {
  const session = useSession();
  const [users, setUsers] = useState<UserRow[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [passwordFor, setPasswordFor] = useState<UserRow | null>(null);

  const load = () => apiGet('/api/users').then((answer) => { setUsers(answer.items); setError(null); }, setError);
  useEffect(() => { void load(); }, []);

  const replace = (user: UserRow) => setUsers((list) => (list ?? []).map((u) => (u.id === user.id ? user : u)));

  return (
    <section class="users-page">
      <h1>Users</h1>
      <CreateUser onCreated={(user) => setUsers((list) => [...(list ?? []), user].sort((a, b) => a.username.localeCompare(b.username)))} />
      <h2>Accounts</h2>
      <FormMessage error={error} />
      <p class="list-status" aria-live="polite">{users === null ? 'Loading users…' : `${users.length} account${users.length === 1 ? '' : 's'}`}</p>
      <div class="table-scroll">
        <table class="records users-table">
          <caption class="visually-hidden">Accounts, their roles and whether they may sign in</caption>
          <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Actions</th></tr></thead>
          <tbody>
            {(users ?? []).map((user) => (
              <UserRowView key={user.id} user={user} self={user.id === session.user.id} onChanged={replace} onPassword={() => setPasswordFor(user)} />
            ))}
          </tbody>
        </table>
      </div>
      <details class="roles-help">
        <summary>What each role may do</summary>
        <dl class="facts">{ROLES.map((r) => <div class="fact" key={r.role}><dt>{r.role}</dt><dd>{r.may}</dd></div>)}</dl>
      </details>
      <PasswordDialog user={passwordFor} onClose={() => setPasswordFor(null)} />
    </section>
  );
}

function CreateUser({ onCreated }: { onCreated: (user: UserRow) => void }) {
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('operator');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<string | null>(null);
  const attempt = useRef<{ key: string; body: string } | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    const body = { username: username.trim(), role, password };
    const text = JSON.stringify(body);
    if (!attempt.current || attempt.current.body !== text) attempt.current = { key: newIdempotencyKey(), body: text };
    setBusy(true);
    setError(null);
    setCreated(null);
    try {
      const user = await api('POST', '/api/users', { body, headers: { 'Idempotency-Key': attempt.current.key } });
      attempt.current = null;
      onCreated(user);
      setCreated(`${user.username} (${user.role}) can sign in now.`);
      setUsername('');
      setPassword('');
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  const messageFor = (field: string) => fieldMessage(error, field);
  return (
    <form class="user-create" onSubmit={submit} aria-labelledby="user-create-title">
      <h2 id="user-create-title">New user</h2>
      <div class="user-create-fields">
        <div class="form-field">
          <label for="user-name">User name</label>
          <input id="user-name" autocomplete="off" spellcheck={false} required maxLength={64} value={username}
            onInput={(e) => setUsername(e.currentTarget.value)} {...invalidProps('user-name', messageFor('username'))} />
          <FieldMessage id="user-name" message={messageFor('username')} />
        </div>
        <div class="form-field">
          <label for="user-role">Role</label>
          <select id="user-role" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)} {...invalidProps('user-role', messageFor('role'))}>
            {ROLES.map((r) => <option value={r.role} key={r.role}>{r.role}</option>)}
          </select>
          <FieldMessage id="user-role" message={messageFor('role')} />
        </div>
        <div class="form-field">
          <label for="user-password">Password</label>
          <input id="user-password" type="password" autocomplete="new-password" required minLength={10} placeholder="10 characters or more" value={password}
            onInput={(e) => setPassword(e.currentTarget.value)} {...invalidProps('user-password', messageFor('password'))} />
          <FieldMessage id="user-password" message={messageFor('password')} />
        </div>
        <div class="form-actions"><button type="submit" disabled={busy}>{busy ? 'Creating…' : 'Create user'}</button></div>
      </div>
      <p class="muted small">{ROLES.find((r) => r.role === role)?.may}</p>
      <FormMessage error={error} shownFields={['username', 'role', 'password']} />
      {created && <p class="ok" role="status">{created}</p>}
    </form>
  );
}

function UserRowView({ user, self, onChanged, onPassword }: { user: UserRow; self: boolean; onChanged: (user: UserRow) => void; onPassword: () => void }) {
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);

  async function patch(change: { role?: Role; disabled?: boolean }, done: string) {
    setBusy(true);
    setNote(null);
    try {
      const answer = await api('PATCH', '/api/users/{id}', { params: { id: user.id }, body: change, headers: { 'Idempotency-Key': newIdempotencyKey() } });
      onChanged(answer);
      setNote({ ok: true, text: done });
    } catch (caught) {
      setNote({ ok: false, text: messageOf(caught) });
    } finally {
      setBusy(false);
    }
  }

  const roleId = `user-role-${user.id}`;
  return (
    <tr class={user.disabled ? 'disabled' : undefined}>
      <td data-label="User"><strong>{user.username}</strong>{self && <span class="muted small"> (you)</span>}
        {note && <span class={`row-note ${note.ok ? 'ok' : 'error'}`} role={note.ok ? 'status' : 'alert'}>{note.text}</span>}</td>
      <td data-label="Role">
        {self ? <span title="You cannot change your own role here: ask another admin">{user.role}</span> : (
          <>
            <label for={roleId} class="visually-hidden">Role of {user.username}</label>
            <select id={roleId} value={user.role} disabled={busy || user.disabled}
              onChange={(e) => void patch({ role: e.currentTarget.value as Role }, `now ${e.currentTarget.value}`)}>
              {ROLES.map((r) => <option value={r.role} key={r.role}>{r.role}</option>)}
            </select>
          </>
        )}
      </td>
      <td data-label="Status">{user.disabled ? <span class="user-disabled">disabled</span> : 'active'}</td>
      <td data-label="Created"><When at={user.createdAt} compact /></td>
      <td data-label="Actions"><div class="row-actions">
        {!self && (user.disabled
          ? <button type="button" class="secondary small" disabled={busy} onClick={() => void patch({ disabled: false }, 'enabled again')}>Enable</button>
          : <button type="button" class="danger small" disabled={busy} onClick={() => void patch({ disabled: true }, 'disabled: its sessions and tokens ended')}>Disable</button>)}
        {!user.disabled && <button type="button" class="secondary small" disabled={busy} onClick={onPassword}>Set password…</button>}
      </div></td>
    </tr>
  );
}

function PasswordDialog({ user, onClose }: { user: UserRow | null; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);

  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (user && !element.open) { setPassword(''); setError(null); setDone(false); element.showModal(); }
    else if (!user && element.open) element.close();
  }, [user?.id]);

  async function submit(event: Event) {
    event.preventDefault();
    if (!user) return;
    setBusy(true);
    setError(null);
    try {
      await api('PATCH', '/api/users/{id}', { params: { id: user.id }, body: { password }, headers: { 'Idempotency-Key': newIdempotencyKey() } });
      setDone(true);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <dialog ref={dialog} class="reason-dialog" aria-labelledby="password-dialog-title" onCancel={(e) => { e.preventDefault(); if (!busy) onClose(); }}>
      <form method="dialog" onSubmit={submit}>
        <h2 id="password-dialog-title">Set {user?.username}'s password</h2>
        {done ? <p class="ok" role="status">The password is changed. The history records that it changed, never the password.</p> : (
          <>
            <label for="password-dialog-input">New password <small>(10 characters or more)</small></label>
            <input id="password-dialog-input" type="password" autocomplete="new-password" required minLength={10} autofocus value={password}
              onInput={(e) => setPassword(e.currentTarget.value)} {...invalidProps('password-dialog-input', fieldMessage(error, 'password'))} />
            <FieldMessage id="password-dialog-input" message={fieldMessage(error, 'password')} />
            <FormMessage error={error} shownFields={['password']} />
          </>
        )}
        <div class="reason-dialog-actions">
          <button type="button" class="secondary" onClick={onClose} disabled={busy}>{done ? 'Close' : 'Cancel'}</button>
          {!done && <button type="submit" disabled={busy}>{busy ? 'Saving…' : 'Set password'}</button>}
        </div>
      </form>
    </dialog>
  );
}
