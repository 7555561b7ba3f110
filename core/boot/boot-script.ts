/**
 * The iPXE script a machine gets when it boots from brume
 * (`GET /boot/ipxe?mac=...&arch=...&platform=...`). The HTTP route looks the
 * MAC up, issues the task token and merges the menu settings; this module
 * only turns that decision into script text:
 *
 * - a pending task: no menu, straight into the boot environment with the
 *   task id and token on the kernel line, retried a few times before the
 *   machine falls back to its local disk;
 * - a registered host with no task: a menu that boots the local disk after
 *   the timeout (deploy an image, quick inventory, memory test, shell, reboot);
 * - an unknown MAC: the registration menu.
 *
 * Output is deterministic (same input, same text), LF line endings. Every
 * value that reaches the script is checked or rewritten (see ipxe-text.ts).
 */
import { DEFAULT_BOOT_MENU, validateBootMenuSettings, type BootMenuSettings, type ExitType } from './boot-menu.ts';
import { ipxeDisplayText, MAX_TOKEN_LENGTH, requireBaseUrl, requireCanonicalMac, requireIpxeId, validateKernelArgs } from './ipxe-text.ts';
import { DomainFailure } from '../shared/result.ts';

export { DEFAULT_BOOT_MENU };
export type { BootMenuSettings, ExitType };

export interface BootHost { hostId: string; hostName: string; imageId: string | null }
export interface BootTask { taskId: string; typeId: number; typeSlug: string; typeName: string; imageId: string | null }

/** What the server decided for the machine asking for its script. */
export type BootTarget =
  | { kind: 'unregistered'; mac: string }
  | { kind: 'menu'; mac: string; host: BootHost }
  | { kind: 'task'; mac: string; host: BootHost; task: BootTask; token: string };

export interface BootImage { imageId: string; name: string }

export interface BootScriptContext {
  /** The server as the booting machine reaches it, e.g. `http://192.0.2.1:8080` (no trailing slash). */
  baseUrl: string;
  /** iPXE `${buildarch}`: i386, x86_64, arm64...; null when not sent. */
  arch: string | null;
  /** iPXE `${platform}`: pcbios, efi...; null when not sent. */
  platform: string | null;
  /** Global defaults merged with the host's overrides by the caller. */
  settings: BootMenuSettings;
  /** Images offered under "Deploy an image". */
  images: readonly BootImage[];
}

// ---- where the boot files are served (the HTTP layer routes the same paths)

export const BOOT_ENV_PATH = '/boot/env';
export const BOOT_ENV_KERNEL = 'vmlinuz';
/** Also the name iPXE gives the fetched initrd, which `initrd=` on the kernel line refers to. */
export const BOOT_ENV_INITRD = 'initrd.img';
export const MEMTEST_PATH = '/boot/files/memtest';

/**
 * The boot environment's kernel.
 *
 * @example
 * bootEnvKernelUrl('http://192.0.2.1:8080') // 'http://192.0.2.1:8080/boot/env/vmlinuz'
 */
export const bootEnvKernelUrl = (baseUrl: string): string => `${requireBaseUrl(baseUrl)}${BOOT_ENV_PATH}/${BOOT_ENV_KERNEL}`;

/**
 * The boot environment's initramfs.
 *
 * @example
 * bootEnvInitrdUrl('http://192.0.2.1:8080') // 'http://192.0.2.1:8080/boot/env/initrd.img'
 */
export const bootEnvInitrdUrl = (baseUrl: string): string => `${requireBaseUrl(baseUrl)}${BOOT_ENV_PATH}/${BOOT_ENV_INITRD}`;

/**
 * memtest86+ (6.x and later) binaries, named as the Debian package ships
 * them in /boot: `.bin` for BIOS (Linux boot protocol, which iPXE's kernel
 * loader speaks), `.efi` for UEFI. There is no ARM build.
 */
export const MEMTEST_FILES = Object.freeze({
  pcbiosI386: 'memtest86+ia32.bin',
  pcbiosX64: 'memtest86+x64.bin',
  efiI386: 'memtest86+ia32.efi',
  efiX64: 'memtest86+x64.efi',
} as const);
export type MemtestFile = (typeof MEMTEST_FILES)[keyof typeof MEMTEST_FILES];

