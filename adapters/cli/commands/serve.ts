import { parse } from '../args.ts';
import { CliError } from '../cli-context.ts';
import { ensureAdmin, openBrume } from '../../runtime/brume.ts';
import { CONFIG_VARIABLES, configFromEnv } from '../../runtime/config.ts';
import { DeadlineWatcher } from '../../runtime/deadline-watcher.ts';

export const SERVE_USAGE = `brume serve
  Runs the HTTP API and web UI. Configuration comes from the environment:
${CONFIG_VARIABLES.map(([name, fallback, what]) => `    ${name.padEnd(22)} ${what} (default ${fallback})`).join('\n')}
  Ports below 1024 (HTTP 80, and later DHCP 67/68, proxyDHCP 4011, TFTP 69)
  need root or CAP_NET_BIND_SERVICE; brume says so if it cannot bind one.`;

export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parse(args, {});
  if (values.help) {
    console.log(SERVE_USAGE);
    return 0;
  }
  const config = configFromEnv();
  const log = (level: string, message: string) => console.error(`[${level}] ${message}`);
  const where = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `the embedded database in ${config.dataDir}`;
  console.error(`brume: opening ${where}...`);
  const brume = await openBrume({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, follow: true, log }).catch((error: Error) => {
    throw new CliError(`cannot open ${where}: ${error.message}`);
  });
  const admin = await ensureAdmin(brume, config.adminPassword);
  if (admin.generatedPassword) {
    // Printed once, to the terminal only: the log file and the event history never see it.
    console.error(`\nbrume: created user "admin" with password: ${admin.generatedPassword}\n       (set BRUME_ADMIN_PASSWORD to choose it; change it after the first login)\n`);
  }
  const { startHttpServer } = await import('../../http/server.ts');
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  try {
    server = await startHttpServer(brume, config);
  } catch (error) {
    await brume.close();
    throw new CliError((error as Error).message);
  }
  const deadlines = new DeadlineWatcher(brume);
  deadlines.start();
  console.error(`brume: listening on http://${config.httpHost}:${config.httpPort} (API docs at /api/docs)`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  console.error('brume: shutting down...');
  await deadlines.stop();
  await server.close();
  await brume.close();
  return 0;
}
