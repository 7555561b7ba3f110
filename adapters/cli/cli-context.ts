import { userInfo } from 'node:os';
import { commandMeta, ensureAdmin, openBrume, type Brume } from '../runtime/brume.ts';
import { configFromEnv, type BrumeConfig } from '../runtime/config.ts';
import type { CommandMeta, CommandOutcome } from '../../core/application/command-runner.ts';

/** A failure the user caused: printed without a stack trace, exit code 1 (2 for usage). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string) => new CliError(message, 2);

export interface CliContext {
  config: BrumeConfig;
  brume: Brume;
  /** Metadata for a command run from the shell, as the user named by --as. */
  meta(extra?: Partial<CommandMeta>): CommandMeta;
}

/**
 * Opens brume for one CLI command. The shell user acts as a brume account
 * (`--as`, default admin): whoever can run the CLI on the server can read its
 * database anyway, so the account names who did it in the history.
 */
export async function withBrume<T>(
  options: { as?: string; reason?: string; follow?: boolean },
  run: (context: CliContext) => Promise<T>,
): Promise<T> {
  const config = configFromEnv();
  const brume = await openBrume({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, follow: options.follow ?? false });
  try {
    const admin = await ensureAdmin(brume, config.adminPassword);
    if (admin.generatedPassword) {
      console.error(`brume: created user "admin" with password: ${admin.generatedPassword}\n       (shown once; set BRUME_ADMIN_PASSWORD to choose it)`);
    }
    const username = options.as ?? 'admin';
    const user = await brume.database.db.selectFrom('rm_users').select(['user_id', 'disabled']).where('username', '=', username).executeTakeFirst();
    if (!user) throw new CliError(`there is no brume user "${username}"; name one with --as, or create it with "brume users add"`);
    if (user.disabled) throw new CliError(`brume user "${username}" is disabled`);
    const reason = options.reason ?? `brume CLI, shell user ${userInfo().username}`;
    return await run({ config, brume, meta: (extra = {}) => commandMeta(user.user_id, { reason, ...extra }) });
  } finally {
    await brume.close();
  }
}

/** Unwraps a command's outcome or turns its error into a message naming the field. */
export function expectOk<T>(outcome: CommandOutcome<T>): T {
  if (outcome.ok) return outcome.value;
  const { error } = outcome;
  const where = error.field ? ` (${error.field})` : '';
  throw new CliError(`${error.code}${where}: ${error.message}`);
}
