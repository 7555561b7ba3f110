import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Resource<T> {
  /** The last answer; kept while a reload runs, so nothing on screen jumps. */
  data: T | undefined;
  /** The last failure (cleared by the next success). */
  error: unknown;
  loading: boolean;
  reload: () => Promise<void>;
}

/**
 * Loads something from the API and keeps it: reloads keep the previous data
 * on screen, only the newest answer is shown, and `refreshMs` re-reads it
 * in the background while the tab is visible. Changing `key` starts afresh
 * (another host: its data, not the previous one's), unless `keepPrevious`
 * (the next page of a list: the old page stays until the new one arrives).
 *
 * @example
 * const host = useResource(() => apiGet<Host>(`/api/hosts/${id}`), id, { refreshMs: 10_000 });
 */
export function useResource<T>(load: () => Promise<T>, key: string, options: { refreshMs?: number | undefined; keepPrevious?: boolean } = {}): Resource<T> {
  const [state, setState] = useState<{ key: string; data: T | undefined; error: unknown; loading: boolean }>({ key, data: undefined, error: undefined, loading: true });
  const ticket = useRef(0);
  const loader = useRef(load);
  loader.current = load;

  const reload = useCallback(async () => {
    const mine = ++ticket.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await loader.current();
      if (mine === ticket.current) setState({ key, data, error: undefined, loading: false });
    } catch (error) {
      if (mine === ticket.current) setState((s) => ({ ...s, error, loading: false }));
    }
  }, [key]);

  useEffect(() => {
    setState((s) => (s.key === key ? s : { key, data: options.keepPrevious ? s.data : undefined, error: undefined, loading: true }));
    void reload();
    if (!options.refreshMs) return undefined;
    const timer = setInterval(() => { if (!document.hidden) void reload(); }, options.refreshMs);
    return () => clearInterval(timer);
  }, [key, options.refreshMs]);

  const current = state.key === key || options.keepPrevious === true;
  return { data: current ? state.data : undefined, error: current ? state.error : undefined, loading: current ? state.loading : true, reload };
}
