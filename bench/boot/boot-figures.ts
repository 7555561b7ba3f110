import type { BootMeasurement } from './tools.ts';

/**
 * One boot-responder figure: brume's value and, measured in the same run
 * with the same client, the peer's. The ratio is always brume / peer; for
 * throughput higher is better, for latency lower is better.
 */
export interface BootFigure {
  measurement: BootMeasurement;
  label: string;
  unit: string;
  brume: number;
  peer?: { name: string; value: number };
  better: 'higher' | 'lower';
  /** A bound on the ratio brume / peer, or on brume's own value. */
  target?: { on: 'ratio' | 'value'; op: '>=' | '<'; value: number };
  note?: string;
}

const number = (n: number) => (!Number.isFinite(n) ? '-' : n >= 100 ? Math.round(n).toLocaleString('en-US') : n >= 10 ? n.toFixed(1) : n.toFixed(2));

export const bootRatio = (f: BootFigure) => (f.peer && f.peer.value > 0 ? f.brume / f.peer.value : undefined);

export const BOOT_TABLE_HEADER = ['Figure', 'brume', 'Peer (same run)', 'brume / peer', 'Target', 'Met'] as const;

function targetText(f: BootFigure): string {
  if (!f.target) return '-';
  return f.target.on === 'ratio' ? `${f.target.op} ${f.target.value}x ${f.peer?.name ?? 'peer'}` : `${f.target.op} ${number(f.target.value)} ${f.unit}`;
}

function metText(f: BootFigure): string {
  if (!f.target) return '-';
  const value = f.target.on === 'ratio' ? bootRatio(f) : f.brume;
  if (value === undefined || !Number.isFinite(value)) return 'no';
  return (f.target.op === '>=' ? value >= f.target.value : value < f.target.value) ? 'yes' : 'no';
}

export const bootTableRows = (figures: readonly BootFigure[]): string[][] =>
  figures.map((f) => {
    const ratio = bootRatio(f);
    return [
      f.label,
      `${number(f.brume)} ${f.unit}`,
      f.peer ? `${f.peer.name}: ${number(f.peer.value)} ${f.unit}` : '-',
      ratio === undefined ? '-' : `${ratio.toFixed(2)}x${f.better === 'lower' ? ' (lower is better)' : ''}`,
      targetText(f),
      metText(f),
    ];
  });
