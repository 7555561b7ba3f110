/**
 * The one way the dashboard talks to brume: the same HTTP API scripts use
 * (nothing the UI does that the API cannot), with the session cookie.
 * Errors arrive as ApiError carrying the API's { error, message, field }.
 */

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string, readonly currentVersion?: number) {
    super(message);
  }
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
  total?: number;
}

type Query = Record<string, string | number | boolean | null | undefined>;

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/**
 * @example
 * const hosts = await api<Page<Host>>('GET', '/api/hosts', { query: { q: 'lab', limit: 50 } });
 */
export async function api<T>(method: string, path: string, options: { body?: unknown; query?: Query; headers?: Record<string, string> } = {}): Promise<T> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(withQuery(path, options.query), { method, headers, body, credentials: 'same-origin' });
  const text = await response.text();
  let parsed: any;
  try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
  if (!response.ok) {
    throw new ApiError(response.status, parsed?.error ?? 'error', parsed?.message ?? `${method} ${path}: HTTP ${response.status}`, parsed?.field, parsed?.currentVersion);
  }
  return parsed as T;
}

export const apiGet = <T>(path: string, query?: Query) => api<T>('GET', path, { query });
