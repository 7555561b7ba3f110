import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BootFiles } from '../../boot-files/boot-files.ts';
import type { BootConfig } from '../../boot/boot-config.ts';
import { BOOT_SCRIPT_PATH } from '../boot-script-responder.ts';
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

/**
 * The routes booting machines call, without signing in (firmware cannot):
 * the iPXE script for a MAC, boot files over HTTP (UEFI HTTP boot, iPXE),
 * and the boot environment. Every answer comes from memory and is recorded
 * as a boot stage for the machine.
 */
export const bootRoutes: RouteModule = (api, { brume, config, bootScripts }) => {
  const boot = config.boot ?? DEFAULT_BOOT_HTTP_CONFIG;
  const files = boot.files ?? new BootFiles(boot.filesDir);

  api.get<{ Querystring: { mac: string; arch?: string; platform?: string } }>(BOOT_SCRIPT_PATH, {
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
    const { mac, arch, platform } = request.query;
    const answer = bootScripts.answer({ mac, arch, platform, ip: request.ip });
    if (!answer.ok) throw new HttpError(400, 'validation', answer.message, { field: answer.field });
    return reply.header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-store').send(answer.script);
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
