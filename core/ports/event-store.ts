import type { ClaimKind, ClaimOp } from '../claims.ts';
import type { DomainEvent, EventMetadata, RecordedEvent } from '../shared/event.ts';

/**
 * The event store as the domain sees it. Adapters implement it for
 * PostgreSQL and PGlite with the same SQL (adapters/event-store).
 */

/** `'no-stream'`: the stream must not exist yet; a number: the stream's current version. */
export type ExpectedVersion = number | 'no-stream' | 'any';

export interface StreamAppend {
  streamId: string;
  streamType: string;
  expectedVersion: ExpectedVersion;
  events: DomainEvent[];
}

export interface AppendOptions {
  metadata: EventMetadata;
  /** Stored with the command id so a retried command returns the first answer. */
  commandResult?: unknown;
}

export interface AppendResult {
  /** New version of each stream written. */
  versions: Record<string, number>;
  lastGlobalPosition: number;
}

/** Where a subscriber has read up to: the (transaction id, position) pair of the last event it saw. */
export interface Checkpoint {
  transactionId: string;
  globalPosition: number;
}

export interface ReadAllOptions {
  after: Checkpoint | null;
  limit: number;
  /** Only these event types (the checkpoint still advances past others). */
  types?: readonly string[];
}

export interface EventStore {
  /** All events of one stream, in version order; version 0 when the stream does not exist. */
  /**
   * A stream's events in version order and its current version; with
   * `fromVersion`, only the events from that version on (an aggregate held
   * in memory catches up without reading its whole history again).
   */
  readStream(streamId: string, options?: { fromVersion?: number }): Promise<{ version: number; events: RecordedEvent[] }>;
  /**
   * Appends to one or more streams in one transaction, checking each stream's
   * expected version and applying the events' claims. Throws
   * `VersionConflict`, `ClaimConflict` or `DuplicateCommand`.
   */
  append(appends: StreamAppend[], options: AppendOptions): Promise<AppendResult>;
  /**
   * Events in commit-safe global order after a checkpoint: an event whose
   * transaction is still open hides every later one, so no subscriber ever
   * skips an event that commits late.
   */
  readAll(options: ReadAllOptions): Promise<RecordedEvent[]>;
  /** The result stored for a command id, if that command already ran. */
  findCommandResult(commandId: string): Promise<{ found: true; result: unknown } | { found: false }>;
  /** Which stream owns each claimed value of a kind (missing values are free). */
  claimOwners(kind: ClaimKind, values: readonly string[]): Promise<Map<string, string>>;
}

export class VersionConflict extends Error {
  constructor(readonly streamId: string, readonly expected: ExpectedVersion, readonly current: number) {
    super(`stream ${streamId} is at version ${current}, not ${expected === 'no-stream' ? 'absent' : expected}`);
    this.name = 'VersionConflict';
  }
}

export class ClaimConflict extends Error {
  constructor(readonly claim: ClaimOp, readonly ownerStreamId: string, message: string) {
    super(message);
    this.name = 'ClaimConflict';
  }
}

export class DuplicateCommand extends Error {
  constructor(readonly commandId: string, readonly result: unknown) {
    super(`command ${commandId} already ran`);
    this.name = 'DuplicateCommand';
  }
}
