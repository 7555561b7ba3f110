import type { Kysely } from 'kysely';
import type { Schema } from '../adapters/database/schema.ts';
import { rebuildReadModels } from '../projections/sql/read-models.ts';
import { median } from './stats.ts';

/**
 * Rebuilds every read model from the whole log, `runs` times (stopping
 * early once `limitSeconds` have passed, after at least one run); events/s
 * of the median run.
 */
export async function rebuild(db: Kysely<Schema>, options: { runs: number; limitSeconds: number }) {
  const rates: number[] = [];
  let events = 0;
  const started = performance.now();
  for (let i = 0; i < options.runs; i++) {
    const run = await rebuildReadModels(db);
    events = run.events;
    rates.push(run.events / run.seconds);
    if ((performance.now() - started) / 1000 > options.limitSeconds) break;
  }
  return { events, runs: rates.length, perSecond: median(rates), rates };
}