/**
 * The memtest86+ binary for a client, or null when there is none (non-x86,
 * or EFI with no known architecture). BIOS iPXE (undionly.kpxe) reports
 * `i386` even on 64-bit CPUs; the 32-bit build runs on both, so it is the
 * one BIOS clients get unless iPXE itself is 64-bit.
 *
 * @example
 * memtestFileFor('x86_64', 'efi') // 'memtest86+x64.efi'
 * memtestFileFor('arm64', 'efi')  // null
 */
export function memtestFileFor(arch: string | null, platform: string | null): MemtestFile | null {
  const a = normalise(arch);
  switch (bootPlatform(platform)) {
    case 'pcbios':
      if (a === 'x86_64') return MEMTEST_FILES.pcbiosX64;
      return a === 'i386' || a === '' ? MEMTEST_FILES.pcbiosI386 : null;
    case 'efi':
      if (a === 'x86_64') return MEMTEST_FILES.efiX64;
      return a === 'i386' ? MEMTEST_FILES.efiI386 : null;
    default:
      return null;
  }
}

/**
 * @example
 * memtestUrl('http://192.0.2.1:8080', 'memtest86+x64.efi') // 'http://192.0.2.1:8080/boot/files/memtest/memtest86+x64.efi'
 */
export function memtestUrl(baseUrl: string, file: MemtestFile): string {
  if (!(Object.values(MEMTEST_FILES) as string[]).includes(file)) {
    throw new DomainFailure({ code: 'validation', message: `${String(file)} is not a memtest file brume serves`, field: 'file' });
  }
  return `${requireBaseUrl(baseUrl)}${MEMTEST_PATH}/${file}`;
}

// ---- platform and the way out to the local disk

export type BootPlatform = 'pcbios' | 'efi' | 'unknown';

const normalise = (value: string | null): string => (value ?? '').trim().toLowerCase();

/** iPXE's `${platform}` read leniently: `pcbios`, `efi`, anything else is unknown. */
export function bootPlatform(platform: string | null): BootPlatform {
  const p = normalise(platform);
  return p === 'pcbios' || p === 'efi' ? p : 'unknown';
}

/**
 * How "boot from the local disk" leaves iPXE.
 *
 * `sanboot --drive 0x80` asks the BIOS to boot its first hard disk through
 * INT 13h. UEFI has no BIOS drive numbers: on EFI that sanboot fails or
 * hangs, the classic "FOG boots fine on BIOS but not on UEFI" report. There
 * the way back to the disk is to `exit`, returning to the firmware, which
 * tries the next entry in its boot order. When the platform is unknown, exit
 * is the choice that works on both.
 *
 * @example
 * localBootCommand('auto', 'efi') // 'exit'
 */
export function localBootCommand(exitType: ExitType, platform: string | null): 'sanboot' | 'exit' {
  if (exitType !== 'auto') return exitType;
  return bootPlatform(platform) === 'pcbios' ? 'sanboot' : 'exit';
}

// ---- the kernel line of the boot environment

export const BOOT_MODES = ['task', 'register', 'quick-register', 'inventory', 'deploy-image'] as const;
export type BootMode = (typeof BOOT_MODES)[number];

/** Why the boot environment was started; becomes `brume.*` kernel arguments. */
export type BootPurpose =
  | { mode: 'task'; taskId: string; token: string; action: string; imageId: string | null }
  | { mode: 'register' }
  | { mode: 'quick-register' }
  | { mode: 'inventory' }
  | { mode: 'deploy-image'; imageId: string };

/**
 * The boot environment's kernel arguments: `initrd=` (the EFI stub loads the
 * initrd by this name), the server, the MAC, the purpose, then the admin's
 * extra arguments. Throws a validation `DomainFailure` on any value that is
 * not safe on an iPXE line.
 *
 * @example
 * bootEnvKernelArgs('http://192.0.2.1:8080', '00:c0:4f:18:62:63', { mode: 'inventory' })
 * // 'initrd=initrd.img brume.server=http://192.0.2.1:8080 brume.mac=00:c0:4f:18:62:63 brume.mode=inventory'
 */
