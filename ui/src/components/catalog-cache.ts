import { useEffect, useMemo, useState } from 'preact/hooks';
import { apiGet } from '../api.ts';

/**
 * The small lists every registry page needs to name things (an image's name
 * for a host's imageId, the groups to pick from): read once, shared by all
 * pages, read again after a page changes one (`invalidateCatalog`).
 */
const LISTS = {
  images: () => apiGet('/api/images'),
  groups: () => apiGet('/api/groups'),
  'storage-nodes': () => apiGet('/api/storage-nodes'),
  'task-types': () => apiGet('/api/task-types'),
};
type Kind = keyof typeof LISTS;
/** An item of each list, as the API answers it. */
type Catalogs = { [K in Kind]: Awaited<ReturnType<(typeof LISTS)[K]>>['items'][number] };

const cache = new Map<Kind, Promise<unknown[]>>();
const listeners = new Set<() => void>();

function load<K extends Kind>(kind: K): Promise<Catalogs[K][]> {
  let pending = cache.get(kind);
  if (!pending) {
    pending = LISTS[kind]().then((page) => page.items);
    pending.catch(() => cache.delete(kind));
    cache.set(kind, pending);
  }
  return pending as Promise<Catalogs[K][]>;
}

/** Forget a list after changing it; pages showing it read it again. */
export function invalidateCatalog(kind: Kind): void {
  cache.delete(kind);
  for (const listener of listeners) listener();
}

/** One of the catalog lists; undefined until it arrives (and if it cannot be read). */
export function useCatalog<K extends Kind>(kind: K): Catalogs[K][] | undefined {
  const [items, setItems] = useState<Catalogs[K][] | undefined>(undefined);
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    const bump = () => setGeneration((g) => g + 1);
    listeners.add(bump);
    return () => { listeners.delete(bump); };
  }, []);
  useEffect(() => {
    let live = true;
    load(kind).then((list) => { if (live) setItems(list); }, () => undefined);
    return () => { live = false; };
  }, [kind, generation]);
  return items;
}

/** id -> name for one of the lists (empty until it arrives). */
export function useNames(kind: 'images' | 'groups' | 'storage-nodes'): Map<string, string> {
  const items = useCatalog(kind);
  return useMemo(() => new Map((items ?? []).map((i) => [i.id, i.name])), [items]);
}
