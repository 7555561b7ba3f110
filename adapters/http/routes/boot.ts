import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { bootScriptFor, type BootTarget } from '../../../core/boot/boot-script.ts';
import { parseMac } from '../../../core/hosts/mac-address.ts';
import type { BootDecision } from '../../../projections/memory/boot-index.ts';
import { BootFiles } from '../../boot-files/boot-files.ts';
import type { BootConfig } from '../../boot/boot-config.ts';
import type { RouteModule } from '../context.ts';
import { HttpError } from '../errors.ts';
import { text } from '../schemas.ts';

/** What the boot routes need besides the running brume: where machines reach us, the menu, the boot files. */
export interface BootHttpConfig extends BootConfig {
  filesDir: string;
  /** The boot-files store shared with TFTP (one cache, one set of generated files); made from filesDir when absent. */
  files?: BootFiles;
}

/** Used when the server was started without boot settings (tests, API-only use). */
export const DEFAULT_BOOT_HTTP_CONFIG: BootHttpConfig = {
  serverAddress: '127.0.0.1', httpBaseUrl: 'http://127.0.0.1:8080', menuTimeoutSeconds: 5, menuHidden: false,
  kernelArgs: '', filesDir: './boot-files',
};

const bootDoc = (summary: string) => ({ tags: ['boot'], summary, security: [] });

/** iPXE leaves `${buildarch}` as typed when it cannot expand it; anything but a plain word is "unknown". */
const word = (value: string | undefined): string | null => (value && /^[A-Za-z0-9_-]{1,32}$/.test(value) ? value : null);

function targetFor(decision: BootDecision, issueToken: (taskId: string, hostId: string) => string): BootTarget {
  if (decision.kind === 'unknown') return { kind: 'unregistered', mac: decision.mac };
  const { entry } = decision;
  const host = { hostId: entry.hostId, hostName: entry.hostName, imageId: entry.imageId };
  if (decision.kind === 'menu') return { kind: 'menu', mac: entry.mac, host };
  const { task } = decision;
  return {
    kind: 'task', mac: entry.mac, host, token: issueToken(task.taskId, entry.hostId),
    task: { taskId: task.taskId, typeId: task.typeId, typeSlug: task.typeSlug, typeName: task.typeName, imageId: task.imageId },
  };
}

/**
 * Menu scripts depend only on the MAC, the firmware and the index: during a
 * boot storm (or a machine looping on its menu) the same script is asked for
 * again and again, so it is built once per index generation. Task scripts
 * carry a token and are never cached.
 */
class MenuScriptCache {
  private readonly scripts = new Map<string, string>();
  private generation = -1;

  constructor(private readonly currentGeneration: () => number, private readonly maxEntries = 10_000) {}

  get(target: BootTarget, arch: string | null, platform: string | null, build: () => string): string {
    if (target.kind === 'task') return build();
    const generation = this.currentGeneration();
    if (generation !== this.generation) {
      this.scripts.clear();
      this.generation = generation;
    }
    const key = `${target.mac} ${arch ?? ''} ${platform ?? ''}`;
    let script = this.scripts.get(key);
    if (script === undefined) {
      script = build();
      if (this.scripts.size >= this.maxEntries) this.scripts.clear();
      this.scripts.set(key, script);
    }
    return script;
  }
}

const answerOf = (target: BootTarget): string =>
  target.kind === 'task' ? `task ${target.task.typeSlug}` : target.kind === 'menu' ? 'menu' : 'registration menu';

/**
 * The routes booting machines call, without signing in (firmware cannot):
 * the iPXE script for a MAC, boot files over HTTP (UEFI HTTP boot, iPXE),
 * and the boot environment. Every answer comes from memory and is recorded
 * as a boot stage for the machine.
 */