export function bootEnvKernelArgs(baseUrl: string, mac: string, purpose: BootPurpose, extra = ''): string {
  const words = [
    `initrd=${BOOT_ENV_INITRD}`,
    `brume.server=${requireBaseUrl(baseUrl)}`,
    `brume.mac=${requireCanonicalMac(mac)}`,
    `brume.mode=${purpose.mode}`,
  ];
  if (purpose.mode === 'task') {
    words.push(
      `brume.task=${requireIpxeId(purpose.taskId, 'taskId')}`,
      `brume.token=${requireIpxeId(purpose.token, 'token', { secret: true, max: MAX_TOKEN_LENGTH })}`,
      `brume.action=${requireIpxeId(purpose.action, 'typeSlug')}`,
    );
    if (purpose.imageId !== null) words.push(`brume.image=${requireIpxeId(purpose.imageId, 'imageId')}`);
  } else if (purpose.mode === 'deploy-image') {
    words.push(`brume.image=${requireIpxeId(purpose.imageId, 'imageId')}`);
  } else if (!(BOOT_MODES as readonly string[]).includes(purpose.mode)) {
    throw new DomainFailure({ code: 'validation', message: `unknown boot mode ${String(purpose.mode)}`, field: 'mode' });
  }
  const extraArgs = validateKernelArgs(extra);
  if (!extraArgs.ok) throw new DomainFailure(extraArgs.error);
  if (extraArgs.value !== '') words.push(extraArgs.value);
  return words.join(' ');
}

// ---- the script

/** Attempts a task boot makes before it gives up and boots the local disk. */
export const TASK_BOOT_ATTEMPTS = 3;
/** How long a failure message stays up before the next step. */
export const FAILURE_WAIT_MS = 10_000;
const WAIT_SECONDS = FAILURE_WAIT_MS / 1000;
/** The key that opens a hidden menu: ESC. */
export const HIDDEN_MENU_KEY = '0x1b';

/**
 * Renders the iPXE script for a boot decision. Throws a validation
 * `DomainFailure` when an id, token, MAC, URL or setting could change the
 * script's meaning; names are only ever shown, rewritten for display.
 *
 * @example
 * bootScriptFor({ kind: 'unregistered', mac: '00:c0:4f:18:62:63' },
 *   { baseUrl: 'http://192.0.2.1:8080', arch: 'x86_64', platform: 'efi', settings: DEFAULT_BOOT_MENU, images: [] })
 * // '#!ipxe\n...\n:menu\nmenu brume: unregistered machine 00:c0:4f:18:62:63\n...'
 */
export function bootScriptFor(target: BootTarget, context: BootScriptContext): string {
  const settings = validateBootMenuSettings(context.settings);
  if (!settings.ok) throw new DomainFailure(settings.error);
  const env: Env = {
    baseUrl: requireBaseUrl(context.baseUrl),
    mac: requireCanonicalMac(target.mac),
    arch: context.arch,
    platform: context.platform,
    settings: settings.value,
  };
  let lines: string[];
  switch (target.kind) {
    case 'task': lines = taskScript(env, target.host, target.task, target.token); break;
    case 'menu': lines = hostMenuScript(env, target.host, context.images); break;
    case 'unregistered': lines = registrationMenuScript(env); break;
    default: throw new DomainFailure({ code: 'validation', message: `unknown boot target ${String((target as { kind: unknown }).kind)}`, field: 'kind' });
  }
  return `${['#!ipxe', ...lines].join('\n')}\n`;
}

interface Env {
  baseUrl: string;
  mac: string;
  arch: string | null;
  platform: string | null;
  settings: BootMenuSettings;
}

// ---- stanzas: each ends in a jump, a boot or an exit, so none falls into the next

/** `imgfree` first: a failed attempt may have left a kernel loaded. */
function bootEnvLines(env: Env, purpose: BootPurpose, onFailure: string): string[] {
  const args = bootEnvKernelArgs(env.baseUrl, env.mac, purpose, env.settings.kernelArgs);
  return [
    'imgfree',
    `kernel ${bootEnvKernelUrl(env.baseUrl)} ${args} || goto ${onFailure}`,
    `initrd ${bootEnvInitrdUrl(env.baseUrl)} || goto ${onFailure}`,
    `boot || goto ${onFailure}`,
  ];
}

function memtestLines(env: Env, file: MemtestFile, onFailure: string): string[] {
  return ['imgfree', `kernel ${memtestUrl(env.baseUrl, file)} || goto ${onFailure}`, `boot || goto ${onFailure}`];
}

/** Shows `text` for up to `ms` (a key cuts it short), then goes on to `next`. */
const waitThen = (text: string, ms: number, next: string): string[] => [`prompt --timeout ${ms} ${text} || goto ${next}`, `goto ${next}`];

