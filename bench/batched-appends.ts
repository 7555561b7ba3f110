import { randomUUID } from 'node:crypto';
import type { Database } from '../adapters/database/open-database.ts';
import { SqlEventStore } from '../adapters/event-store/sql-event-store.ts';
import { registerHost } from '../core/hosts/register-host.ts';
import type { StreamAppend } from '../core/ports/event-store.ts';
import { fleet } from './host-data.ts';
import { benchMeta, progressEvent } from './single-appends.ts';
import { seconds } from './stats.ts';

export interface BatchShape {
  label: string;
  /** The streams of append number `round` (0-based) of appender `a` (each appender has its own streams). */
  appends(round: number, a: number): StreamAppend[];
}

/** 1,000 streams, one event each, per append (a group run, a bulk requeue). */
export const manyStreams = (streams = 1000): BatchShape => ({
  label: `${streams.toLocaleString('en-US')} streams x 1 event`,
  appends: (round, a) => Array.from({ length: streams }, (_, s) => ({
    streamId: `wide-${a}-${s}`, streamType: 'bench', expectedVersion: round === 0 ? 'no-stream' : round, events: [progressEvent(round)],
  })),
});

/** 10 streams, 100 events each, per append (a client replaying buffered progress). */
export const longStreams = (streams = 10, perStream = 100): BatchShape => ({
  label: `${streams} streams x ${perStream} events`,
  appends: (round, a) => Array.from({ length: streams }, (_, s) => ({
    streamId: `long-${a}-${s}`, streamType: 'bench', expectedVersion: round === 0 ? 'no-stream' : round * perStream,
    events: Array.from({ length: perStream }, (_, i) => progressEvent(round * perStream + i)),
  })),
});

/** A CSV import: 1,000 new hosts per append, each claiming its name and MAC (room for 2 appenders). */
export const hostImport = (hosts = 1000, rounds = 100): BatchShape => {
  const all = fleet(hosts * rounds * 2, 7, 'imp-');
  return {
    label: `host import: ${hosts.toLocaleString('en-US')} HostRegistered (2 claims each)`,
    appends: (round, a) => all.slice((round * 2 + a) * hosts, (round * 2 + a + 1) * hosts).map((h) => {
      const hostId = randomUUID();
      const decided = registerHost({ hostId, name: h.name, macs: [h.mac], ip: h.ip, description: h.description }, { status: 'absent' });
      if (!decided.ok) throw new Error(decided.error.message);
      return { streamId: `host-${hostId}`, streamType: 'host', expectedVersion: 'no-stream' as const, events: decided.value };
    }),
  };
};

/**
 * `appenders` loops, each appending `shape` one batch after another to its
 * own streams, until `limitSeconds` or `maxRounds` batches each; events/s
 * over the time spent in append (batches are built beforehand, untimed).
 */
export async function batchedAppends(
  database: Database, shape: BatchShape, options: { limitSeconds: number; maxRounds: number; appenders?: number },
): Promise<{ events: number; seconds: number; perSecond: number }> {
  const store = new SqlEventStore(database.db);
  const appenders = options.appenders ?? 1;
  const rounds = Array.from({ length: options.maxRounds }, (_, round) => Array.from({ length: appenders }, (_, a) => shape.appends(round, a)));
  let events = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: appenders }, async (_, a) => {
    for (const batches of rounds) {
      if (seconds(started) >= options.limitSeconds) break;
      const appends = batches[a]!;
      await store.append(appends, { metadata: benchMeta() });
      events += appends.reduce((n, x) => n + x.events.length, 0);
    }
  }));
  const elapsed = seconds(started);
  return { events, seconds: elapsed, perSecond: events / elapsed };
}
