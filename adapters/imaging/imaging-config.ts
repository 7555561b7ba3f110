import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { booleanVar, integerVar } from '../runtime/env-values.ts';

/** Where images and the boot environment live, and the imaging queue's timings. */
export interface ImagingConfig {
  imagesDir: string;
  bootEnvDir: string;
  /** How long a waiting client keeps its place in the queue without polling. */
  checkInTimeoutSeconds: number;
  /** Slots of brume's own queue (tasks on hosts with no storage node). */
  defaultMaxClients: number;
  /** At most one progress event per task this often; the API shows every report. */
  progressEventSeconds: number;
  /** An in-progress imaging task whose client has not reported for this long fails. */
  staleTaskMinutes: number;
  /** Whether machines may register themselves (and report inventory) from the boot menu, without a task. */
  bootRegistration: boolean;
  /** Whether deploy files go out by sendfile(2) when the native addon is built (the file senders are then not used). */
  sendfile: boolean;
  /** Child processes that send deploy files when they are copied through Node (0: the server sends them itself). */
  fileSenders: number;
  /** Deploy files the server sends itself at once before handing more to the senders (one is fastest for a lone client). */
  localFileTransfers: number;
}

export const IMAGING_CONFIG_VARIABLES = [
  ['BRUME_IMAGES_DIR', '<BRUME_DATA_DIR>/images', 'image store: one directory per image, one per captured revision'],
  ['BRUME_BOOT_ENV_DIR', '<BRUME_DATA_DIR>/boot-env', 'the client boot environment (vmlinuz, initrd.img) built by infra/boot-env/build.sh'],
  ['BRUME_CHECK_IN_TIMEOUT', '600', 'seconds a waiting client keeps its queue place without polling (60-86400)'],
  ['BRUME_DEFAULT_MAX_CLIENTS', '10', 'imaging slots for hosts with no storage node'],
  ['BRUME_PROGRESS_EVENT_SECONDS', '30', 'at most one progress event per task this often'],
  ['BRUME_STALE_TASK_MINUTES', '15', 'fail an in-progress imaging task whose client stopped reporting this long ago'],
  ['BRUME_BOOT_REGISTRATION', 'true', 'let unknown machines register themselves (and hosts report inventory) from the boot menu'],
  ['BRUME_SENDFILE', 'true', 'send deploy files with the kernel\'s sendfile, one thread per transfer, when the native addon is built (npm install builds it)'],
  ['BRUME_FILE_SENDERS', '<CPU count>', 'without sendfile: child processes that send deploy files on the other cores (0: the server sends them itself)'],
  ['BRUME_LOCAL_FILE_TRANSFERS', '1', 'deploy files the server sends itself at once before handing more to the file senders'],
] as const;

export function imagingConfigFromEnv(env: NodeJS.ProcessEnv, dataDir: string): ImagingConfig {
  return {
    imagesDir: resolve(env.BRUME_IMAGES_DIR?.trim() || join(dataDir, 'images')),
    bootEnvDir: resolve(env.BRUME_BOOT_ENV_DIR?.trim() || join(dataDir, 'boot-env')),
    checkInTimeoutSeconds: integerVar(env, 'BRUME_CHECK_IN_TIMEOUT', 600, 60, 86_400, 'a number of seconds'),
    defaultMaxClients: integerVar(env, 'BRUME_DEFAULT_MAX_CLIENTS', 10, 1, 1000, 'a number of slots'),
    progressEventSeconds: integerVar(env, 'BRUME_PROGRESS_EVENT_SECONDS', 30, 1, 3600, 'a number of seconds'),
    staleTaskMinutes: integerVar(env, 'BRUME_STALE_TASK_MINUTES', 15, 1, 1440, 'a number of minutes'),
    bootRegistration: booleanVar(env, 'BRUME_BOOT_REGISTRATION', true),
    sendfile: booleanVar(env, 'BRUME_SENDFILE', true),
    fileSenders: integerVar(env, 'BRUME_FILE_SENDERS', availableParallelism(), 0, 64, 'a number of processes'),
    localFileTransfers: integerVar(env, 'BRUME_LOCAL_FILE_TRANSFERS', 1, 0, 1000, 'a number of transfers'),
  };
}