function localStanza(env: Env): string[] {
  const exit = localBootCommand(env.settings.exitType, env.platform);
  return [
    ':local',
    'echo brume: booting from the local disk',
    // If the BIOS has no bootable first disk, hand back to it so it tries its next device.
    exit === 'sanboot' ? 'sanboot --no-describe --drive 0x80 || exit' : 'exit',
  ];
}

function taskScript(env: Env, host: BootHost, task: BootTask, token: string): string[] {
  const taskId = requireIpxeId(task.taskId, 'taskId');
  const slug = requireIpxeId(task.typeSlug, 'typeSlug');
  const lines = [
    `# brume: task ${taskId} (${slug}) for ${env.mac}`,
    `echo brume: ${ipxeDisplayText(host.hostName)} - ${ipxeDisplayText(task.typeName)}`,
  ];
  let load: (onFailure: string) => string[];
  let what: string;
  if (slug === 'memtest') {
    // FOG boots memtest86+ itself for a memory test, not the client environment.
    const file = memtestFileFor(env.arch, env.platform);
    if (file === null) {
      return [
        ...lines,
        `echo brume: no memory test for this machine (${ipxeDisplayText(`${env.arch ?? '?'} ${env.platform ?? '?'}`, 30)})`,
        ...waitThen(`brume: booting from the local disk in ${WAIT_SECONDS} seconds`, FAILURE_WAIT_MS, 'local'),
        ...localStanza(env),
      ];
    }
    load = (onFailure) => memtestLines(env, file, onFailure);
    what = 'the memory test';
  } else {
    const purpose: BootPurpose = { mode: 'task', taskId, token, action: slug, imageId: task.imageId };
    load = (onFailure) => bootEnvLines(env, purpose, onFailure);
    what = 'the boot environment';
  }
  for (let attempt = 1; attempt <= TASK_BOOT_ATTEMPTS; attempt += 1) {
    const last = attempt === TASK_BOOT_ATTEMPTS;
    lines.push(
      `:try-${attempt}`,
      ...load(`failed-${attempt}`),
      `:failed-${attempt}`,
      // iPXE has just printed the URL and its error; keep this within 80 columns.
      `echo brume: could not load ${what} (attempt ${attempt} of ${TASK_BOOT_ATTEMPTS})`,
      ...(last
        ? waitThen(`brume: booting from the local disk in ${WAIT_SECONDS} seconds, the task stays pending`, FAILURE_WAIT_MS, 'local')
        : waitThen(`brume: retrying in ${WAIT_SECONDS} seconds (any key retries now)`, FAILURE_WAIT_MS, `try-${attempt + 1}`)),
    );
  }
  lines.push(...localStanza(env));
  return lines;
}

/** A menu entry: its label (also the stanza's), optional hotkey, text, and the stanza it jumps to. */
interface MenuItem { label: string; key?: string; text: string; stanza: string[] }

const itemLine = (item: MenuItem): string => `item ${item.key ? `--key ${item.key} ` : ''}${item.label} ${item.text}`;

/**
 * A menu that takes the local disk after the timeout. Hidden: a prompt first;
 * only ESC within the timeout shows the menu. ESC in the menu itself (which
 * makes `choose` fail) also boots the local disk.
 */
function menuScript(env: Env, title: string, items: (MenuItem | string)[], extraStanzas: string[]): string[] {
  const { timeoutSeconds, hidden } = env.settings;
  const ms = timeoutSeconds * 1000;
  const lines: string[] = [];
  if (hidden) {
    lines.push(ms > 0 ? `prompt --key ${HIDDEN_MENU_KEY} --timeout ${ms} brume: press ESC for the boot menu && goto menu || goto local` : 'goto local');
  }
  lines.push(':menu', `menu ${title}`);
  for (const item of items) lines.push(typeof item === 'string' ? `item --gap -- ${item}` : itemLine(item));
  // A timeout of 0 makes iPXE wait for a choice, so leave it out rather than rely on that.
  lines.push(`choose${ms > 0 ? ` --timeout ${ms}` : ''} --default local choice && goto \${choice} || goto local`);
  for (const item of items) if (typeof item !== 'string') lines.push(...item.stanza);
  lines.push(...extraStanzas, ...localStanza(env));
  return lines;
}

const localItem: MenuItem = { label: 'local', key: 'l', text: 'Boot from the local disk', stanza: [] };

function bootEnvItem(env: Env, label: string, key: string, text: string, purpose: BootPurpose): MenuItem {
  return { label, key, text, stanza: [`:${label}`, ...bootEnvLines(env, purpose, 'env-failed')] };
}

