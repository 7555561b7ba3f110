import type { EventStore } from '../ports/event-store.ts';
import { streamIdOf } from '../shared/event.ts';
import { conflict, notFound, ok, type Result } from '../shared/result.ts';
import { changeUserRole, createUser, disableUser, enableUser, USER_STREAM, validatePassword, validateUsername, type UserEvent, type UserState } from '../users/user.ts';
import { USERS, changeAggregate } from './aggregates.ts';
import { runCommand, type CommandMeta, type CommandOutcome } from './command-runner.ts';
import type { Credentials, Directory, Ids } from './ports.ts';

export interface UserCommandResult {
  userId: string;
  username: string;
  version: number;
}

/** User accounts. The password goes to the credentials store; the log records only that it changed. */
export function userCommands(store: EventStore, ids: Ids, credentials: Credentials, directory: Directory) {
  const streamOf = (userId: string) => streamIdOf(USER_STREAM, userId);

  /** brume must never be left without an admin: nobody could manage users again. */
  async function keepsAnAdmin(userId: string, state: UserState, losesAdmin: boolean): Promise<Result<void>> {
    if (!losesAdmin || state.status !== 'active' || state.role !== 'admin') return ok(undefined);
    const others = (await directory.activeAdminIds()).filter((id) => id !== userId);
    return others.length > 0 ? ok(undefined) : conflict(`${state.username} is the last active admin; make another user admin first`, 'role');
  }

  /** A change to one user; If-Match is not applied (an API PATCH runs several of these under one request). */
  const change = (meta: CommandMeta, userId: string, decide: (state: UserState) => Result<UserEvent[]> | Promise<Result<UserEvent[]>>) =>
    changeAggregate(store, meta, USERS, userId, decide,
      (state, version): UserCommandResult => ({ userId, username: state.status === 'absent' ? '' : state.username, version }),
      { checkVersion: false });

  return {
    async create(meta: CommandMeta, input: { username: unknown; role: unknown; password: unknown }): Promise<CommandOutcome<UserCommandResult>> {
      const userId = ids.next();
      const password = validatePassword(input.password);
      if (!password.ok) return password;
      const username = validateUsername(input.username);
      if (!username.ok) return username;
      const outcome = await runCommand(store, meta, async () => {
        const decided = createUser({ userId, username: input.username, role: input.role }, { status: 'absent' });
        if (!decided.ok) return decided;
        return ok({
          appends: [{ streamId: streamOf(userId), streamType: USER_STREAM, expectedVersion: 'no-stream', events: [...decided.value, { type: 'UserPasswordChanged', data: { userId } }] }],
          result: { userId, username: username.value, version: 2 },
        });
      });
      // The hash is stored once the user exists; a crash in between leaves a user without a password, never a password without a user.
      if (outcome.ok && !outcome.replayed) await credentials.setPassword(outcome.value.userId, password.value);
      return outcome;
    },

    async setPassword(meta: CommandMeta, userId: string, password: unknown): Promise<CommandOutcome<UserCommandResult>> {
      const checked = validatePassword(password);
      if (!checked.ok) return checked;
      const outcome = await change(meta, userId, (state) =>
        state.status === 'active' ? ok([{ type: 'UserPasswordChanged', data: { userId } }]) : notFound(`user ${userId} does not exist`));
      if (outcome.ok && !outcome.replayed) await credentials.setPassword(userId, checked.value);
      return outcome;
    },

    changeRole: (meta: CommandMeta, userId: string, role: unknown) =>
      change(meta, userId, async (state) => {
        const decided = changeUserRole({ userId, role }, state);
        if (!decided.ok) return decided;
        const guard = await keepsAnAdmin(userId, state, decided.value.length > 0 && role !== 'admin');
        return guard.ok ? decided : guard;
      }),

    disable: (meta: CommandMeta, userId: string) =>
      change(meta, userId, async (state) => {
        const decided = disableUser({ userId }, state);
        if (!decided.ok) return decided;
        const guard = await keepsAnAdmin(userId, state, true);
        return guard.ok ? decided : guard;
      }),

    enable: (meta: CommandMeta, userId: string) => change(meta, userId, (state) => enableUser({ userId }, state)),

    /** Records a login or a token issue: facts for the audit trail (the secrets are elsewhere). */
    recordFact: (meta: CommandMeta, userId: string, event: { type: 'UserLoggedIn' | 'ApiTokenIssued' | 'ApiTokenRevoked'; data: object }) =>
      runCommand(store, meta, async () =>
        ok({
          appends: [{ streamId: streamOf(userId), streamType: USER_STREAM, expectedVersion: 'any', events: [{ type: event.type, data: { userId, ...event.data } }] }],
          result: { userId, username: '', version: 0 },
        }),
      ),
  };
}
