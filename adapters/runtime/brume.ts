import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { SqlCredentials } from '../auth/sql-credentials.ts';
import { newSecret } from '../auth/passwords.ts';
import { migrate, openDatabase, type Database } from '../database/open-database.ts';
import { SqlEventStore } from '../event-store/sql-event-store.ts';
import { CatchUpSubscription, checkpointOf } from '../event-store/subscription.ts';
import { createCommands, type Commands } from '../../core/application/index.ts';
import type { CommandMeta } from '../../core/application/command-runner.ts';
import { SYSTEM_ACTOR } from '../../core/shared/event.ts';
import { BOOT_INDEX_EVENT_TYPES, BootIndex } from '../../projections/memory/boot-index.ts';
import { groupsOfHost } from '../../projections/sql/queries.ts';
import { readModelSubscription } from '../../projections/sql/read-models.ts';
import { DataDirLock } from './data-dir-lock.ts';
import { BootActivity } from '../boot/boot-activity.ts';
import { BootTokens } from '../boot/boot-tokens.ts';
import { wakeOnLanEffects } from '../wake-on-lan/task-effect-runner.ts';
import type { WolConfig } from '../wake-on-lan/wol-config.ts';
import { ImageStore } from '../image-store/image-store.ts';
import { FileSenders } from '../image-store/file-senders.ts';
import { loadKernelSend } from '../image-store/kernel-send.ts';
import { imagingConfigFromEnv, type ImagingConfig } from '../imaging/imaging-config.ts';
import { ProgressBoard } from '../imaging/progress-board.ts';

export interface Brume {
  database: Database;
  store: SqlEventStore;
  commands: Commands;
  credentials: SqlCredentials;
  readModels: CatchUpSubscription;
  bootIndex: BootIndex;
  /** What booting machines did (the boot responders' backend); written to the log in the background. */
  bootActivity: BootActivity;
  /** One-time tokens handed to booted clients in their boot script. */
  bootTokens: BootTokens;
  /** Counters of the running boot responders by name (dhcp, tftp), registered by whoever starts them. */
  responderStats: Map<string, () => unknown>;
  /** Captured image revisions on disk. */
  imageStore: ImageStore;
  /** Child processes deploy files are sent from (adapters/image-store/file-senders.ts). */
  fileSenders: FileSenders;
  /** How deploy files go out, for the start-up log: by sendfile, or copied (and why). */
  deploySending: string;
  /** The latest progress of each imaging client; rate-limited into the log. */
  progressBoard: ProgressBoard;
  imaging: ImagingConfig;
  /** Waits until the read models include the event at `position` (read-your-writes for the API and CLI). */
  settle(position: number | undefined, timeoutMs?: number): Promise<boolean>;
  /**
   * Calls `listener` on the wake-ups the subscriptions get (an append in this process, NOTIFY from
   * another); events may have been appended. Returns the function that stops it. Never fires when not following.
   */
  onAppended(listener: () => void): () => void;
  close(): Promise<void>;
}

export interface OpenOptions {
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  /** Keep the read models and the boot index current in the background (the server does; one-shot CLI commands need not). */
  follow?: boolean;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Where Wake-on-LAN packets go; without it no host can be woken (tasks say why). */
  wakeOnLan?: WolConfig;
  /** Image store, boot environment and queue timings; defaults under the data directory. */
  imaging?: ImagingConfig;
}

/** A new command's metadata; the command id doubles as correlation id unless one is given. */
export function commandMeta(actor: string, extra: Partial<CommandMeta> = {}): CommandMeta {
  return { actor, commandId: extra.commandId ?? randomUUID(), ...extra };
}

/**
 * Opens everything a process needs to serve or run commands: the database
 * (migrated), the store, the commands, the read models and the in-memory
 * boot index, with wake-ups from local appends and from NOTIFY.
 */
