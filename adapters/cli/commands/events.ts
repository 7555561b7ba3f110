import { parse } from '../args.ts';
import { usageError, withBrume } from '../cli-context.ts';
import { queryEvents, tailStart, type EventFilter } from '../../../projections/sql/queries.ts';
import type { RecordedEvent } from '../../../core/shared/event.ts';

export const EVENTS_USAGE = `brume events tail [--follow] [--limit N] [--stream S] [--subject S] [--type T] [--actor A] [--correlation ID] [--json]
  Prints the last N events (default 20), oldest first; --follow keeps printing
  new ones as they commit. --subject host-ID shows everything about one host.`;

/** One line per event: position, time, actor (by username when known), type, stream, and the data. */
export function formatEvent(event: RecordedEvent, usernames: ReadonlyMap<string, string> = new Map()): string {
  const data = JSON.stringify(event.data);
  const actor = usernames.get(event.metadata.actor) ?? event.metadata.actor;
  return `#${event.globalPosition} ${event.occurredAt.toISOString()} ${actor} ${event.type} ${event.streamId}@${event.version} ${data.length > 200 ? `${data.slice(0, 197)}...` : data}`;
}

export async function eventsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    follow: { type: 'boolean', short: 'f' }, limit: { type: 'string' }, stream: { type: 'string' }, subject: { type: 'string' },
    type: { type: 'string' }, actor: { type: 'string' }, correlation: { type: 'string' },
  });
  if (values.help || positionals[0] !== 'tail') {
    console.log(EVENTS_USAGE);
    return values.help ? 0 : 2;
  }
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw usageError('--limit must be a whole number from 1 to 10000');
  const filter: EventFilter = {
    ...(values.stream && { stream: values.stream }), ...(values.subject && { subject: values.subject }),
    ...(values.type && { type: values.type }), ...(values.actor && { actor: values.actor }),
    ...(values.correlation && { correlationId: values.correlation }),
  };
  return withBrume({ ...values, follow: values.follow }, async ({ brume }) => {
    const { db } = brume.database;
    const usernames = new Map((await db.selectFrom('rm_users').select(['user_id', 'username']).execute()).map((u) => [u.user_id, u.username]));
    const print = (e: RecordedEvent) => {
      if (e.type === 'UserCreated') usernames.set((e.data as { userId: string }).userId, (e.data as { username: string }).username);
      console.log(values.json ? JSON.stringify(e) : formatEvent(e, usernames));
    };
    // The last N matching events: find where they start, then read forward in commit-safe order.
    let after = await tailStart(db, filter, limit);
    for (;;) {
      const page = await queryEvents(db, { ...filter, ...(after !== undefined && { after }), limit: 500 });
      page.events.forEach(print);
      if (page.events.length > 0) after = page.events[page.events.length - 1]!.globalPosition;
      if (page.nextAfter === null) break;
    }
    if (!values.follow) return 0;
    let wake: () => void = () => {};
    const stop = await brume.database.listen(() => wake());
    let running = true;
    const quit = () => { running = false; wake(); };
    process.once('SIGINT', quit);
    process.once('SIGTERM', quit);
    try {
      while (running) {
        const page = await queryEvents(db, { ...filter, ...(after !== undefined && { after }), limit: 500 });
        page.events.forEach(print);
        if (page.events.length > 0) after = page.events[page.events.length - 1]!.globalPosition;
        if (page.nextAfter !== null) continue;
        // NOTIFY wakes us at once; the timeout is the safety net.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 2000);
          wake = () => { clearTimeout(timer); resolve(); };
        });
      }
    } finally {
      await stop();
    }
    return 0;
  });
}