function memtestItem(env: Env): MenuItem | null {
  const file = memtestFileFor(env.arch, env.platform);
  if (file === null) return null;
  return { label: 'memtest', key: 'm', text: 'Memory test (memtest86+)', stanza: [':memtest', ...memtestLines(env, file, 'memtest-failed')] };
}

const shellItem: MenuItem = {
  label: 'shell', key: 's', text: 'iPXE shell',
  stanza: [':shell', 'echo brume: type exit to return to the menu', 'shell', 'goto menu'],
};

const rebootItem: MenuItem = {
  label: 'reboot', key: 'r', text: 'Reboot',
  // Not every iPXE build has the reboot command.
  stanza: [':reboot', 'reboot || goto reboot-failed', ':reboot-failed', 'echo brume: this iPXE cannot reboot the machine',
    ...waitThen(`brume: returning to the menu in ${WAIT_SECONDS} seconds`, FAILURE_WAIT_MS, 'menu')],
};

/** Where a menu choice lands when its files cannot be fetched: a message, then the menu again (which times out to the disk). */
function failureStanzas(env: Env, memtest: boolean): string[] {
  const back = (label: string, what: string): string[] => [
    `:${label}`,
    `echo brume: could not load ${what}`,
    ...waitThen(`brume: returning to the menu in ${WAIT_SECONDS} seconds`, FAILURE_WAIT_MS, 'menu'),
  ];
  return [...back('env-failed', 'the boot environment'), ...(memtest ? back('memtest-failed', 'the memory test') : [])];
}

function hostMenuScript(env: Env, host: BootHost, images: readonly BootImage[]): string[] {
  const name = ipxeDisplayText(host.hostName, 40);
  const assigned = host.imageId;
  const seen = new Set<string>();
  const imageItems: MenuItem[] = [];
  for (const image of images) {
    const imageId = requireIpxeId(image.imageId, 'imageId');
    if (seen.has(imageId)) continue;
    seen.add(imageId);
    const label = `image-${imageId}`;
    const note = imageId === assigned ? ' (assigned to this host)' : '';
    imageItems.push({
      label, text: `${ipxeDisplayText(image.name, 50)}${note}`,
      stanza: [`:${label}`, ...bootEnvLines(env, { mode: 'deploy-image', imageId }, 'env-failed')],
    });
  }
  const items: (MenuItem | string)[] = [localItem];
  if (imageItems.length > 0) {
    items.push({ label: 'images', key: 'd', text: 'Deploy an image...', stanza: imageMenu(env, name, imageItems) });
  } else {
    items.push('Deploy an image: no images on this server yet');
  }
  items.push(bootEnvItem(env, 'inventory', 'i', 'Quick inventory (update this host\'s hardware record)', { mode: 'inventory' }));
  const memtest = memtestItem(env);
  if (memtest) items.push(memtest);
  items.push(shellItem, rebootItem);
  return [`# brume: boot menu for ${env.mac}`, ...menuScript(env, `brume: ${name} (${env.mac})`, items, failureStanzas(env, memtest !== null))];
}

/**
 * The image list. Its default (also taken on timeout or ESC) is the way back
 * to the main menu, so a machine left at this screen never deploys by itself.
 */
function imageMenu(env: Env, hostName: string, imageItems: MenuItem[]): string[] {
  const ms = env.settings.timeoutSeconds * 1000;
  return [
    ':images',
    `menu brume: deploy an image to ${hostName}`,
    'item --gap -- Deploying erases this machine\'s disk.',
    'item --gap',
    ...imageItems.map(itemLine),
    'item --gap',
    'item --key b menu Back to the main menu',
    `choose${ms > 0 ? ` --timeout ${ms}` : ''} --default menu choice && goto \${choice} || goto menu`,
    ...imageItems.flatMap((item) => item.stanza),
  ];
}

function registrationMenuScript(env: Env): string[] {
  const items: (MenuItem | string)[] = [
    localItem,
    bootEnvItem(env, 'quick-register', 'q', 'Quick registration', { mode: 'quick-register' }),
    bootEnvItem(env, 'register', 'f', 'Full registration (name, image, group)', { mode: 'register' }),
  ];
  const memtest = memtestItem(env);
  if (memtest) items.push(memtest);
  items.push(shellItem);
  return [
    `# brume: registration menu for ${env.mac}`,
    ...menuScript(env, `brume: unregistered machine ${env.mac}`, items, failureStanzas(env, memtest !== null)),
  ];
}