export async function openBrume(options: OpenOptions): Promise<Brume> {
  const log = options.log ?? (() => {});
  const lock = options.databaseUrl ? undefined : await DataDirLock.acquire(options.dataDir);
  let database: Database;
  try {
    database = await openDatabase({ url: options.databaseUrl, dataDir: options.dataDir });
    await migrate(database.db);
  } catch (error) {
    await lock?.release();
    throw error;
  }
  const store = new SqlEventStore(database.db);
  const credentials = new SqlCredentials(database.db);
  // The embedded database belongs to this process alone (DataDirLock), so every append wakes the
  // subscriptions directly and the safety-net poll can be rare: each poll is a query on the event
  // loop's thread, a pause the boot responders feel.
  const pollMs = options.databaseUrl ? 2000 : 30_000;
  const readModels = readModelSubscription(database.db, (e) => log('error', `read models: ${(e as Error).message}`), { pollMs });
  const bootIndex = new BootIndex();
  const bootActivity = new BootActivity(bootIndex, store, { log });
  const bootTokens = new BootTokens(bootIndex, store, { log });
  const bootSubscription = new CatchUpSubscription(
    database.db, 'boot-index', async (events) => { for (const e of events) bootIndex.apply(e); },
    { durable: false, batchSize: 5000, types: BOOT_INDEX_EVENT_TYPES, pollMs },
  );
  const imaging = options.imaging ?? imagingConfigFromEnv({}, options.dataDir ?? './data');
  // Deploy files go out by sendfile when the addon is built; copying them through Node (in child
  // processes, so on every core) is the fallback.
  const kernelSend = imaging.sendfile ? loadKernelSend() : { ok: false as const, reason: 'BRUME_SENDFILE is off' };
  const fileSenders = new FileSenders(kernelSend.ok ? 0 : imaging.fileSenders);
  let commands: Commands | undefined;
  const wakeOnLan = wakeOnLanEffects({
    store, log, commands: () => commands!,
    config: options.wakeOnLan ?? { subnets: [], defaultTargets: [], port: 9 },
  });
  commands = createCommands({
    store,
    runTaskEffects: wakeOnLan,
    ids: { next: () => randomUUID() },
    imaging: { defaultMaxClients: imaging.defaultMaxClients, checkInTimeoutSeconds: imaging.checkInTimeoutSeconds },
    credentials,
    directory: {
      async activeAdminIds() {
        await readModels.catchUp();
        const admins = await database.db.selectFrom('rm_users').select('user_id').where('role', '=', 'admin').where('disabled', '=', false).execute();
        return admins.map((a) => a.user_id);
      },
    },
    memberships: {
      async groupsOf(hostId) {
        await readModels.catchUp();
        return groupsOfHost(database.db, hostId);
      },
    },
  });

  const stopListening: (() => Promise<void>)[] = [];
  const appended = new EventEmitter().setMaxListeners(0);
  await readModels.start();
  await bootSubscription.start();
  await readModels.catchUp();
  await bootSubscription.catchUp();
  if (options.follow !== false) {
    const wake = () => { readModels.wake(); bootSubscription.wake(); appended.emit('appended'); };
    store.local.on('appended', wake);
    stopListening.push(await database.listen(wake));
    bootActivity.start();
  } else {
    await readModels.stop();
    await bootSubscription.stop();
  }

  return {
    database, store, commands, credentials, readModels, bootIndex, bootActivity, bootTokens, responderStats: new Map(),
    imaging,
    imageStore: new ImageStore(imaging.imagesDir, { kernelSend: kernelSend.ok ? kernelSend.send : null }),
    deploySending: kernelSend.ok ? 'sent by the kernel (sendfile), a thread per transfer' : `copied through Node (${kernelSend.reason})`,
    fileSenders,
    progressBoard: new ProgressBoard(() => commands!, { minEventIntervalMs: imaging.progressEventSeconds * 1000, log }),
    async settle(position, timeoutMs = 5000) {
      if (!position) return true;
      const target = await checkpointOf(database.db, position);
      if (!target) return false;
      if (options.follow === false) {
        await readModels.catchUp();
        await bootSubscription.catchUp();
        return readModels.hasHandled(target);
      }
      const [a, b] = await Promise.all([readModels.waitFor(target, timeoutMs), bootSubscription.waitFor(target, timeoutMs)]);
      return a && b;
    },
    onAppended(listener) {
      appended.on('appended', listener);
      return () => { appended.off('appended', listener); };
    },
    async close() {
      await fileSenders.close();
      await wakeOnLan.idle();
      await bootActivity.close();
      await bootTokens.settled();
      for (const stop of stopListening) await stop();
      await readModels.stop();
      await bootSubscription.stop();
      await database.close();
      await lock?.release();
    },
  };
}

/**
 * Creates the first admin when there is no user yet. Returns the generated
 * password (to print once) when none was configured.
 */
export async function ensureAdmin(brume: Brume, configuredPassword: string | undefined): Promise<{ created: boolean; generatedPassword?: string }> {
  await brume.readModels.catchUp();
  const existing = await brume.database.db.selectFrom('rm_users').select('user_id').limit(1).executeTakeFirst();
  if (existing) return { created: false };
  const password = configuredPassword ?? newSecret(15);
  const created = await brume.commands.users.create(commandMeta(SYSTEM_ACTOR, { commandId: 'bootstrap-admin', reason: 'first start' }), {
    username: 'admin', role: 'admin', password,
  });
  if (!created.ok) throw new Error(`could not create the admin user: ${created.error.message}`);
  await brume.settle(created.position);
  return configuredPassword ? { created: true } : { created: true, generatedPassword: password };
}
