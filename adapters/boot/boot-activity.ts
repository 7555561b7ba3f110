import { randomUUID } from 'node:crypto';
import type { BootObservation, BootStage } from '../../core/boot/boot-stage.ts';
import { BOOT_STREAM, bootStreamOf, type BootStageObserved } from '../../core/boot/boot-events.ts';
import type { EventStore, StreamAppend } from '../../core/ports/event-store.ts';
import { BOOT_CLIENT_ACTOR } from '../../core/shared/event.ts';
import type { BootIndex } from '../../projections/memory/boot-index.ts';
import { neighbourTable } from './neighbour-table.ts';
import type { KnownHost, ResponderBackend } from './responder-backend.ts';

export interface BootActivityOptions {
  /** Least time between two recorded events for one MAC and stage; sightings in between are counted. */
  intervalMs?: number;
  /** Most BootStageObserved events per second in all, so a flood of invented MACs cannot flood the log. */
  maxEventsPerSecond?: number;
  /** How often queued events are written, in one transaction. */
  flushEveryMs?: number;
  /** Most MACs (and addresses) kept in memory; the least recently seen go first. */
  maxTracked?: number;
  /** Finds the MAC behind an IPv4 address when no DHCP answer told us (defaults to the kernel's neighbour table). */
  macOfAddress?: (ip: string) => string | null;
  now?: () => Date;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

interface StageRecord {
  latest: BootObservation;
  /** When an event was last queued for this MAC and stage (ms), or 0. */
  recordedAt: number;
  /** Sightings since that event. */
  unrecorded: number;
}

export interface BootActivityStats {
  observed: number;
  recorded: number;
  /** Sightings folded into a later event by the per-MAC interval. */
  folded: number;
  /** Events postponed because the global rate was exceeded. */
  throttled: number;
  /** Observations by address whose MAC could not be found. */
  unattributed: number;
  writeFailures: number;
}

/**
 * What machines did while booting, for operators and auditors, without
 * flooding the event log: every sighting updates memory (the freshest time
 * per MAC and stage, shown by the API), but an event is written at most
 * once per MAC and stage per interval, carrying how many sightings it
 * stands for, and never more than a global rate. Events are written in
 * the background in batches; responders never wait.
 *
 * @example
 * const activity = new BootActivity(bootIndex, store);
 * activity.start();
 * activity.observe({ mac: '52:54:00:12:34:56', stage: 'dhcp', at: new Date(), detail: { type: 'discover' } });
 */
export class BootActivity implements ResponderBackend {
  private readonly stages = new Map<string, Map<BootStage, StageRecord>>();
  private readonly addresses = new Map<string, string>();
  private queue: BootStageObserved[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private tokens: number;
  private lastRefill: number;
  private readonly counters: BootActivityStats = { observed: 0, recorded: 0, folded: 0, throttled: 0, unattributed: 0, writeFailures: 0 };
  private readonly intervalMs: number;
  private readonly maxPerSecond: number;
  private readonly maxTracked: number;
  private readonly now: () => Date;
  private readonly macOfAddress: (ip: string) => string | null;
  private readonly log: NonNullable<BootActivityOptions['log']>;

  constructor(
    private readonly index: BootIndex,
    private readonly store: EventStore,
    private readonly options: BootActivityOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 60_000;
    this.maxPerSecond = options.maxEventsPerSecond ?? 50;
    this.maxTracked = options.maxTracked ?? 100_000;
    this.now = options.now ?? (() => new Date());
    this.macOfAddress = options.macOfAddress ?? neighbourTable();
    this.log = options.log ?? (() => {});
    this.tokens = this.maxPerSecond;
    this.lastRefill = this.now().getTime();
  }

  hostFor(mac: string): KnownHost | null {
    return this.index.hostFor(mac);
  }

  hostForAddress(ip: string): KnownHost | null {
    return this.index.hostForAddress(ip);
  }

  observe(observation: BootObservation): void {
    this.counters.observed++;
    const mac = observation.mac;
    let perStage = this.stages.get(mac);
    if (perStage) this.stages.delete(mac); // re-inserted below: Map order doubles as least-recently-seen order
    else perStage = new Map();
    this.stages.set(mac, perStage);
    this.evictBeyond(this.stages);

    const record = perStage.get(observation.stage) ?? { latest: observation, recordedAt: 0, unrecorded: 0 };
    record.latest = observation;
    record.unrecorded++;
    perStage.set(observation.stage, record);

    const at = observation.at.getTime();
    if (record.recordedAt && at - record.recordedAt < this.intervalMs) {
      this.counters.folded++;
      return;
    }
    if (!this.takeToken(at)) {
      this.counters.throttled++;
      return;
    }
    this.queue.push({
      type: 'BootStageObserved',
      data: {
        mac, hostId: this.index.hostFor(mac)?.hostId ?? null, stage: observation.stage,
        at: observation.at.toISOString(), detail: observation.detail, sightings: record.unrecorded,
      },
    });
    record.recordedAt = at;
    record.unrecorded = 0;
    this.counters.recorded++;
  }

  observeAddress(ip: string, stage: BootStage, detail: Record<string, string>): void {
    const mac = this.addresses.get(ip) ?? this.macOfAddress(ip);
    if (!mac) {
      this.counters.unattributed++;
      return;
    }
    this.observe({ mac, stage, at: this.now(), detail: { ...detail, ip } });
  }

  noteAddress(ip: string, mac: string): void {
    this.addresses.delete(ip);
    this.addresses.set(ip, mac);
    this.evictBeyond(this.addresses);
  }

  /** The freshest sighting of each stage for a MAC, newest first (memory only: includes sightings not yet recorded). */
  latest(mac: string): BootObservation[] {
    const perStage = this.stages.get(mac);
    if (!perStage) return [];
    return [...perStage.values()].map((r) => r.latest).sort((a, b) => b.at.getTime() - a.at.getTime());
  }

  stats(): BootActivityStats {
    return { ...this.counters };
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => { void this.flush(); }, this.options.flushEveryMs ?? 250);
    this.timer.unref();
  }

  /** Writes what is queued; resolves when it is stored (or the write failed and was logged). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeQueued());
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async writeQueued(): Promise<void> {
    if (this.queue.length === 0) return;
    const events = this.queue;
    this.queue = [];
    const byStream = new Map<string, StreamAppend>();
    for (const event of events) {
      const streamId = bootStreamOf(event.data.mac);
      const append = byStream.get(streamId) ?? { streamId, streamType: BOOT_STREAM, expectedVersion: 'any', events: [] };
      append.events.push(event);
      byStream.set(streamId, append);
    }
    const commandId = randomUUID();
    try {
      await this.store.append([...byStream.values()], {
        metadata: { actor: BOOT_CLIENT_ACTOR, commandId, correlationId: commandId, causationId: null, reason: 'boot activity' },
      });
    } catch (error) {
      this.counters.writeFailures++;
      // Memory still shows the sightings; the next events for these MACs carry the count on.
      this.log('warn', `boot activity: could not record ${events.length} boot stage event(s): ${(error as Error).message}`);
    }
  }

  private takeToken(nowMs: number): boolean {
    const elapsed = Math.max(0, nowMs - this.lastRefill);
    this.tokens = Math.min(this.maxPerSecond, this.tokens + (elapsed * this.maxPerSecond) / 1000);
    this.lastRefill = Math.max(this.lastRefill, nowMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private evictBeyond(map: Map<string, unknown>): void {
    while (map.size > this.maxTracked) {
      const oldest = map.keys().next().value;
      if (oldest === undefined) return;
      map.delete(oldest);
    }
  }
}
