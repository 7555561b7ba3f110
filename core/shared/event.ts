/**
 * The shapes every event shares. Domain modules declare their own event
 * unions on top of `DomainEvent`; the store adds position and metadata.
 */

/** An event as a decide function returns it: a type and its data. */
export interface DomainEvent<Type extends string = string, Data extends object = object> {
  type: Type;
  data: Data;
}

/** Who caused an event: a user id, or one of the built-in actors. */
export type Actor = string;
export const SYSTEM_ACTOR: Actor = 'system';
export const BOOT_CLIENT_ACTOR: Actor = 'boot-client';

/** What the store records beside each event, for auditors and idempotency. */
export interface EventMetadata {
  actor: Actor;
  commandId: string;
  correlationId: string;
  causationId: string | null;
  /** Free-form reason or context, e.g. the CSV line an import came from. */
  reason?: string;
}

/** An event as read back from the store. */
export interface RecordedEvent<E extends DomainEvent = DomainEvent> {
  type: E['type'];
  data: E['data'];
  schemaVersion: number;
  streamId: string;
  streamType: string;
  /** 1-based, gapless within the stream. */
  version: number;
  globalPosition: number;
  /** PostgreSQL xid8 of the appending transaction, as a decimal string. */
  transactionId: string;
  metadata: EventMetadata;
  occurredAt: Date;
}

/** Stream ids are `<type>-<id>`, so a stream's aggregate is readable from its id. */
export const streamIdOf = (streamType: string, id: string): string => `${streamType}-${id}`;
