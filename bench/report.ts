import { readFile, writeFile } from 'node:fs/promises';
import { markdownTable, TABLE_HEADER, tableRows, type Figure } from './figures.ts';
import type { Machine } from './machine.ts';

export const DOC = new URL('../docs/benchmarks.md', import.meta.url);
const START = '<!-- figures:start (written by `npm run bench -- --write`; edit the text around it, not inside) -->';
const END = '<!-- figures:end -->';

/** The figures section: command, machine, date, the table, and the notes behind some rows. */
export function figuresSection(command: string, machine: Machine, figures: readonly Figure[]): string {
  const notes = figures.filter((f) => f.note).map((f) => `- ${f.backend}, ${f.label}: ${f.note}`);
  return [
    START,
    '',
    `Command: \`${command}\`  `,
    `Machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memoryGiB} GiB memory, ${machine.postgres}, Node ${machine.node}  `,
    `Date: ${machine.date}`,
    '',
    markdownTable([[...TABLE_HEADER], ...tableRows(figures)]),
    '',
    ...(notes.length ? ['Notes:', '', ...notes, ''] : []),
    END,
  ].join('\n');
}

/** Replaces the figures section of docs/benchmarks.md, leaving the prose around it alone. */
export async function writeFigures(section: string): Promise<void> {
  await writeSection(START, END, section);
}

/** Replaces the text from `start` to `end` (markers included; `section` carries them) in docs/benchmarks.md. */
export async function writeSection(start: string, end: string, section: string): Promise<void> {
  const doc = await readFile(DOC, 'utf8').catch(() => `# Benchmarks\n\n${start}\n${end}\n`);
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${DOC.pathname} has no markers for this section; add\n${start}\n${end}`);
  await writeFile(DOC, doc.slice(0, from) + section + doc.slice(to + end.length));
}
