import { BACKEND_NAMES, DEFAULT_BENCH_URL, localUrl, pgliteDisk, pgliteMemory, postgres, adminQuery, type Backend, type BackendName } from './backends.ts';
import { FULL_DATASET } from './dataset.ts';
import { MEASUREMENTS, TABLE_HEADER, tableRows, textTable, type Figure, type Measurement } from './figures.ts';
import { describeMachine } from './machine.ts';
import { figuresSection, writeFigures } from './report.ts';
import { appendsSuite, batchSuite, logSuite } from './suites.ts';

const USAGE = `npm run bench [-- --only=appends,batch,rebuild,search] [--backends=pglite-memory,pglite-disk,postgres] [--write]

  --only       measurements to run (default: all)
  --backends   where to run them (default: all; postgres is skipped when unreachable)
  --write      rewrite the figures section of docs/benchmarks.md
PostgreSQL: BENCH_DATABASE_URL (default ${DEFAULT_BENCH_URL}); it must be on 127.0.0.1.
Each measurement runs in a scratch database (PostgreSQL: created and dropped; PGlite: in memory or under /tmp).`;

function listOption<T extends string>(args: string[], name: string, allowed: readonly T[]): T[] {
  const raw = args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (!raw) return [...allowed];
  const values = raw.split(',').map((v) => v.trim()).filter(Boolean);
  const unknown = values.filter((v) => !allowed.includes(v as T));
  if (unknown.length) throw new Error(`unknown --${name} value(s): ${unknown.join(', ')} (known: ${allowed.join(', ')})`);
  return values as T[];
}

async function main(args: string[]): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) return console.log(USAGE);
  const only = listOption<Measurement>(args, 'only', MEASUREMENTS);
  const backendNames = listOption<BackendName>(args, 'backends', BACKEND_NAMES);
  const adminUrl = localUrl(process.env.BENCH_DATABASE_URL ?? DEFAULT_BENCH_URL);
  const reachable = await adminQuery(adminUrl, 'SELECT 1').then(() => true, (e: Error) => {
    console.warn(`PostgreSQL at ${adminUrl.host} is unreachable (${e.message}): skipping it.`);
    return false;
  });
  // PostgreSQL first: it writes the shared log fastest (see logSuite).
  const backends: Backend[] = [];
  if (backendNames.includes('postgres') && reachable) backends.push(postgres(adminUrl));
  if (backendNames.includes('pglite-memory')) backends.push(pgliteMemory());
  if (backendNames.includes('pglite-disk')) backends.push(pgliteDisk());
  const machine = await describeMachine(reachable ? adminUrl : undefined);
  console.log(`${machine.nproc} CPUs (${machine.cpu}), ${machine.memoryGiB} GiB, ${machine.postgres}, Node ${machine.node}, ${machine.date}`);

  const started = performance.now();
  const figures: Figure[] = [];
  const log = (line: string) => console.log(line);
  const shared = {};
  for (const backend of backends) {
    if (only.includes('appends')) {
      log(`${backend.name}: single appends`);
      figures.push(...(await appendsSuite(backend, log)));
    }
    if (only.includes('batch')) {
      log(`${backend.name}: batched appends`);
      figures.push(...(await batchSuite(backend, log)));
    }
    if (only.includes('rebuild') || only.includes('search')) {
      log(`${backend.name}: realistic log (${only.filter((m) => m === 'rebuild' || m === 'search').join(', ')})`);
      figures.push(...(await logSuite(backend, FULL_DATASET, only, shared, log)));
    }
  }
  console.log(`\n${textTable([[...TABLE_HEADER], ...tableRows(figures)])}\n`);
  console.log(`bench took ${Math.round((performance.now() - started) / 1000)} s`);
  if (args.includes('--write')) {
    const command = ['npm run bench --', ...args].join(' ');
    await writeFigures(figuresSection(command, machine, figures));
    console.log('docs/benchmarks.md: figures rewritten');
  }
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