export const bootRoutes: RouteModule = (api, { brume, config }) => {
  const boot = config.boot ?? DEFAULT_BOOT_HTTP_CONFIG;
  const files = boot.files ?? new BootFiles(boot.filesDir);
  const scripts = new MenuScriptCache(() => brume.bootIndex.generation);
  const settings = { timeoutSeconds: boot.menuTimeoutSeconds, hidden: boot.menuHidden, exitType: 'auto' as const, kernelArgs: boot.kernelArgs };

  api.get<{ Querystring: { mac: string; arch?: string; platform?: string } }>('/boot/ipxe', {
    config: { access: 'public' },
    schema: {
      ...bootDoc('The iPXE script for a machine: its pending task, its menu, or the registration menu for an unknown MAC'),
      querystring: {
        type: 'object',
        // Firmware adds what it adds; unknown parameters are ignored, not refused.
        additionalProperties: true,
        required: ['mac'],
        properties: {
          mac: text(60, 'the booting NIC, in any case or separator (iPXE: ${net0/mac})'),
          arch: text(60, 'iPXE ${buildarch}: i386, x86_64, arm64...'),
          platform: text(60, 'iPXE ${platform}: pcbios or efi'),
        },
      },
    },
  }, async (request, reply) => {
    const parsed = parseMac(request.query.mac);
    if (!parsed.ok) throw new HttpError(400, 'validation', parsed.error.message, { field: 'mac' });
    const mac = parsed.value;
    const arch = word(request.query.arch);
    const platform = word(request.query.platform);
    const decision = brume.bootIndex.decide(mac);
    const target = targetFor(decision, (taskId, hostId) => brume.bootTokens.tokenFor({ taskId, hostId }, mac));
    const script = scripts.get(target, arch, platform, () =>
      bootScriptFor(target, { baseUrl: boot.httpBaseUrl, arch, platform, settings, images: brume.bootIndex.imageList() }));
    brume.bootActivity.noteAddress(request.ip, mac);
    brume.bootActivity.observe({
      mac, stage: 'script', at: new Date(),
      detail: { answer: answerOf(target), ip: request.ip, ...(arch ? { arch } : {}), ...(platform ? { platform } : {}) },
    });
    return reply.header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-store').send(script);
  });

  api.get<{ Params: { '*': string } }>('/boot/files/*', {
    config: { access: 'public' },
    schema: bootDoc('A boot file (iPXE binaries, memtest...) from the boot-files directory, for UEFI HTTP boot and iPXE'),
  }, async (request, reply) => {
    const name = request.params['*'];
    const found = await files.read(name);
    brume.bootActivity.observeAddress(request.ip, 'http-file', { file: name, status: found.ok ? '200' : found.code });
    if (!found.ok) {
      const status = found.code === 'not-found' ? 404 : found.code === 'forbidden' ? 403 : 400;
      throw new HttpError(status, found.code, found.message);
    }
    return reply.header('content-type', 'application/octet-stream').header('cache-control', 'no-cache').send(found.data);
  });

  api.get<{ Params: { '*': string } }>('/boot/env/*', {
    config: { access: 'public' },
    schema: bootDoc('The boot environment (kernel, initrd) booted clients run their task in'),
  }, async (request, reply) => {
    const name = request.params['*'];
    if (!BOOT_ENV_FILES.includes(name)) {
      throw new HttpError(404, 'not-found', `the boot environment has no file "${name}"; it serves ${BOOT_ENV_FILES.join(', ')}`);
    }
    const path = join(brume.imaging.bootEnvDir, name);
    const size = await stat(path).then((s) => s.size, () => null);
    brume.bootActivity.observeAddress(request.ip, 'http-file', { file: `env/${name}`, status: size === null ? 'not-built' : '200' });
    if (size === null) {
      request.log.warn(`boot environment file ${path} is missing: build it with infra/boot-env/build.sh --out ${brume.imaging.bootEnvDir}`);
      throw new HttpError(404, 'not-found',
        `the boot environment is not built on this server (${path} is missing): run infra/boot-env/build.sh --out ${brume.imaging.bootEnvDir}`);
    }
    return reply.header('content-type', 'application/octet-stream').header('content-length', size).header('cache-control', 'no-cache')
      .send(createReadStream(path, { highWaterMark: 1 << 20 }));
  });
};

/** What iPXE fetches of the boot environment (core/boot/boot-script.ts names them). */
const BOOT_ENV_FILES = ['vmlinuz', 'initrd.img', 'build-info.json'];
