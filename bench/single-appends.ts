import { randomUUID } from 'node:crypto';
import { SqlEventStore } from '../adapters/event-store/sql-event-store.ts';
import type { Database } from '../adapters/database/open-database.ts';
import type { EventMetadata } from '../core/shared/event.ts';
import { seconds } from './stats.ts';

export interface SingleAppendRun {
  concurrency: number;
  appends: number;
  seconds: number;
  perSecond: number;
}

/** A progress report as a booted client sends it: the most frequent single event in a busy deployment. */
export const progressEvent = (n: number) => ({
  type: 'TaskProgressed',
  data: { taskId: 'b3c1f7de-2f57-4a8e-9d35-3c0f2f1e6a10', hostId: '5e0c6a0e-7f5d-4a52-b9b9-4a3f3f5d2c11', bytesDone: n * 1_048_576, bytesTotal: 64_424_509_440, rateBytesPerSecond: 118_000_000, partition: '/dev/sda2' },
});

export const benchMeta = (): EventMetadata => {
  const commandId = randomUUID();
  return { actor: 'bench', commandId, correlationId: commandId, causationId: null };
};

/**
 * `concurrency` appenders, each appending one event per transaction to its
 * own stream with the expected version. `run` keeps going until
 * `limitSeconds` or `maxAppends`; streams carry on from one run to the next.
 */
export function singleAppenders(database: Database, concurrency: number) {
  const store = new SqlEventStore(database.db);
  const versions = new Array<number>(concurrency).fill(0);
  const appendOne = async (a: number) => {
    const version = versions[a]!;
    await store.append(
      [{ streamId: `bench-${a}`, streamType: 'bench', expectedVersion: version === 0 ? 'no-stream' : version, events: [progressEvent(version)] }],
      { metadata: benchMeta() },
    );
    versions[a] = version + 1;
  };
  return {
    async run(limitSeconds: number, maxAppends: number): Promise<SingleAppendRun> {
      let appends = 0;
      const started = performance.now();
      const deadline = started + limitSeconds * 1000;
      await Promise.all(versions.map(async (_, a) => {
        while (appends < maxAppends && performance.now() < deadline) {
          appends++;
          await appendOne(a);
        }
      }));
      const elapsed = seconds(started);
      return { concurrency, appends, seconds: elapsed, perSecond: appends / elapsed };
    },
  };
}

/** Adds up runs made in slices (e.g. before and after a pgbench run, to share its conditions). */
export const combined = (runs: SingleAppendRun[]): SingleAppendRun => {
  const appends = runs.reduce((n, r) => n + r.appends, 0);
  const elapsed = runs.reduce((n, r) => n + r.seconds, 0);
  return { concurrency: runs[0]!.concurrency, appends, seconds: elapsed, perSecond: appends / elapsed };
};
