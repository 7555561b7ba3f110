import type { DomainEvent } from '../shared/event.ts';
import { streamIdOf } from '../shared/event.ts';
import type { BootStage } from './boot-stage.ts';

/**
 * A machine reached a boot stage. Recorded at most once per MAC and stage
 * per interval (see adapters/boot/boot-activity.ts): `sightings` says how
 * many times it was seen since the previous event, so a boot loop is visible
 * without one event per packet.
 */
export type BootStageObserved = DomainEvent<'BootStageObserved', {
  mac: string;
  /** The registered host at the time, or null for an unknown machine. */
  hostId: string | null;
  stage: BootStage;
  at: string;
  detail: Record<string, string>;
  sightings: number;
}>;

/**
 * A booting machine was handed a one-time token for its task. Only a
 * digest is recorded: the token itself travels once, in the boot script,
 * and a newer token replaces an older one.
 */
export type BootTokenIssued = DomainEvent<'BootTokenIssued', {
  taskId: string;
  hostId: string;
  mac: string;
  tokenDigest: string;
  at: string;
}>;

export type BootEvent = BootStageObserved | BootTokenIssued;

export const BOOT_STREAM = 'boot';

/** One stream per MAC: a machine's boots, registered or not. */
export const bootStreamOf = (mac: string): string => streamIdOf(BOOT_STREAM, mac);
