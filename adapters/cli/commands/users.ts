import { createInterface } from 'node:readline';
import { parse } from '../args.ts';
import { expectOk, usageError, withBrume } from '../cli-context.ts';
import { newSecret } from '../../auth/passwords.ts';
import { ROLES } from '../../../core/users/user.ts';

export const USERS_USAGE = `brume users add USERNAME --role admin|operator|auditor [--password-stdin]
  Creates a user. Without --password-stdin a random password is generated
  and printed once.`;

export async function usersCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { role: { type: 'string' }, 'password-stdin': { type: 'boolean' } });
  const [sub, username] = positionals;
  if (values.help || sub !== 'add') {
    console.log(USERS_USAGE);
    return values.help ? 0 : 2;
  }
  if (!username) throw usageError('say the new user\'s name: brume users add USERNAME --role operator');
  if (!values.role) throw usageError(`say the role: --role ${ROLES.join('|')}`);
  const password = values['password-stdin'] ? await firstLine() : newSecret(15);
  return withBrume(values, async ({ brume, meta }) => {
    const created = expectOk(await brume.commands.users.create(meta(), { username, role: values.role, password }));
    if (values.json) console.log(JSON.stringify(created));
    else console.log(`user ${created.username} created (${values.role}, id ${created.userId})`);
    if (!values['password-stdin']) console.log(`password: ${password}\n(shown once; change it after the first login)`);
    return 0;
  });
}

async function firstLine(): Promise<string> {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  throw usageError('--password-stdin: nothing was read from standard input');
}
