import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CommandOutcome } from '../../../core/application/command-runner.ts';
import type { UserCommandResult } from '../../../core/application/user-commands.ts';
import { ROLES } from '../../../core/users/user.ts';
import { listUsers } from '../../../projections/sql/queries.ts';
import type { Brume } from '../../runtime/brume.ts';
import { commandMetaOf, respond, settleReads, valueOf } from '../command.ts';
import { notFound } from '../errors.ts';
import type { RouteModule } from '../context.ts';
import { getById } from '../read-routes.ts';
import { boolean, doc, idParams, nonEmpty, object } from '../schemas.ts';
import { commandReplies, replies } from '../response-schemas/index.ts';
import { User, UserPage } from '../response-schemas/user.ts';

const role = { type: 'string', enum: [...ROLES], description: 'admin, operator or auditor' };
const password = nonEmpty(1024, 'at least 10 characters');

interface UserPatch {
  role?: string;
  password?: string;
  disabled?: boolean;
}

async function userView(brume: Brume, userId: string) {
  return (await listUsers(brume.database.db)).find((u) => u.id === userId);
}

/**
 * Applies a PATCH as up to three commands (enable, role, password, disable), each
 * with its own command id derived from the request's, so a retried PATCH
 * replays every part instead of doing any twice.
 */
async function patchUser(brume: Brume, request: FastifyRequest<{ Params: { id: string }; Body: UserPatch }>, reply: FastifyReply) {
  const { id } = request.params;
  const { role: newRole, password: newPassword, disabled } = request.body;
  const current = await userView(brume, id);
  if (!current) throw notFound(`user ${id} does not exist`);
  const meta = commandMetaOf(request);
  const part = (name: string) => ({ ...meta, commandId: `${meta.commandId}/${name}` });
  const steps: (() => Promise<CommandOutcome<UserCommandResult>>)[] = [];
  // Enabling comes first: a role or password change needs an active account.
  if (disabled === false && current.disabled) steps.push(() => brume.commands.users.enable(part('enable'), id));
  if (newRole !== undefined) steps.push(() => brume.commands.users.changeRole(part('role'), id, newRole));
  if (newPassword !== undefined) steps.push(() => brume.commands.users.setPassword(part('password'), id, newPassword));
  if (disabled === true && !current.disabled) {
    steps.push(async () => {
      const outcome = await brume.commands.users.disable(part('disable'), id);
      // A disabled account's sessions and tokens end for good; enabling it again needs a new login.
      if (outcome.ok) await brume.credentials.cutOff(id);
      return outcome;
    });
  }
  let last: CommandOutcome<UserCommandResult> = { ok: true, value: { userId: id, username: current.username, version: 0 } };
  for (const step of steps) {
    last = await step();
    valueOf(reply, last, 'userId');
    if (last.ok) await settleReads(brume, last.position);
  }
  return respond(brume, reply, last, { expects: 'userId', view: () => userView(brume, id), what: 'the user' });
}

/** Users: list, read, create, change role or password, disable and enable. */
export const userRoutes: RouteModule = (api, { brume }) => {
  api.get('/api/users', {
    config: { access: 'read' },
    schema: { ...doc('users', 'List users (the history names actors by user id)'), querystring: object({}), response: replies({ 200: UserPage }) },
  }, async () => {
    const items = await listUsers(brume.database.db);
    return { items, total: items.length, nextCursor: null };
  });

  getById(api, { path: '/api/users', tag: 'users', summary: 'A user', what: 'user', answer: User, load: (userId) => userView(brume, userId) });

  api.post<{ Body: { username: string; role: string; password: string } }>('/api/users', {
    config: { access: 'users:manage' },
    schema: {
      ...doc('users', 'Create a user'),
      body: object({ username: nonEmpty(64, 'lowercase letters, digits, dots, dashes, underscores'), role, password }, ['username', 'role', 'password']),
      response: commandReplies(201, User, { 409: 'the username is taken' }),
    },
  }, async (request, reply) => {
    const outcome = await brume.commands.users.create(commandMetaOf(request), request.body);
    return respond(brume, reply, outcome, { expects: 'userId', status: 201, view: ({ userId }) => userView(brume, userId), what: 'the user' });
  });

  api.patch<{ Params: { id: string }; Body: UserPatch }>('/api/users/:id', {
    config: { access: 'users:manage' },
    schema: {
      ...doc('users', 'Change a user\'s role or password, or disable the account (which ends its sign-ins)'),
      params: idParams,
      body: object({ role, password, disabled: boolean('true disables the account and ends its sessions and tokens; false enables it again') }),
      response: commandReplies(200, User, { 404: 'no such user' }),
    },
  }, (request, reply) => patchUser(brume, request, reply));
};
