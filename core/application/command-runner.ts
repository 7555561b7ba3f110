import type { ClaimKind } from '../claims.ts';
import {
  ClaimConflict, DuplicateCommand, VersionConflict, type EventStore, type StreamAppend,
} from '../ports/event-store.ts';
import type { DomainEvent, EventMetadata } from '../shared/event.ts';
import { conflict, ok, type DomainError, type Result } from '../shared/result.ts';

/** Who issues a command and how it ties to others; becomes the events' metadata. */
export interface CommandMeta {
  actor: string;
  /** Unique per command; a retry with the same id has no second effect (HTTP `Idempotency-Key`). */
  commandId: string;
  correlationId?: string;
  causationId?: string | null;
  reason?: string;
  /** The version the caller last saw (HTTP `If-Match`); a mismatch is a 409, not a retry. */
  expectedVersion?: number;
}

export interface Decision<T> {
  appends: StreamAppend[];
  result: T;
}

/** A command's answer; `replayed` when it is the stored answer to an earlier run of the same command. */
export type CommandOutcome<T> =
  | { ok: false; error: DomainError; replayed?: false }
  | { ok: true; value: T; replayed?: boolean; /** Global position of the last event written, for read-your-writes. */ position?: number };

const FIELD_OF_CLAIM: Record<ClaimKind, string> = {
  'host-name': 'name', mac: 'macs', 'image-name': 'name', 'group-name': 'name', 'storage-node-name': 'name',
  'site-master': 'master', username: 'username', 'active-task': 'hostId',
};

const MAX_ATTEMPTS = 4;

/**
 * Runs a command: answers a repeated command id from the stored result,
 * otherwise decides and appends. A version conflict on state the server
 * loaded itself is retried with fresh state (the rules are checked again);
 * one on a version the caller named is returned as a conflict.
 */
export async function runCommand<T>(
  store: EventStore,
  meta: CommandMeta,
  decide: () => Promise<Result<Decision<T>>>,
): Promise<CommandOutcome<T>> {
  const earlier = await store.findCommandResult(meta.commandId);
  if (earlier.found) return { ok: true, value: earlier.result as T, replayed: true };
  const metadata: EventMetadata = {
    actor: meta.actor,
    commandId: meta.commandId,
    correlationId: meta.correlationId ?? meta.commandId,
    causationId: meta.causationId ?? null,
    ...(meta.reason ? { reason: meta.reason } : {}),
  };
  for (let attempt = 1; ; attempt++) {
    const decision = await decide();
    if (!decision.ok) return decision;
    const { appends, result } = decision.value;
    if (appends.every((a) => a.events.length === 0)) return ok(result);
    try {
      const appended = await store.append(appends, { metadata, commandResult: result });
      return { ok: true, value: result, position: appended.lastGlobalPosition };
    } catch (error) {
      if (error instanceof DuplicateCommand) return { ok: true, value: error.result as T, replayed: true };
      if (error instanceof ClaimConflict) return conflict(error.message, FIELD_OF_CLAIM[error.claim.kind]);
      if (error instanceof VersionConflict) {
        if (meta.expectedVersion === undefined && attempt < MAX_ATTEMPTS) continue;
        return versionConflict(error.streamId, error.current);
      }
      throw error;
    }
  }
}

export function versionConflict(streamId: string, currentVersion: number): { ok: false; error: DomainError } {
  return {
    ok: false,
    error: {
      code: 'conflict',
      message: `${streamId} changed since you read it: it is now at version ${currentVersion}; reload and try again`,
      currentVersion,
    },
  };
}

/** Loads an aggregate by folding its stream. */
export async function loadAggregate<S, E extends DomainEvent>(
  store: EventStore,
  streamId: string,
  initial: () => S,
  evolve: (state: S, event: E) => S,
): Promise<{ state: S; version: number }> {
  const { version, events } = await store.readStream(streamId);
  let state = initial();
  for (const event of events) state = evolve(state, { type: event.type, data: event.data } as E);
  return { state, version };
}

/** Checks a caller's `If-Match` against the version the server loaded. */
export function checkExpected(meta: CommandMeta, streamId: string, version: number): Result<void> {
  if (meta.expectedVersion !== undefined && meta.expectedVersion !== version) return versionConflict(streamId, version);
  return ok(undefined);
}

