import { markdownTable } from '../figures.ts';

export type ImagingMeasurement = 'imaging';
export const IMAGING_MEASUREMENTS: readonly ImagingMeasurement[] = ['imaging'];

/** A bound on the ratio brume / peer, or on brume's own value. */
export interface ImagingTarget {
  on: 'ratio' | 'value';
  op: '>=' | '<';
  value: number;
}

/**
 * One imaging figure: brume's value and, measured in the same run on the
 * same bytes, the peer's (sha256sum for capture, nginx for deploy). The
 * ratio is always brume / peer.
 */
export interface ImagingFigure {
  label: string;
  unit: string;
  brume: number;
  peer?: { name: string; value: number };
  better: 'higher' | 'lower';
  targets?: ImagingTarget[];
  note?: string;
}

const number = (n: number) => (!Number.isFinite(n) ? '-' : n >= 100 ? Math.round(n).toLocaleString('en-US') : n >= 10 ? n.toFixed(1) : n.toFixed(2));

export const imagingRatio = (f: ImagingFigure) => (f.peer && f.peer.value > 0 ? f.brume / f.peer.value : undefined);

export const IMAGING_TABLE_HEADER = ['Figure', 'brume', 'Peer (same run)', 'brume / peer', 'Target', 'Met'] as const;

function targetText(f: ImagingFigure, t: ImagingTarget): string {
  return t.on === 'ratio' ? `${t.op} ${t.value}x ${f.peer?.name ?? 'peer'}` : `${t.op} ${number(t.value)} ${f.unit}`;
}

function met(f: ImagingFigure, t: ImagingTarget): boolean {
  const value = t.on === 'ratio' ? imagingRatio(f) : f.brume;
  if (value === undefined || !Number.isFinite(value)) return false;
  return t.op === '>=' ? value >= t.value : value < t.value;
}

export const imagingTableRows = (figures: readonly ImagingFigure[]): string[][] =>
  figures.map((f) => {
    const ratio = imagingRatio(f);
    const targets = f.targets ?? [];
    return [
      f.label,
      `${number(f.brume)} ${f.unit}`,
      f.peer ? `${f.peer.name}: ${number(f.peer.value)} ${f.unit}` : '-',
      ratio === undefined ? '-' : `${ratio.toFixed(2)}x${f.better === 'lower' ? ' (lower is better)' : ''}`,
      targets.length ? targets.map((t) => targetText(f, t)).join('; ') : '-',
      targets.length ? targets.map((t) => (met(f, t) ? 'yes' : 'no')).join('; ') : '-',
    ];
  });

export const IMAGING_START = '<!-- imaging-figures:start (written by `npm run bench -- --only=imaging --write`; edit the text around it, not inside) -->';
export const IMAGING_END = '<!-- imaging-figures:end -->';

/** What the imaging figures were measured on. */
export interface ImagingMachine {
  line: string;
  peers: string;
  disk: string;
  load: string;
  date: string;
}

/** The imaging section: command, machine, the table with ratios, the notes behind the rows. */
export function imagingFiguresSection(command: string, machine: ImagingMachine, figures: readonly ImagingFigure[], extraNotes: readonly string[]): string {
  const notes = [...figures.filter((f) => f.note).map((f) => `- ${f.label}: ${f.note}`), ...extraNotes.map((n) => `- ${n}`)];
  return [
    IMAGING_START,
    '',
    `Command: \`${command}\`  `,
    `Machine: ${machine.line}  `,
    `Disk: ${machine.disk}  `,
    `Peers: ${machine.peers}  `,
    `Load: ${machine.load}  `,
    `Date: ${machine.date}`,
    '',
    markdownTable([[...IMAGING_TABLE_HEADER], ...imagingTableRows(figures)]),
    '',
    ...(notes.length ? ['Notes:', '', ...notes, ''] : []),
    IMAGING_END,
  ].join('\n');
}
