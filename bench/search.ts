import type { Kysely } from 'kysely';
import type { Schema } from '../adapters/database/schema.ts';
import { listHosts } from '../projections/sql/queries.ts';
import type { HostSpec } from './host-data.ts';
import { percentile, seededRandom } from './stats.ts';

type Query = { kind: string; q?: string; pages?: number };

/** What people type into the host search box, built from hosts that exist. */
function queryMix(hosts: readonly HostSpec[], random: () => number): () => Query {
  const pick = () => hosts[Math.floor(random() * hosts.length)]!;
  const kinds: (() => Query)[] = [
    () => ({ kind: 'name fragment', q: pick().name.slice(0, 8) }), // "lyon-r01": a site and room prefix
    () => ({ kind: 'name fragment', q: pick().name.slice(-9) }), // "r017-pc04": a room and seat
    () => ({ kind: 'name fragment', q: pick().name }), // a whole name
    () => ({ kind: 'MAC aa:bb:cc', q: pick().mac.slice(9) }), // the last three octets, colon form
    () => ({ kind: 'MAC aa-bb-cc', q: pick().mac.slice(9).replaceAll(':', '-') }),
    () => ({ kind: 'MAC aabbcc', q: pick().mac.slice(6).replaceAll(':', '') }), // bare, four octets
    () => ({ kind: 'MAC aabb.ccdd', q: pick().mac.replaceAll(':', '').slice(4).replace(/^(.{4})/, '$1.') }),
    () => ({ kind: 'MAC full', q: pick().mac.toUpperCase() }),
    () => ({ kind: 'IP prefix', q: pick().ip.split('.').slice(0, 3).join('.') + '.' }), // a room's subnet
    () => ({ kind: 'IP prefix', q: pick().ip.split('.').slice(0, 2).join('.') + '.' }), // a site
    () => ({ kind: 'empty, 3 pages', pages: 3 }),
  ];
  return () => kinds[Math.floor(random() * kinds.length)]!();
}

/** One search as the UI does it; an empty search follows the cursor page after page. Returns ms per request. */
async function timed(db: Kysely<Schema>, query: Query): Promise<number[]> {
  const times: number[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < (query.pages ?? 1); page++) {
    const t = performance.now();
    const result = await listHosts(db, { ...(query.q !== undefined && { q: query.q }), ...(cursor && { cursor }) });
    times.push(performance.now() - t);
    if (query.q !== undefined && result.total === 0) throw new Error(`search "${query.q}" (${query.kind}) found nothing`);
    if (!result.nextCursor) break;
    cursor = result.nextCursor;
  }
  return times;
}

/** listHosts latency over a query mix: p50/p95/p99 overall and p95 per kind of query. */
export async function searchLatency(
  db: Kysely<Schema>, hosts: readonly HostSpec[], options: { samples: number; limitSeconds: number },
) {
  const next = queryMix(hosts, seededRandom(42));
  for (let i = 0; i < 30; i++) await timed(db, next());
  const all: number[] = [];
  const byKind = new Map<string, number[]>();
  const started = performance.now();
  while (all.length < options.samples && performance.now() - started < options.limitSeconds * 1000) {
    const query = next();
    const times = await timed(db, query);
    all.push(...times);
    byKind.set(query.kind, [...(byKind.get(query.kind) ?? []), ...times]);
  }
  return {
    samples: all.length,
    p50: percentile(all, 50),
    p95: percentile(all, 95),
    p99: percentile(all, 99),
    byKind: [...byKind].map(([kind, times]) => ({ kind, p50: percentile(times, 50), p95: percentile(times, 95), n: times.length })),
  };
}
