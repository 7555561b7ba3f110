import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIncremental } from '../../core/application/aggregates.ts';
import { CommitNotifier, SqlEventStore } from '../../adapters/event-store/sql-event-store.ts';
import { CatchUpSubscription } from '../../adapters/event-store/subscription.ts';
import { ClaimConflict, DuplicateCommand, VersionConflict } from '../../core/ports/event-store.ts';
import type { EventMetadata, RecordedEvent } from '../../core/shared/event.ts';
import { BACKENDS, freshDatabase, type TestDatabase } from '../support/databases.ts';

const meta = (commandId: string, actor = 'tester'): EventMetadata => ({ actor, commandId, correlationId: commandId, causationId: null });
const note = (n: number) => ({ type: 'NoteWritten', data: { n } });

describe.each(BACKENDS)('event store contract on $backend', ({ backend, skip }) => {
  let database: TestDatabase;
  let store: SqlEventStore;

  beforeAll(async () => {
    if (skip) return;
    database = await freshDatabase(backend, { poolSize: 12 });
    store = new SqlEventStore(database.db);
  });
  afterAll(async () => {
    await database?.dispose();
  });

  it.skipIf(skip)('appends with gapless versions and reads the stream back with metadata', async () => {
    await store.append([{ streamId: 'note-a', streamType: 'note', expectedVersion: 'no-stream', events: [note(1), note(2)] }], { metadata: meta('c1', 'alice') });
    await store.append([{ streamId: 'note-a', streamType: 'note', expectedVersion: 2, events: [note(3)] }], { metadata: { ...meta('c2'), causationId: 'c1', reason: 'why not' } });
    const { version, events } = await store.readStream('note-a');
    expect(version).toBe(3);
    expect(events.map((e) => [e.version, (e.data as { n: number }).n])).toEqual([[1, 1], [2, 2], [3, 3]]);
    expect(events[0]!.metadata).toEqual({ actor: 'alice', commandId: 'c1', correlationId: 'c1', causationId: null });
    expect(events[2]!.metadata).toMatchObject({ causationId: 'c1', reason: 'why not' });
    expect(events[0]!.schemaVersion).toBe(1);
    expect(events[0]!.occurredAt).toBeInstanceOf(Date);
    expect((await store.readStream('note-missing')).version).toBe(0);
  });

  it.skipIf(skip)('reads a stream from a version on, with the stream\'s version even when nothing is new', async () => {
    await store.append([{ streamId: 'note-from', streamType: 'note', expectedVersion: 'no-stream', events: [note(1), note(2), note(3)] }], { metadata: meta('from-1') });
    const tail = await store.readStream('note-from', { fromVersion: 2 });
    expect(tail.version).toBe(3);
    expect(tail.events.map((e) => e.version)).toEqual([2, 3]);
    expect(await store.readStream('note-from', { fromVersion: 4 })).toEqual({ version: 3, events: [] });
    expect(await store.readStream('note-from-missing', { fromVersion: 5 })).toEqual({ version: 0, events: [] });
  });

  it.skipIf(skip)('given an aggregate held in memory, catches it up with only the newer events', async () => {
    let folds = 0;
    const spec = {
      streamType: 'counter', initial: () => ({ n: 0, seen: 0 }),
      evolve: (s: { n: number; seen: number }, e: { type: string; data: { n: number } }) => { folds++; return { n: s.n + e.data.n, seen: s.seen + 1 }; },
    };
    const append = (expectedVersion: number | 'no-stream', n: number, id: string) =>
      store.append([{ streamId: 'counter-x', streamType: 'counter', expectedVersion, events: [{ type: 'Added', data: { n } }] }], { metadata: meta(id) });
    await append('no-stream', 1, 'inc-1');
    expect(await loadIncremental(store, spec, 'x')).toEqual({ state: { n: 1, seen: 1 }, version: 1 });
    await append(1, 2, 'inc-2');
    await append(2, 3, 'inc-3');
    expect(await loadIncremental(store, spec, 'x')).toEqual({ state: { n: 6, seen: 3 }, version: 3 });
    expect(await loadIncremental(store, spec, 'x')).toEqual({ state: { n: 6, seen: 3 }, version: 3 });
    expect(folds, 'each event folded once, not the whole stream on every load').toBe(3);
  });

  it.skipIf(skip)('refuses a stale expected version and reports the current one', async () => {
    await store.append([{ streamId: 'note-b', streamType: 'note', expectedVersion: 'no-stream', events: [note(1)] }], { metadata: meta('b1') });
    const stale = store.append([{ streamId: 'note-b', streamType: 'note', expectedVersion: 0, events: [note(2)] }], { metadata: meta('b2') });
    await expect(stale).rejects.toBeInstanceOf(VersionConflict);
    await expect(stale).rejects.toMatchObject({ current: 1 });
    const wrong = store.append([{ streamId: 'note-b', streamType: 'note', expectedVersion: 5, events: [note(2)] }], { metadata: meta('b3') });
    await expect(wrong).rejects.toMatchObject({ current: 1 });
    expect((await store.readStream('note-b')).version).toBe(1);
  });

  it.skipIf(skip)('appends to several streams atomically: one conflict writes nothing', async () => {
    await store.append([{ streamId: 'note-c', streamType: 'note', expectedVersion: 'no-stream', events: [note(1)] }], { metadata: meta('x1') });
    const attempt = store.append(
      [
        { streamId: 'note-d', streamType: 'note', expectedVersion: 'no-stream', events: [note(1)] },
        { streamId: 'note-c', streamType: 'note', expectedVersion: 'no-stream', events: [note(2)] },
      ],
      { metadata: meta('x2') },
    );
    await expect(attempt).rejects.toBeInstanceOf(VersionConflict);
    expect((await store.readStream('note-d')).version).toBe(0);
  });

  it.skipIf(skip)('appends to several streams in any mode, and to one stream twice in one append, with gapless versions', async () => {
    await store.append([{ streamId: 'multi-a', streamType: 'note', expectedVersion: 'no-stream', events: [note(1)] }], { metadata: meta('m1') });
    const result = await store.append(
      [
        { streamId: 'multi-a', streamType: 'note', expectedVersion: 'any', events: [note(2), note(3)] },
        { streamId: 'multi-b', streamType: 'note', expectedVersion: 'any', events: [note(1)] },
        { streamId: 'multi-a', streamType: 'note', expectedVersion: 'any', events: [note(4)] },
      ],
      { metadata: meta('m2'), commandResult: { ok: 1 } },
    );
    expect(result.versions).toEqual({ 'multi-a': 4, 'multi-b': 1 });
    const a = await store.readStream('multi-a');
    expect(a.events.map((e) => [e.version, (e.data as { n: number }).n])).toEqual([[1, 1], [2, 2], [3, 3], [4, 4]]);
    expect((await store.readStream('multi-b')).version).toBe(1);
    // A stale expectation anywhere in the append writes nothing at all, command result included.
    const stale = store.append(
      [
        { streamId: 'multi-b', streamType: 'note', expectedVersion: 1, events: [note(2)] },
        { streamId: 'multi-c', streamType: 'note', expectedVersion: 'no-stream', events: [note(1)] },
        { streamId: 'multi-a', streamType: 'note', expectedVersion: 3, events: [note(5)] },
      ],
      { metadata: meta('m3'), commandResult: { ok: 2 } },
    );
    await expect(stale).rejects.toMatchObject({ streamId: 'multi-a', current: 4 });
    expect((await store.readStream('multi-b')).version).toBe(1);
    expect((await store.readStream('multi-c')).version).toBe(0);
    expect(await store.findCommandResult('m3')).toEqual({ found: false });
    // The same command id again on the multi-stream path is refused with the first answer.
    const again = store.append(
      [
        { streamId: 'multi-d', streamType: 'note', expectedVersion: 'any', events: [note(1)] },
        { streamId: 'multi-e', streamType: 'note', expectedVersion: 'any', events: [note(1)] },
      ],
      { metadata: meta('m2'), commandResult: { ok: 3 } },
    );
    await expect(again).rejects.toBeInstanceOf(DuplicateCommand);
    await expect(again).rejects.toMatchObject({ result: { ok: 1 } });
    expect((await store.readStream('multi-d')).version).toBe(0);
  });

  it.skipIf(skip)('stores a command result once and refuses the same command id again', async () => {
    await store.append([{ streamId: 'note-e', streamType: 'note', expectedVersion: 'any', events: [note(1)] }], { metadata: meta('idem-1'), commandResult: { id: 'first' } });
    const again = store.append([{ streamId: 'note-e', streamType: 'note', expectedVersion: 'any', events: [note(2)] }], { metadata: meta('idem-1'), commandResult: { id: 'second' } });
    await expect(again).rejects.toBeInstanceOf(DuplicateCommand);
    await expect(again).rejects.toMatchObject({ result: { id: 'first' } });
    expect(await store.findCommandResult('idem-1')).toEqual({ found: true, result: { id: 'first' } });
    expect((await store.readStream('note-e')).version).toBe(1);
  });

  it.skipIf(skip)('enforces uniqueness claims across streams and frees them on release', async () => {
    const host = (id: string, name: string, mac: string) => ({
      type: 'HostRegistered',
      data: { hostId: id, name, description: '', macs: [{ mac, role: 'primary', ignoreForImaging: false }], ip: null, imageId: null, storageNodeId: null, site: null },
    });
    await store.append([{ streamId: 'host-1', streamType: 'host', expectedVersion: 'no-stream', events: [host('1', 'Lab-01', '52:54:00:00:00:01')] }], { metadata: meta('h1') });
    const sameName = store.append([{ streamId: 'host-2', streamType: 'host', expectedVersion: 'no-stream', events: [host('2', 'lab-01', '52:54:00:00:00:02')] }], { metadata: meta('h2') });
    await expect(sameName).rejects.toBeInstanceOf(ClaimConflict);
    await expect(sameName).rejects.toThrow(/host named "lab-01" already exists \(host-1\)/);
    const sameMac = store.append([{ streamId: 'host-3', streamType: 'host', expectedVersion: 'no-stream', events: [host('3', 'lab-03', '52:54:00:00:00:01')] }], { metadata: meta('h3') });
    await expect(sameMac).rejects.toThrow(/MAC 52:54:00:00:00:01 already belongs to host-1/);
    expect((await store.readStream('host-3')).version).toBe(0);
    expect(await store.claimOwners('mac', ['52:54:00:00:00:01', '52:54:00:00:00:09'])).toEqual(new Map([['52:54:00:00:00:01', 'host-1']]));
    await store.append([{ streamId: 'host-1', streamType: 'host', expectedVersion: 1, events: [{ type: 'HostDeleted', data: { hostId: '1', name: 'Lab-01', macs: [{ mac: '52:54:00:00:00:01', role: 'primary', ignoreForImaging: false }] } }] }], { metadata: meta('h4') });
    await store.append([{ streamId: 'host-3', streamType: 'host', expectedVersion: 'no-stream', events: [host('3', 'lab-01', '52:54:00:00:00:01')] }], { metadata: meta('h5') });
    expect(await store.claimOwners('host-name', ['lab-01'])).toEqual(new Map([['lab-01', 'host-3']]));
  });

  it.skipIf(skip)('lets exactly one of many racing appenders win each version, with no gaps', async () => {
    const appenders = 12;
    const rounds = 15;
    const wins: number[] = [];
    await Promise.all(
      Array.from({ length: appenders }, async (_, a) => {
        for (let r = 0; r < rounds; r++) {
          for (;;) {
            const { version } = await store.readStream('race');
            try {
              await store.append([{ streamId: 'race', streamType: 'race', expectedVersion: version === 0 ? 'no-stream' : version, events: [note(a * 1000 + r)] }], { metadata: meta(`race-${a}-${r}`) });
              wins.push(a);
              break;
            } catch (error) {
              if (!(error instanceof VersionConflict)) throw error;
            }
          }
        }
      }),
    );
    const { version, events } = await store.readStream('race');
    expect(version).toBe(appenders * rounds);
    expect(events.map((e) => e.version)).toEqual(Array.from({ length: appenders * rounds }, (_, i) => i + 1));
    expect(wins).toHaveLength(appenders * rounds);
  });

  it.skipIf(skip)('given a burst of concurrent appends, then listeners are woken after its last commit', async () => {
    const heard: number[] = [];
    const stop = await database.listen(() => heard.push(performance.now()));
    try {
      let lastStarted = 0;
      await Promise.all(Array.from({ length: 8 }, async (_, a) => {
        for (let v = 0; v < 25; v++) {
          lastStarted = performance.now();
          await store.append([{ streamId: `burst-${a}`, streamType: 'note', expectedVersion: v === 0 ? 'no-stream' : v, events: [note(v)] }], { metadata: meta(`burst-${a}-${v}`) });
        }
      }));
      const quietUntil = performance.now() + 300;
      while (performance.now() < quietUntil) await new Promise((resolve) => setTimeout(resolve, 20));
      // The last append's commit (after it started) is followed by a NOTIFY sent after it.
      expect(heard.some((at) => at >= lastStarted)).toBe(true);
    } finally {
      await stop();
    }
  });

  it.skipIf(skip)('given commits announced many times a millisecond, then the shared NOTIFY goes out at most every 2 ms, the last after them all', async () => {
    const heard: number[] = [];
    const stop = await database.listen(() => heard.push(performance.now()));
    try {
      const notifier = new CommitNotifier(database.db);
      const started = performance.now();
      let lastAnnounced = started;
      while (performance.now() - started < 100) {
        lastAnnounced = performance.now();
        notifier.notify();
        await new Promise((resolve) => setImmediate(resolve));
      }
      const quietUntil = performance.now() + 300;
      while (performance.now() < quietUntil) await new Promise((resolve) => setTimeout(resolve, 20));
      // Sent back to back, PostgreSQL heard more than one NOTIFY per millisecond.
      expect(heard.length).toBeGreaterThan(1);
      // One at the start and one per 2 ms after it, during the announcements; the trailing one is checked below.
      const duringWindow = heard.filter((at) => at < lastAnnounced).length;
      expect(duringWindow).toBeLessThanOrEqual(Math.floor((lastAnnounced - started) / 2) + 1);
      expect(heard.at(-1)!).toBeGreaterThanOrEqual(lastAnnounced);
    } finally {
      await stop();
    }
  });

  it.skipIf(skip)('delivers every event exactly once, in commit order, to a subscriber running during concurrent appends', async () => {
    const seen: RecordedEvent[] = [];
    const subscription = new CatchUpSubscription(database.db, 'contract-test', async (events) => { seen.push(...events); }, { durable: true, batchSize: 37, pollMs: 50 });
    await subscription.start();
    store.local.on('appended', () => subscription.wake());
    const writers = 8;
    const perWriter = 40;
    let highest = 0;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i++) {
          const appended = await store.append([{ streamId: `sub-${w}`, streamType: 'sub', expectedVersion: 'any', events: [note(i), note(i + 0.5)] }], { metadata: meta(`sub-${w}-${i}`) });
          highest = Math.max(highest, appended.lastGlobalPosition);
        }
      }),
    );
    // The commit-safe horizon is the cluster's oldest running transaction: another test file's open
    // transaction (in another database of the same server) can hide the newest events for a moment.
    let all = await store.readAll({ after: null, limit: 100_000 });
    for (let tries = 0; !all.some((e) => e.globalPosition === highest) && tries < 200; tries++) {
      await new Promise((r) => setTimeout(r, 100));
      all = await store.readAll({ after: null, limit: 100_000 });
    }
    const last = all[all.length - 1]!;
    expect(await subscription.waitFor(last.globalPosition, 20_000)).toBe(true);
    await subscription.stop();
    const ids = seen.map((e) => e.globalPosition);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort((a, b) => a - b)).toEqual(all.map((e) => e.globalPosition).sort((a, b) => a - b));
    // Commit order: per stream, versions arrive ascending.
    const lastVersion = new Map<string, number>();
    for (const event of seen) {
      expect(event.version).toBeGreaterThan(lastVersion.get(event.streamId) ?? 0);
      lastVersion.set(event.streamId, event.version);
    }
    // A second subscriber with the same durable name resumes after the checkpoint: nothing new to see.
    const again: RecordedEvent[] = [];
    const resumed = new CatchUpSubscription(database.db, 'contract-test', async (events) => { again.push(...events); }, { durable: true });
    await resumed.start();
    await resumed.catchUp();
    await resumed.stop();
    expect(again).toEqual([]);
  });

  it.skipIf(skip)('hides events of a transaction that is still open, and everything after it, until it commits', async () => {
    const before = await store.readAll({ after: null, limit: 100_000 });
    const tail = before[before.length - 1]!;
    const after = { transactionId: tail.transactionId, globalPosition: tail.globalPosition };
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let inside!: () => void;
    const started = new Promise<void>((r) => (inside = r));
    // A slow writer takes a position first, then a fast one commits after it.
    const slow = database.db.transaction().execute(async (trx) => {
      await trx.insertInto('events').values({ stream_id: 'late', stream_type: 'late', version: 1, type: 'Late', schema_version: 1, data: '{}', actor: 't', command_id: 'late', correlation_id: 'late', causation_id: null, reason: null }).execute();
      inside();
      await held;
    });
    await started;
    if (backend === 'postgres') {
      await store.append([{ streamId: 'early', streamType: 'early', expectedVersion: 'any', events: [note(1)] }], { metadata: meta('early') });
      expect((await store.readAll({ after, limit: 100 })).map((e) => e.streamId)).toEqual([]);
    }
    release();
    await slow;
    const visible = (await store.readAll({ after, limit: 100 })).map((e) => e.streamId);
    expect(visible[0]).toBe('late');
    if (backend === 'postgres') expect(visible).toEqual(['late', 'early']);
  });
});
