import { parse } from '../args.ts';
import { CliError } from '../cli-context.ts';
import { migrate, openDatabase } from '../../database/open-database.ts';
import { configFromEnv } from '../../runtime/config.ts';
import { DataDirLock } from '../../runtime/data-dir-lock.ts';
import { rebuildReadModels } from '../../../projections/sql/read-models.ts';

export const PROJECTIONS_USAGE = `brume projections rebuild
  Empties every read model (rm_* tables) and replays the whole event log into
  them in one transaction: readers keep the old tables until it commits.`;

export async function projectionsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {});
  if (values.help || positionals[0] !== 'rebuild') {
    console.log(PROJECTIONS_USAGE);
    return values.help ? 0 : 2;
  }
  const config = configFromEnv();
  const lock = config.databaseUrl ? undefined : await DataDirLock.acquire(config.dataDir).catch((e: Error) => { throw new CliError(e.message); });
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrate(database.db);
    let lastReport = 0;
    const result = await rebuildReadModels(database.db, ({ events }) => {
      if (Date.now() - lastReport > 1000) {
        lastReport = Date.now();
        process.stderr.write(`  ${events} events replayed...\n`);
      }
    });
    const rate = result.seconds > 0 ? Math.round(result.events / result.seconds) : result.events;
    if (values.json) console.log(JSON.stringify(result));
    else console.log(`rebuilt the read models from ${result.events} events in ${result.seconds.toFixed(2)} s (${rate} events/s)`);
    return 0;
  } finally {
    await database.close();
    await lock?.release();
  }
}
