const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86400], ['month', 30 * 86400], ['week', 7 * 86400], ['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1],
];

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const relativeShort = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** "3 minutes ago" for a date, relative to `now`. */
export function relativeTime(date: Date, now = Date.now(), short = false): string {
  const seconds = Math.round((date.getTime() - now) / 1000);
  if (Math.abs(seconds) < 10) return 'just now';
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === 'second') return (short ? relativeShort : relative).format(Math.round(seconds / size), unit);
  }
  return absolute.format(date);
}

export const formatDateTime = (value: string | Date) => absolute.format(typeof value === 'string' ? new Date(value) : value);

/** A moment as "5 minutes ago", the exact date and time on hover and for screen readers' machine-readable value. */
export function RelativeTime({ value, short = false }: { value: string | Date | null | undefined; short?: boolean }) {
  if (!value) return <span class="muted">—</span>;
  const date = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) return <span>{String(value)}</span>;
  return <time dateTime={date.toISOString()} title={absolute.format(date)}>{relativeTime(date, Date.now(), short)}</time>;
}
