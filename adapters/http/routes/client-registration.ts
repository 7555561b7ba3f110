import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { parseMac } from '../../../core/hosts/mac-address.ts';
import { BOOT_CLIENT_ACTOR } from '../../../core/shared/event.ts';
import { neighbourTable } from '../../boot/neighbour-table.ts';
import type { RouteModule } from '../context.ts';
import { fromDomainError, HttpError } from '../errors.ts';
import { ClientHost } from '../response-schemas/client.ts';
import { replies } from '../response-schemas/index.ts';

/** Registrations and inventory reports one address may send a minute: a typo-loop is fine, a flood is not. */
const PER_ADDRESS_PER_MINUTE = 10;

/** Counts calls per source address in the current minute. */
class MinuteLimit {
  private minute = 0;
  private readonly counts = new Map<string, number>();

  constructor(private readonly max: number) {}

  allow(address: string, now = Date.now()): boolean {
    const minute = Math.floor(now / 60_000);
    if (minute !== this.minute) {
      this.minute = minute;
      this.counts.clear();
    }
    const count = (this.counts.get(address) ?? 0) + 1;
    this.counts.set(address, count);
    return count <= this.max;
  }
}

const refusals = {
  400: 'not a MAC address',
  403: 'registration is turned off, or the MAC is not the caller\'s',
  429: `more than ${PER_ADDRESS_PER_MINUTE} calls a minute from the address`,
};

const registrationDoc = (summary: string, status: 200 | 201, errors: Record<number, string>) =>
  ({ tags: ['client'], summary, security: [], response: replies({ [status]: ClientHost }, { ...refusals, ...errors }) });

/** The default name of a machine registered from the menu: its primary MAC, which is unique. */
export const defaultHostName = (mac: string): string => `pc-${mac.replaceAll(':', '')}`;

/**
 * What the boot menu's registration and inventory entries call from the
 * boot environment, where no task (so no token) exists: an unknown machine
 * registers itself with its inventory, a registered one reports its
 * inventory. Like FOG's, anyone on the boot network can do this, so it can
 * be turned off (BRUME_BOOT_REGISTRATION=false), is limited per address, and
 * the MAC must be the one the server's neighbour table sees for the
 * caller's address when it knows it. Every call is an event by `boot-client`.
 */
export const clientRegistrationRoutes: RouteModule = (api, { brume }) => {
  const macOfAddress = neighbourTable();
  const limit = new MinuteLimit(PER_ADDRESS_PER_MINUTE);

  function admit(request: FastifyRequest<{ Body: { mac?: unknown } }>): string {
    if (!brume.imaging.bootRegistration) {
      throw new HttpError(403, 'forbidden', 'registration from the boot menu is turned off on this server (BRUME_BOOT_REGISTRATION)');
    }
    if (!limit.allow(request.ip)) throw new HttpError(429, 'too-many', `at most ${PER_ADDRESS_PER_MINUTE} registrations a minute from one address`);
    const mac = parseMac(String(request.body?.mac ?? ''));
    if (!mac.ok) throw new HttpError(400, 'validation', mac.error.message, { field: 'mac' });
    const seen = macOfAddress(request.ip);
    if (seen && seen !== mac.value) {
      request.log.warn({ ip: request.ip, mac: mac.value, seen }, 'boot registration refused: MAC does not match the address');
      throw new HttpError(403, 'forbidden', `the request came from ${request.ip}, which is ${seen}, not ${mac.value}`);
    }
    return mac.value;
  }

  const meta = (request: FastifyRequest, reason: string) =>
    ({ actor: BOOT_CLIENT_ACTOR, commandId: randomUUID(), reason: `${reason} (from ${request.ip})` });

  api.post<{ Body: { mac?: unknown; name?: unknown; inventory?: unknown } }>('/api/client/v1/register', {
    config: { access: 'public' },
    schema: registrationDoc('Register this machine from the boot menu (name optional: pc-<mac>), with its inventory', 201, { 409: 'the MAC is already registered' }),
  }, async (request, reply) => {
    const mac = admit(request);
    const existing = brume.bootIndex.hostFor(mac);
    if (existing) throw new HttpError(409, 'conflict', `${mac} is already registered as ${existing.hostName}`);
    const name = typeof request.body.name === 'string' && request.body.name.trim() !== '' ? request.body.name.trim() : defaultHostName(mac);
    const registered = await brume.commands.hosts.register(meta(request, 'registered from the boot menu'), {
      name, macs: [mac], description: 'registered from the boot menu',
    });
    if (!registered.ok) throw fromDomainError(registered.error);
    const { hostId } = registered.value;
    if (request.body.inventory !== undefined) {
      const reported = await brume.commands.hosts.reportInventory(meta(request, 'inventory at registration'), hostId, request.body.inventory);
      if (!reported.ok) request.log.warn({ hostId }, `registration inventory refused: ${reported.error.message}`);
    }
    return reply.code(201).send({ hostId, name });
  });

  api.post<{ Body: { mac?: unknown; inventory?: unknown } }>('/api/client/v1/inventory', {
    config: { access: 'public' },
    schema: registrationDoc('Report a registered machine\'s inventory from the boot menu', 200, { 404: 'the MAC is not registered' }),
  }, async (request) => {
    const mac = admit(request);
    const host = brume.bootIndex.hostFor(mac);
    if (!host) throw new HttpError(404, 'not-found', `${mac} is not registered; register it first`);
    const reported = await brume.commands.hosts.reportInventory(meta(request, 'inventory from the boot menu'), host.hostId, request.body.inventory);
    if (!reported.ok) throw fromDomainError(reported.error);
    return { hostId: host.hostId, name: host.hostName };
  });
};
