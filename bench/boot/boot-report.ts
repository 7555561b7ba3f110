import { markdownTable } from '../figures.ts';
import { BOOT_TABLE_HEADER, bootTableRows, type BootFigure } from './boot-figures.ts';

export const BOOT_START = '<!-- boot-figures:start (written by `npm run bench -- --only=dhcp,tftp,script --write`; edit the text around it, not inside) -->';
export const BOOT_END = '<!-- boot-figures:end -->';

/** What the boot-responder figures were measured on and how busy it was. */
export interface BootMachine {
  line: string;
  peers: string;
  load: string;
  date: string;
}

/** The boot responders' figures section: command, machine, the table with ratios, the notes behind the rows. */
export function bootFiguresSection(command: string, machine: BootMachine, figures: readonly BootFigure[], extraNotes: readonly string[]): string {
  const notes = [...figures.filter((f) => f.note).map((f) => `- ${f.label}: ${f.note}`), ...extraNotes.map((n) => `- ${n}`)];
  return [
    BOOT_START,
    '',
    `Command: \`${command}\`  `,
    `Machine: ${machine.line}  `,
    `Peers: ${machine.peers}  `,
    `Load: ${machine.load}  `,
    `Date: ${machine.date}`,
    '',
    markdownTable([[...BOOT_TABLE_HEADER], ...bootTableRows(figures)]),
    '',
    ...(notes.length ? ['Notes:', '', ...notes, ''] : []),
    BOOT_END,
  ].join('\n');
}
