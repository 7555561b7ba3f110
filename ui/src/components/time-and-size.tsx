/** Dates, durations and sizes as the tasks, history and users pages show them. */

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** A moment: the local date and time, the exact ISO time on hover and for screen readers' `datetime`. */
const shortThisYear = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const shortOtherYear = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

/** `compact`: to the minute, without this year (tables); the full moment stays on hover. */
export function When({ at, fallback = '—', compact = false }: { at: string | Date | null | undefined; fallback?: string; compact?: boolean }) {
  if (!at) return <span>{fallback}</span>;
  const date = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(date.getTime())) return <span>{String(at)}</span>;
  const format = !compact ? dateTime : date.getFullYear() === new Date().getFullYear() ? shortThisYear : shortOtherYear;
  return <time dateTime={date.toISOString()} title={`${dateTime.format(date)} (${date.toISOString()})`}>{format.format(date)}</time>;
}

/** One way to show sizes everywhere (binary units, as disk tools show them). */
export { formatBytes } from './format-bytes.ts';

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return `${m} min ${String(rest).padStart(2, '0')} s`;
  return `${rest} s`;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** An ISO time as a datetime-local input's value (local time, to the millisecond when it has one). */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const base = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return d.getMilliseconds() ? `${base}.${pad(d.getMilliseconds(), 3)}` : base;
}

/** A datetime-local input's value (local time) as an ISO time; '' when empty or unreadable. */
export function fromLocalInput(value: string): string {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

/** A date input's day (YYYY-MM-DD, local) as the ISO time of its start; `nextDay` for the start of the day after. */
export function dayStart(day: string, nextDay = false): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return undefined;
  const d = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + (nextDay ? 1 : 0));
  return d.toISOString();
}
