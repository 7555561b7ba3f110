import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '../args.ts';
import { CliError } from '../cli-context.ts';
import { ensureAdmin, openBrume } from '../../runtime/brume.ts';
import { CONFIG_VARIABLES, configFromEnv } from '../../runtime/config.ts';
import { DeadlineWatcher } from '../../runtime/deadline-watcher.ts';
import { consoleLog } from '../../runtime/console-log.ts';
import { bootHttpConfigOf, bootRespondersConfigFromEnv, startBootResponders } from '../../runtime/boot-responders.ts';
import { BOOT_CONFIG_VARIABLES } from '../../boot/boot-config.ts';
import { BootFiles } from '../../boot-files/boot-files.ts';
import { DHCP_CONFIG_VARIABLES } from '../../dhcp/dhcp-config.ts';
import { TFTP_CONFIG_VARIABLES } from '../../tftp/tftp-config.ts';
import { WOL_CONFIG_VARIABLES, wolConfigFromEnv } from '../../wake-on-lan/wol-config.ts';
import { IMAGING_CONFIG_VARIABLES, imagingConfigFromEnv } from '../../imaging/imaging-config.ts';

const section = (title: string, variables: readonly (readonly [string, string, string])[]) =>
  `  ${title}:\n${variables.map(([name, fallback, what]) => `    ${name.padEnd(26)} ${what} (default ${fallback})`).join('\n')}`;

export const SERVE_USAGE = `brume serve
  Runs the HTTP API, the boot responders (DHCP, TFTP, iPXE scripts) and
  Wake-on-LAN. Configuration comes from the environment.
${section('Server', CONFIG_VARIABLES)}
${section('Booting machines', BOOT_CONFIG_VARIABLES)}
${section('DHCP (off unless BRUME_DHCP_MODE says otherwise; never answers on an interface you did not name)', DHCP_CONFIG_VARIABLES)}
${section('TFTP', TFTP_CONFIG_VARIABLES)}
${section('Wake-on-LAN', WOL_CONFIG_VARIABLES)}
${section('Imaging (capture, deploy, queue slots)', IMAGING_CONFIG_VARIABLES)}
  Ports below 1024 need root or CAP_NET_BIND_SERVICE: DHCP 67 (and 4011 for
  proxyDHCP), TFTP 69, HTTP 80. Binding DHCP to an interface also needs
  CAP_NET_RAW. brume says which port it could not bind and why.`;

export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parse(args, {});
  if (values.help) {
    console.log(SERVE_USAGE);
    return 0;
  }
  const config = configFromEnv();
  const responders = bootRespondersConfigFromEnv(process.env, config);
  const bootFiles = new BootFiles(responders.tftp.bootFilesDir);
  const wakeOnLan = wolConfigFromEnv(process.env);
  const imaging = imagingConfigFromEnv(process.env, config.dataDir);
  const log = consoleLog(config.logLevel);
  const where = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `the embedded database in ${config.dataDir}`;
  console.error(`brume: opening ${where}...`);
  const brume = await openBrume({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, follow: true, log, wakeOnLan, imaging }).catch((error: Error) => {
    throw new CliError(`cannot open ${where}: ${error.message}`);
  });
  const admin = await ensureAdmin(brume, config.adminPassword);
  if (admin.generatedPassword) {
    // Printed once, to the terminal only: the log file and the event history never see it.
    console.error(`\nbrume: created user "admin" with password: ${admin.generatedPassword}\n       (set BRUME_ADMIN_PASSWORD to choose it; change it after the first login)\n`);
  }
  const { startHttpServer } = await import('../../http/server.ts');
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  let boot: Awaited<ReturnType<typeof startBootResponders>>;
  try {
    server = await startHttpServer(brume, { ...config, boot: bootHttpConfigOf(responders, bootFiles) });
  } catch (error) {
    await brume.close();
    throw new CliError((error as Error).message);
  }
  try {
    boot = await startBootResponders(brume, responders, bootFiles, log);
  } catch (error) {
    await server.close();
    await brume.close();
    throw new CliError((error as Error).message);
  }
  brume.fileSenders.warm();
  const deadlines = new DeadlineWatcher(brume);
  deadlines.start();
  for (const line of boot.summary) console.error(`brume: ${line}`);
  console.error(`brume: images in ${imaging.imagesDir}; deploy files are ${brume.deploySending}`);
  const bootEnv = existsSync(join(imaging.bootEnvDir, 'vmlinuz')) && existsSync(join(imaging.bootEnvDir, 'initrd.img'));
  console.error(bootEnv
    ? `brume: boot environment from ${imaging.bootEnvDir}`
    : `brume: no boot environment in ${imaging.bootEnvDir}: machines cannot run tasks until you run infra/boot-env/build.sh --out ${imaging.bootEnvDir}`);
  const bound = server.server.address();
  const port = bound && typeof bound === 'object' ? bound.port : config.httpPort;
  console.error(`brume: listening on http://${config.httpHost}:${port} (API docs at /api/docs)`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  console.error('brume: shutting down...');
  await deadlines.stop();
  await boot.close();
  await server.close();
  await brume.close();
  return 0;
}
