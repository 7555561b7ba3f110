import type { BackendName } from './backends.ts';

export type Measurement = 'appends' | 'batch' | 'rebuild' | 'search';
export const MEASUREMENTS: readonly Measurement[] = ['appends', 'batch', 'rebuild', 'search'];

/** A bound a figure should meet: at least (`>=`) or below (`<`) `value`. */
export interface Target {
  op: '>=' | '<';
  value: number;
}

/** One measured number, with what it is compared to. */
export interface Figure {
  backend: BackendName;
  measurement: Measurement;
  label: string;
  value: number;
  unit: string;
  target?: Target;
  /** The same work done by pgbench at the same client count; the target then applies to value / baseline. */
  pgbench?: { tps: number; target: number };
  note?: string;
}

const number = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n >= 10 ? n.toFixed(1) : n.toFixed(2));

export const ratioOf = (f: Figure) => (f.pgbench ? f.value / f.pgbench.tps : undefined);

export function resultText(f: Figure): string {
  const base = `${number(f.value)} ${f.unit}`;
  return f.pgbench ? `${base} (pgbench ${number(f.pgbench.tps)} tps: ${ratioOf(f)!.toFixed(2)}x)` : base;
}

export function targetText(f: Figure): string {
  if (f.pgbench) return `>= ${f.pgbench.target}x pgbench`;
  return f.target ? `${f.target.op} ${number(f.target.value)} ${f.unit}` : '-';
}

/** 'yes', 'no', or '-' when the figure has no target. */
export function metText(f: Figure): string {
  if (f.pgbench) return ratioOf(f)! >= f.pgbench.target ? 'yes' : 'no';
  if (!f.target) return '-';
  const met = f.target.op === '>=' ? f.value >= f.target.value : f.value < f.target.value;
  return met ? 'yes' : 'no';
}

export const TABLE_HEADER = ['Backend', 'Figure', 'Result', 'Target', 'Met'] as const;

export const tableRows = (figures: readonly Figure[]): string[][] =>
  figures.map((f) => [f.backend, f.label, resultText(f), targetText(f), metText(f)]);

/** A plain-text table for the terminal. */
export function textTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** The same table in Markdown. */
export function markdownTable(rows: readonly (readonly string[])[]): string {
  const line = (r: readonly string[]) => `| ${r.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(rows[0]!), line(rows[0]!.map(() => '---')), ...rows.slice(1).map(line)].join('\n');
}
