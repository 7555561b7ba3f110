import { CliError } from './cli-context.ts';
import { eventsCommand } from './commands/events.ts';
import { hostsCommand } from './commands/hosts.ts';
import { projectionsCommand } from './commands/projections.ts';
import { serveCommand } from './commands/serve.ts';
import { tasksCommand } from './commands/tasks.ts';
import { usersCommand } from './commands/users.ts';
import { ConfigError } from '../runtime/config.ts';

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  serve: serveCommand,
  hosts: hostsCommand,
  tasks: tasksCommand,
  events: eventsCommand,
  projections: projectionsCommand,
  users: usersCommand,
};

const USAGE = `brume: network imaging and machine task server

usage: brume COMMAND [options]   (brume COMMAND --help for details)

  serve                   run the server (HTTP API, web UI)
  hosts import FILE.csv   import hosts from a FOG CSV
  tasks create|cancel|replay
  events tail [--follow]  read the history
  projections rebuild     rebuild the read models from the log
  users add USERNAME      create a user`;

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`brume: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  return command(args);
}

// `brume events tail | head` closes the pipe early: stop quietly instead of crashing.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof CliError || error instanceof ConfigError) {
    console.error(`brume: ${error.message}`);
    process.exitCode = error instanceof CliError ? error.exitCode : 1;
  } else {
    console.error('brume: unexpected error:', error);
    process.exitCode = 1;
  }
}
