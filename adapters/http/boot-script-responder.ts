import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { bootScriptFor, type BootTarget } from '../../core/boot/boot-script.ts';
import { parseMac } from '../../core/hosts/mac-address.ts';
import type { BootDecision } from '../../projections/memory/boot-index.ts';
import type { BootConfig } from '../boot/boot-config.ts';
import type { Brume } from '../runtime/brume.ts';

/** What a booting machine asks for: its MAC as typed, iPXE's `${buildarch}` and `${platform}`, and where it asks from. */
export interface BootScriptRequest {
  mac: string;
  arch?: string | undefined;
  platform?: string | undefined;
  ip: string;
}

export type BootScriptAnswer = { ok: true; script: string } | { ok: false; field: 'mac'; message: string };

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

const answerOf = (target: BootTarget): string =>
  target.kind === 'task' ? `task ${target.task.typeSlug}` : target.kind === 'menu' ? 'menu' : 'registration menu';

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

/**
 * Decides the iPXE script for a booting machine from memory (the boot
 * index), issues the task token when it has a task, and records the
 * `script` boot stage. One per HTTP server: the fastify route and the
 * server's fast path share it, and with it the menu cache.
 *
 * @example
 * const scripts = new BootScriptResponder(brume, bootConfig);
 * const answer = scripts.answer({ mac: '52-54-00-12-34-56', arch: 'x86_64', platform: 'efi', ip: '192.0.2.10' });
 */
export class BootScriptResponder {
  private readonly cache: MenuScriptCache;
  private readonly settings;

  constructor(private readonly brume: Brume, private readonly boot: BootConfig) {
    this.cache = new MenuScriptCache(() => brume.bootIndex.generation);
    this.settings = { timeoutSeconds: boot.menuTimeoutSeconds, hidden: boot.menuHidden, exitType: 'auto' as const, kernelArgs: boot.kernelArgs };
  }

  answer(request: BootScriptRequest): BootScriptAnswer {
    const parsed = parseMac(request.mac);
    if (!parsed.ok) return { ok: false, field: 'mac', message: parsed.error.message };
    const mac = parsed.value;
    const arch = word(request.arch);
    const platform = word(request.platform);
    const { brume, boot, settings } = this;
    const target = targetFor(brume.bootIndex.decide(mac), (taskId, hostId) => brume.bootTokens.tokenFor({ taskId, hostId }, mac));
    const script = this.cache.get(target, arch, platform, () =>
      bootScriptFor(target, { baseUrl: boot.httpBaseUrl, arch, platform, settings, images: brume.bootIndex.imageList() }));
    brume.bootActivity.noteAddress(request.ip, mac);
    brume.bootActivity.observe({
      mac, stage: 'script', at: new Date(),
      detail: { answer: answerOf(target), ip: request.ip, ...(arch ? { arch } : {}), ...(platform ? { platform } : {}) },
    });
    return { ok: true, script };
  }
}

export const BOOT_SCRIPT_PATH = '/boot/ipxe';
const PREFIX = `${BOOT_SCRIPT_PATH}?`;
/** The levels at which fastify logs every request. */
const LOGS_REQUESTS = new Set(['info', 'debug', 'trace']);

/**
 * Answers `GET /boot/ipxe?mac=...` straight from node:http, ahead of
 * fastify's routing, hooks and reply: in a boot storm hundreds of machines
 * ask at once, and the tail latency of that one request is what the
 * firmware waits on. Only the plain case is taken (a GET with a valid MAC,
 * no proxy in front); anything else returns false and goes to the fastify
 * route, which answers it the same way (and documents it in the OpenAPI).
 * At log level info it logs the request as fastify does (the two lines,
 * joined by reqId), so a machine that does not boot shows in the log.
 */
export function bootScriptFastPath(scripts: BootScriptResponder, log: () => FastifyBaseLogger): (request: IncomingMessage, response: ServerResponse) => boolean {
  let served = 0;
  return (request, response) => {
    const url = request.url;
    if (request.method !== 'GET' || url === undefined || !url.startsWith(PREFIX)) return false;
    const query = new URLSearchParams(url.slice(PREFIX.length));
    const mac = query.get('mac');
    const ip = request.socket.remoteAddress;
    if (mac === null || ip === undefined) return false;
    const logger = log();
    const logged = LOGS_REQUESTS.has(logger.level);
    const started = logged ? performance.now() : 0;
    const reqId = logged ? `boot-${++served}` : '';
    // Shaped for fastify's request serializer, which reads ip, host and socket.
    if (logged) logger.info({ reqId, req: { method: 'GET', url, headers: request.headers, host: request.headers.host, ip, socket: request.socket } }, 'incoming request');
    const answer = scripts.answer({ mac, arch: query.get('arch') ?? undefined, platform: query.get('platform') ?? undefined, ip });
    if (!answer.ok) {
      if (logged) logger.info({ reqId }, 'bad MAC: left to the route');
      return false;
    }
    response.writeHead(200, {
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
      'content-length': Buffer.byteLength(answer.script),
    });
    response.end(answer.script);
    if (logged) logger.info({ reqId, res: { statusCode: 200 }, responseTime: performance.now() - started }, 'request completed');
    return true;
  };
}
