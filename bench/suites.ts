import { batchedAppends, hostImport, longStreams, manyStreams, type BatchShape } from './batched-appends.ts';
import { withScratch, type Backend } from './backends.ts';
import { buildDataset, copyDataset, type Dataset, type DatasetSize, type LogSource } from './dataset.ts';
import { rebuildReadModels } from '../projections/sql/read-models.ts';
import type { Figure, Measurement } from './figures.ts';
import { pgbenchAvailable, pgbenchInserts } from './pgbench.ts';
import { rebuild } from './rebuild.ts';
import { searchLatency } from './search.ts';
import { combined, singleAppenders, type SingleAppendRun } from './single-appends.ts';

const EVENTS_TARGET = { op: '>=' as const, value: 50_000 };
const PGBENCH_RATIO_TARGET = 0.8;
const SEARCH_P95_TARGET = { op: '<' as const, value: 50 };
const PGBENCH_SECONDS = 10;
const MAX_APPENDS = 500_000;

type Log = (line: string) => void;

/**
 * 1. One event per transaction, N appenders, each on its own stream. On
 * PostgreSQL, pgbench runs at the same N between the two halves of brume's
 * run, so both see the same conditions on a machine whose load drifts.
 */
export async function appendsSuite(backend: Backend, log: Log): Promise<Figure[]> {
  const figures: Figure[] = [];
  const pgbench = backend.name === 'postgres' && (await pgbenchAvailable());
  const appendSeconds = backend.name === 'postgres' ? PGBENCH_SECONDS : 6;
  for (const concurrency of backend.concurrencies) {
    await withScratch(backend, async (scratch) => {
      const database = await scratch.open(Math.max(10, concurrency + 2));
      const appenders = singleAppenders(database, concurrency);
      let baseline: { tps: number; command: string } | undefined;
      const halves: SingleAppendRun[] = [];
      try {
        await appenders.run(1, 500); // warm-up: connections, JIT, first pages
        halves.push(await appenders.run(appendSeconds / 2, MAX_APPENDS));
        if (pgbench && scratch.url) baseline = await pgbenchInserts(scratch.url, concurrency, PGBENCH_SECONDS);
        halves.push(await appenders.run(appendSeconds / 2, MAX_APPENDS));
      } finally {
        await database.close();
      }
      const run = combined(halves);
      log(`  ${concurrency} appender(s): ${Math.round(run.perSecond)} appends/s (${run.appends} in ${run.seconds.toFixed(1)} s: ${halves.map((h) => Math.round(h.perSecond)).join(' and ')} /s)`);
      const figure: Figure = {
        backend: backend.name, measurement: 'appends', label: `single appends, ${concurrency} appender${concurrency > 1 ? 's' : ''}`,
        value: run.perSecond, unit: 'appends/s',
      };
      if (backend.name !== 'postgres') figure.note = 'PGlite is one connection inside this process: appends run one at a time, so only 1 appender is measured.';
      if (baseline) {
        log(`  ${baseline.command}: ${Math.round(baseline.tps)} tps`);
        figure.pgbench = { tps: baseline.tps, target: PGBENCH_RATIO_TARGET };
      } else if (backend.name === 'postgres') {
        figure.note = 'pgbench not found: no comparison.';
      }
      figures.push(figure);
    });
  }
  return figures;
}

/**
 * 2. 1,000 events per append, in three shapes, one appender; on PostgreSQL
 * also the first shape with two appenders at once (one per core here).
 */
export async function batchSuite(backend: Backend, log: Log): Promise<Figure[]> {
  const figures: Figure[] = [];
  const runs: [BatchShape, number][] = [[manyStreams(), 1], [longStreams(), 1], [hostImport(), 1]];
  if (backend.name === 'postgres') runs.push([manyStreams(), 2]);
  for (const [shape, appenders] of runs) {
    await withScratch(backend, async (scratch) => {
      const database = await scratch.open();
      const run = await batchedAppends(database, shape, { limitSeconds: 4, maxRounds: 100, appenders })
        .finally(() => database.close());
      const label = `batched appends, ${shape.label}${appenders > 1 ? `, ${appenders} appenders at once` : ''}`;
      log(`  ${label}: ${Math.round(run.perSecond)} events/s (${run.events} in ${run.seconds.toFixed(1)} s)`);
      figures.push({
        backend: backend.name, measurement: 'batch', label, value: run.perSecond, unit: 'events/s',
        ...(backend.name === 'postgres' && { target: EVENTS_TARGET }),
      });
    });
  }
  return figures;
}

/**
 * 3 and 4 share one realistic log: rebuild its read models, then search its
 * hosts. The first backend writes the log through the commands and hands it
 * to `shared`; the next ones load the same events as they are.
 */
export async function logSuite(
  backend: Backend, size: DatasetSize, which: readonly Measurement[], shared: { source?: LogSource }, log: Log,
): Promise<Figure[]> {
  const figures: Figure[] = [];
  await withScratch(backend, async (scratch) => {
    let dataset: Dataset;
    if (shared.source) {
      dataset = await copyDataset(scratch, shared.source);
    } else {
      const built = await buildDataset(scratch, size);
      shared.source = built.source;
      dataset = built;
    }
    const { db } = dataset.database;
    try {
      log(`  log: ${dataset.events} events ${dataset.how === 'commands' ? 'written by the commands' : 'copied'} in ${dataset.seconds.toFixed(1)} s`);
      if (which.includes('rebuild')) {
        const run = await rebuild(db, { runs: 2, limitSeconds: 15 });
        log(`  rebuild: ${run.rates.map((r) => Math.round(r)).join(', ')} events/s over ${run.events} events`);
        figures.push({
          backend: backend.name, measurement: 'rebuild', label: `projection rebuild, ${run.events.toLocaleString('en-US')} events`,
          value: run.perSecond, unit: 'events/s', ...(backend.name === 'postgres' && { target: EVENTS_TARGET }),
          note: `${run.runs === 1 ? 'one rebuild' : run.runs === 2 ? 'the slower of 2 rebuilds' : `median of ${run.runs} rebuilds`} (${run.rates.map((r) => Math.round(r).toLocaleString('en-US')).join(', ')} events/s); log ${dataset.how === 'commands' ? 'written here by the commands' : 'copied from the first backend'}.`,
        });
      } else {
        await rebuildReadModels(db);
      }
      if (which.includes('search')) {
        const s = await searchLatency(db, dataset.hosts, { samples: 600, limitSeconds: 10 });
        log(`  search: p50 ${s.p50.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms over ${s.samples} requests`);
        for (const k of s.byKind) log(`    ${k.kind}: p50 ${k.p50.toFixed(1)} ms, p95 ${k.p95.toFixed(1)} ms (${k.n})`);
        const label = `host search, ${size.hosts.toLocaleString('en-US')} hosts`;
        const base = { backend: backend.name, measurement: 'search' as const, unit: 'ms' };
        figures.push(
          { ...base, label: `${label}: p50`, value: s.p50 },
          {
            ...base, label: `${label}: p95`, value: s.p95, target: SEARCH_P95_TARGET,
            note: `${s.samples} requests; p95 by kind: ${s.byKind.map((k) => `${k.kind} ${k.p95.toFixed(1)} ms`).join(', ')}.`,
          },
          { ...base, label: `${label}: p99`, value: s.p99 },
        );
      }
    } finally {
      await dataset.close();
    }
  });
  return figures;
}
