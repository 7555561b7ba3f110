import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * PGlite is a database inside this process: two processes opening one data
 * directory would corrupt it. A pid file refuses the second one with a
 * message that says what to do, and a lock left by a dead process is taken over.
 */
export class DataDirLock {
  private constructor(private readonly path: string) {}

  static async acquire(dataDir: string | undefined): Promise<DataDirLock | undefined> {
    if (!dataDir || dataDir.startsWith('memory://')) return undefined;
    await mkdir(dataDir, { recursive: true });
    const path = join(dataDir, 'brume.pid');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(path, 'wx');
        await handle.writeFile(String(process.pid));
        await handle.close();
        return new DataDirLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
        if (pid && pid !== process.pid && isAlive(pid)) {
          throw new Error(
            `the embedded database in ${dataDir} is in use by process ${pid} (probably "brume serve"). ` +
            'Stop it first, or run brume on PostgreSQL (DATABASE_URL) so several processes can share the database.',
          );
        }
        await rm(path, { force: true });
      }
    }
    throw new Error(`could not lock ${dataDir}`);
  }

  async release(): Promise<void> {
    await rm(this.path, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
