/**
 * FOG's task-type catalogue, with FOG's ids so admins moving from FOG find
 * the same numbers (fog-behaviour.md). `kind` says what the machine does:
 * - imaging: boots the client environment and moves an image;
 * - boot-environment: boots into the client environment (or memtest) for another job;
 * - server-side: no PXE boot; the server (or the installed OS's agent) acts.
 */
export type TaskKind = 'imaging' | 'boot-environment' | 'server-side';
export type TaskAccess = 'host' | 'group' | 'both';

export interface TaskType {
  id: number;
  slug: string;
  name: string;
  kind: TaskKind;
  access: TaskAccess;
  /** Image direction for imaging tasks. */
  direction: 'down' | 'up' | null;
  /** Multicast sessions move one image to many clients at once. */
  multicast: boolean;
  /** FOG's "basic" tasks (deploy, capture, multicast); the rest are "advanced". */
  basic: boolean;
  /** Starts with a shell on the client before (or instead of) the job. */
  debug: boolean;
  description: string;
}

const t = (
  id: number, slug: string, name: string, kind: TaskKind, access: TaskAccess,
  extra: Partial<Pick<TaskType, 'direction' | 'multicast' | 'basic' | 'debug'>>, description: string,
): TaskType => ({ id, slug, name, kind, access, direction: null, multicast: false, basic: false, debug: false, ...extra, description });

export const TASK_TYPES: readonly TaskType[] = [
  t(1, 'deploy', 'Deploy', 'imaging', 'both', { direction: 'down', basic: true }, 'Write the host\'s image to its disk'),
  t(2, 'capture', 'Capture', 'imaging', 'host', { direction: 'up', basic: true }, 'Read the disk into the host\'s image as a new revision'),
  t(3, 'debug', 'Debug', 'boot-environment', 'host', { debug: true }, 'Boot the client environment to a shell'),
  t(4, 'memtest', 'Memory Test', 'boot-environment', 'both', {}, 'Boot memtest86+ instead of the client environment'),
  t(5, 'test-disk', 'Test Disk', 'boot-environment', 'both', {}, 'Check the disk\'s filesystems'),
  t(6, 'disk-surface-test', 'Disk Surface Test', 'boot-environment', 'both', {}, 'Scan the disk surface for bad blocks'),
  t(7, 'file-recovery', 'File Recovery', 'boot-environment', 'both', {}, 'Recover deleted files with photorec'),
  t(8, 'multicast', 'Multicast', 'imaging', 'group', { direction: 'down', multicast: true, basic: true }, 'Deploy one image to the whole group at once'),
  t(10, 'inventory', 'Hardware Inventory', 'boot-environment', 'both', {}, 'Collect the hardware inventory, then reboot'),
  t(11, 'password-reset', 'Password Reset', 'boot-environment', 'both', {}, 'Reset a local Windows password'),
  t(12, 'deploy-all-snapins', 'Deploy All Snapins', 'server-side', 'both', {}, 'Install every snapin through the installed OS\'s agent; no PXE boot'),
  t(13, 'deploy-single-snapin', 'Deploy Single Snapin', 'server-side', 'both', {}, 'Install one snapin through the installed OS\'s agent; no PXE boot'),
  t(14, 'wake-up', 'Wake-Up', 'server-side', 'both', {}, 'Send Wake-on-LAN packets only'),
  t(15, 'deploy-debug', 'Deploy - Debug', 'imaging', 'host', { direction: 'down', debug: true }, 'Deploy, with a shell first'),
  t(16, 'capture-debug', 'Capture - Debug', 'imaging', 'host', { direction: 'up', debug: true }, 'Capture, with a shell first'),
  t(17, 'deploy-without-snapins', 'Deploy - Without Snapins', 'imaging', 'both', { direction: 'down' }, 'Deploy without installing snapins afterwards'),
  t(18, 'fast-wipe', 'Fast Wipe', 'boot-environment', 'both', {}, 'Zero the first 40 MB of the disk'),
  t(19, 'normal-wipe', 'Normal Wipe', 'boot-environment', 'both', {}, 'Overwrite the disk once with random data'),
  t(20, 'full-wipe', 'Full Wipe', 'boot-environment', 'both', {}, 'Overwrite the disk with random data several times'),
  t(21, 'virus-scan', 'Virus Scan', 'boot-environment', 'both', {}, 'Scan the disk with ClamAV'),
  t(22, 'virus-scan-quarantine', 'Virus Scan - Quarantine', 'boot-environment', 'both', {}, 'Scan the disk with ClamAV and quarantine what it finds'),
  t(23, 'donate', 'Donate', 'boot-environment', 'both', {}, 'Lend the machine\'s CPU (obsolete in FOG)'),
  t(24, 'torrent-cast', 'Torrent-Cast', 'imaging', 'both', { direction: 'down' }, 'Deploy through BitTorrent among the clients'),
];

const byId = new Map(TASK_TYPES.map((type) => [type.id, type]));
const bySlug = new Map(TASK_TYPES.map((type) => [type.slug, type]));
const byName = new Map(TASK_TYPES.map((type) => [type.name.toLowerCase(), type]));

/**
 * Finds a task type by FOG id (`1`, `"1"`) or by slug or name (`"deploy"`, `"Memory Test"`).
 *
 * @example
 * taskTypeFor('capture')?.id // 2
 */
export function taskTypeFor(ref: unknown): TaskType | undefined {
  if (typeof ref === 'number') return byId.get(ref);
  if (typeof ref !== 'string') return undefined;
  const text = ref.trim().toLowerCase();
  if (/^\d+$/.test(text)) return byId.get(Number(text));
  return bySlug.get(text) ?? byName.get(text) ?? bySlug.get(text.replace(/[\s_]+/g, '-'));
}

/** Whether this type sends the machine through PXE into brume's boot menu or client environment. */
export const needsPxeBoot = (type: TaskType): boolean => type.kind !== 'server-side';
/** Whether this type needs an image to act on. */
export const needsImage = (type: TaskType): boolean => type.direction !== null;
