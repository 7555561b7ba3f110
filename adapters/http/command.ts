import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CommandMeta, CommandOutcome } from '../../core/application/command-runner.ts';
import type { Brume } from '../runtime/brume.ts';
import { userOf } from './auth.ts';
import { badRequest, fromDomainError, HttpError } from './errors.ts';

const PRINTABLE = /^[\x20-\x7e]{1,200}$/;

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function printableHeader(request: FastifyRequest, name: string, label: string): string | undefined {
  const value = headerValue(request, name);
  if (value === undefined) return undefined;
  if (!PRINTABLE.test(value)) throw badRequest(`${label} must be 1 to 200 printable ASCII characters`, label);
  return value;
}

/** `If-Match: 3`, `"3"` or `W/"3"`; `*` means "whatever it is now". */
export function parseIfMatch(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(value);
  if (!match) throw badRequest(`If-Match must be the version you last read, e.g. 3 or "3", not "${value.slice(0, 30)}"`, 'If-Match');
  return Number(match[1]);
}

/**
 * A command's metadata from the request: the signed-in user is the actor;
 * `Idempotency-Key`, `If-Match` and `X-Correlation-Id` become the command
 * id, the expected version and the correlation id.
 */
export function commandMetaOf(request: FastifyRequest): CommandMeta {
  const actor = userOf(request).id;
  const key = printableHeader(request, 'idempotency-key', 'Idempotency-Key');
  // Keys are the client's own: scoped by user, so two users' "retry-1" never answer for each other.
  const meta: CommandMeta = { actor, commandId: key === undefined ? randomUUID() : `${actor}:${key}` };
  const correlationId = printableHeader(request, 'x-correlation-id', 'X-Correlation-Id');
  if (correlationId !== undefined) meta.correlationId = correlationId;
  const expectedVersion = parseIfMatch(headerValue(request, 'if-match'));
  if (expectedVersion !== undefined) meta.expectedVersion = expectedVersion;
  return meta;
}

/**
 * The value of a successful command, or the error as an HTTP answer. A
 * replayed answer is marked `Idempotent-Replayed: true`; one that belongs
 * to a different kind of request (the key was reused) is refused.
 */
export function valueOf<T extends object>(reply: FastifyReply, outcome: CommandOutcome<T>, expects: keyof T & string): T {
  if (!outcome.ok) throw fromDomainError(outcome.error);
  if (outcome.replayed) {
    const value = outcome.value as unknown;
    if (typeof value !== 'object' || value === null || !(expects in value)) {
      throw new HttpError(409, 'conflict', 'this Idempotency-Key was already used for a different request; use a new key for a new request', {
        field: 'Idempotency-Key',
      });
    }
    reply.header('idempotent-replayed', 'true');
  }
  return outcome.value;
}

type Status = 200 | 201 | 204;

/**
 * Waits until the read models and the boot index include the event at
 * `position`, so the answer shows the caller's own write and a host's next
 * PXE boot already sees a task the API just created.
 */
export function settleReads(brume: Brume, position: number | undefined): Promise<boolean> {
  return brume.settle(position);
}

export interface RespondOptions<T> {
  /** A field every answer of this command has; tells a replay of this command from another's. */
  expects: keyof T & string;
  /** 200 for changes, 201 for creations, 204 when there is nothing to show; or decided by the answer. */
  status?: Status | ((value: T) => Status);
  /** The resource as the read model shows it once it includes the command's events. */
  view?: (value: T) => Promise<unknown>;
  /** For the message when the resource is gone (a replayed creation of something since deleted). */
  what?: string;
}

/**
 * Answers a command: the error, or (after the read models have caught up
 * with it) the resource as it now reads, so a client sees its own write.
 */
export async function respond<T extends object>(
  brume: Brume, reply: FastifyReply, outcome: CommandOutcome<T>, options: RespondOptions<T>,
): Promise<unknown> {
  const value = valueOf(reply, outcome, options.expects);
  const caughtUp = await settleReads(brume, outcome.ok ? outcome.position : undefined);
  const status = typeof options.status === 'function' ? options.status(value) : (options.status ?? 200);
  if (status === 204) return reply.code(204).send();
  if (!options.view) return reply.code(status).send(value);
  const view = await options.view(value);
  if (view === undefined) {
    if (!caughtUp) {
      reply.log.warn({ position: outcome.ok ? outcome.position : undefined }, 'read models did not catch up in time');
      return reply.code(202).send({ ...value, pending: true, message: 'recorded; it will show in a moment (the read models are catching up)' });
    }
    throw new HttpError(404, 'not-found', `${options.what ?? 'the resource'} no longer exists`);
  }
  return sendVersioned(reply.code(status), view);
}

/** Sends a resource with its version as ETag, ready for a later If-Match. */
export function sendVersioned(reply: FastifyReply, view: unknown): FastifyReply {
  const version = (view as { version?: unknown } | null)?.version;
  if (typeof version === 'number') reply.header('etag', `"${version}"`);
  return reply.send(view);
}
