import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.ts';
import { messageOf } from './components/error-message.tsx';
import type { HistoryEvent, LiveProgress, StreamProgress, StreamSignedOut } from './components/registry-types.ts';

/**
 * The dashboard's live feed: one EventSource on /api/stream shared by every
 * component that listens, opened while anyone does. The server sends the
 * log's events once the read models have them (so a list refetched on an
 * event shows the change), the live progress of running tasks every
 * second, and ids that let the browser resume where it stopped.
 */

/** An event of the log as /api/stream and /api/events show it. */
export type LiveEvent = HistoryEvent;

/** A running task's freshest report (the stream's `progress` events). */
export type { LiveProgress };

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface LiveState {
  status: LiveStatus;
  /** Why the feed is offline, in the API's words. */
  error: string | null;
  /** The latest events, newest last (at most RECENT). */
  recent: readonly LiveEvent[];
  progress: ReadonlyMap<string, LiveProgress>;
}

/** Which events a listener wants: event types, or a test. */
export type LiveMatch = readonly string[] | ((event: LiveEvent) => boolean);

/** A listener gets each matching event, and `null` when it may have missed some (resync: reload everything). */
type Listener = (event: LiveEvent | null) => void;

const RECENT = 50;
/** Dispatched on window when the server ends the feed because the session is over: the app goes back to sign-in. */
export const SIGNED_OUT_EVENT = 'brume:signed-out';
const MAX_BACKOFF_MS = 30_000;
/** The feed stays open this long after its last user leaves, so moving between pages does not reconnect. */
const LINGER_MS = 10_000;

class LiveFeed {
  state: LiveState = { status: 'connecting', error: null, recent: [], progress: new Map() };
  private source: EventSource | null = null;
  private lastId: string | null = null;
  private users = 0;
  private backoffMs = 1000;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private lingerTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly listeners = new Set<Listener>();
  private readonly watchers = new Set<() => void>();

  /** Counts a user in; the returned function counts it out. */
  use(): () => void {
    this.users++;
    clearTimeout(this.lingerTimer);
    if (!this.source && this.retryTimer === undefined) this.connect();
    return () => {
      this.users--;
      if (this.users === 0) this.lingerTimer = setTimeout(() => this.disconnect(), LINGER_MS);
    };
  }

  listen(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  watch(watcher: () => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  private set(change: Partial<LiveState>): void {
    this.state = { ...this.state, ...change };
    for (const watcher of this.watchers) watcher();
  }

  private connect(): void {
    this.retryTimer = undefined;
    // The browser resumes by itself after a dropped connection; after a refusal it gives up, and a new source resumes by `after`.
    const url = this.lastId === null ? '/api/stream' : `/api/stream?after=${encodeURIComponent(this.lastId)}`;
    const source = new EventSource(url, { withCredentials: true });
    this.source = source;
    if (this.state.status !== 'connecting') this.set({ status: 'reconnecting' });
    source.addEventListener('ready', (e) => {
      // A feed that starts from now cannot know what changed before it: whoever loaded data first reloads it.
      const fresh = this.lastId === null;
      this.remember(e as MessageEvent);
      this.backoffMs = 1000;
      this.set({ status: 'live', error: null });
      if (fresh) this.resync();
    });
    source.addEventListener('brume', (e) => {
      const message = e as MessageEvent<string>;
      this.remember(message);
      const event = JSON.parse(message.data) as LiveEvent;
      this.set({ recent: [...this.state.recent.slice(-(RECENT - 1)), event] });
      for (const listener of this.listeners) listener(event);
    });
    source.addEventListener('progress', (e) => {
      const { items } = JSON.parse((e as MessageEvent<string>).data) as StreamProgress;
      this.set({ progress: new Map(items.map((item) => [item.taskId, item])) });
    });
    source.addEventListener('signed-out', (e) => {
      // Signed out elsewhere, expired, or access changed: reconnecting would only be refused.
      const { message } = JSON.parse((e as MessageEvent<string>).data) as StreamSignedOut;
      source.close();
      this.source = null;
      this.set({ status: 'offline', error: message, progress: new Map() });
      window.dispatchEvent(new CustomEvent(SIGNED_OUT_EVENT, { detail: message }));
    });
    source.addEventListener('reset', (e) => {
      this.remember(e as MessageEvent);
      this.resync();
    });
    source.onerror = () => {
      if (source.readyState === EventSource.CONNECTING) {
        this.set({ status: 'reconnecting' });
        return;
      }
      // Refused (signed out, forbidden, too many streams) or broken: ask the API why, then try again later.
      source.close();
      this.source = null;
      void this.explain();
      if (this.users > 0) {
        this.retryTimer = setTimeout(() => this.connect(), this.backoffMs);
        this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
      }
    };
  }

  private resync(): void {
    for (const listener of this.listeners) listener(null);
  }

  private remember(event: MessageEvent): void {
    if (event.lastEventId) this.lastId = event.lastEventId;
  }

  /** Asks once, without streaming, what the API says about /api/stream, and shows it. */
  private async explain(): Promise<void> {
    try {
      await api('GET', '/api/stream', { headers: { 'x-brume-stream': 'once' } });
      this.set({ status: 'reconnecting', error: null });
    } catch (error) {
      this.set({ status: 'offline', error: messageOf(error) });
    }
  }

  private disconnect(): void {
    this.source?.close();
    this.source = null;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.set({ status: 'connecting', error: null, progress: new Map() });
  }
}

const feed = new LiveFeed();

/**
 * The live feed's state: whether it is connected, the latest events and
 * the running tasks' progress. Re-renders on every change (progress comes
 * every second), so use it where that is shown.
 *
 * @example
 * const live = useLive();
 * const progress = live.progress.get(task.id);
 */
export function useLive(): LiveState {
  const [state, setState] = useState(feed.state);
  useEffect(() => {
    const stopWatching = feed.watch(() => setState(feed.state));
    const release = feed.use();
    setState(feed.state);
    return () => { stopWatching(); release(); };
  }, []);
  return state;
}

/**
 * Calls `onEvent` for every live event that matches (types, or a test),
 * and with `null` when events may have been missed (reload everything).
 *
 * @example
 * useLiveEvents(['TaskFailed'], () => failures.reload());
 */
export function useLiveEvents(match: LiveMatch, onEvent: (event: LiveEvent | null) => void): void {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const test = useRef(match);
  test.current = match;
  useEffect(() => {
    const release = feed.use();
    const stop = feed.listen((event) => {
      const wanted = test.current;
      if (event === null || (typeof wanted === 'function' ? wanted(event) : wanted.includes(event.type))) handler.current(event);
    });
    return () => { stop(); release(); };
  }, []);
}

/**
 * Reloads something when matching events arrive, at most once per
 * `delayMs` (a burst of events is one reload), and after a resync.
 *
 * @example
 * useLiveRefresh((e) => e.streamType === 'task', tasks.reload);
 */
export function useLiveRefresh(match: LiveMatch, reload: () => unknown, delayMs = 400): void {
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const latest = useRef(reload);
  latest.current = reload;
  useEffect(() => () => clearTimeout(timer.current), []);
  useLiveEvents(match, () => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      void latest.current();
    }, delayMs);
  });
}
