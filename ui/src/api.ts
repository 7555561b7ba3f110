import type { paths } from './generated/api-schema.ts';

/**
 * The one way the dashboard talks to brume: the same HTTP API scripts use
 * (nothing the UI does that the API cannot), with the session cookie.
 * Paths, path parameters, query parameters and answers are typed from the
 * API's own OpenAPI document (generated/api-schema.ts, made by
 * `npm run typecheck` / `npm run build:ui`), so a call names a path the API
 * has and gets the answer the API documents.
 * Errors arrive as ApiError carrying the API's { error, message, field }.
 */

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string, readonly currentVersion?: number) {
    super(message);
  }
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Path = keyof paths;
type Operation<P extends Path, M extends Method> = paths[P][Lowercase<M> & keyof paths[P]];

/** The API's paths that answer `method`, as the OpenAPI document writes them (`/api/hosts/{id}`). */
export type PathOf<M extends Method> = { [P in Path]: Operation<P, M> extends { responses: object } ? P : never }[Path];

type Responses<P extends Path, M extends Method> = Operation<P, M> extends { responses: infer R } ? R : never;
type Body<R> = R extends { content: infer C } ? C[keyof C] : undefined;

/**
 * What a call resolves to: the body of its 200, 201 or 206 answer, or
 * undefined for a 204. A 202 (recorded, not readable yet) is an ApiError.
 */
export type Answer<P extends Path, M extends Method> = P extends Path ? {
  [S in keyof Responses<P, M>]: S extends 200 | 201 | 206 ? Body<Responses<P, M>[S]> : S extends 204 ? undefined : never;
}[keyof Responses<P, M>] : never;

type Parameters<P extends Path, M extends Method> = Operation<P, M> extends { parameters: infer T } ? T : never;
/** The `{id}`s of a path. */
type PathParams<P extends Path, M extends Method> = Parameters<P, M> extends { path: infer T } ? T : never;
/** A path's query parameters. */
export type QueryOf<P extends Path, M extends Method = 'GET'> = Parameters<P, M> extends { query?: infer Q } ? NonNullable<Q> : never;

/** What a path takes as its body, as the OpenAPI document describes it (JSON, or the CSV text of the import); never where it takes none. */
export type BodyOf<P extends Path, M extends Method> = Operation<P, M> extends { requestBody?: infer B }
  ? ([NonNullable<B>] extends [never] ? never : NonNullable<B> extends { content: infer C } ? C[keyof C] : never)
  : never;

export type RequestOptions<P extends Path, M extends Method> = {
  query?: QueryOf<P, M>;
  body?: BodyOf<P, M>;
  headers?: Record<string, string>;
} & ([PathParams<P, M>] extends [never] ? { params?: never } : { params: PathParams<P, M> });

/** `options` may be left out only where the path has no `{parameter}`. */
type OptionsArgument<P extends Path, M extends Method> = [PathParams<P, M>] extends [never]
  ? [options?: RequestOptions<P, M>]
  : [options: RequestOptions<P, M>];

function urlOf(path: string, params: Record<string, unknown> | undefined, query: Record<string, unknown> | undefined): string {
  const filled = path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined || value === null) throw new Error(`${path}: no value for {${name}}`);
    return encodeURIComponent(String(value));
  });
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `${filled}?${text}` : filled;
}

/**
 * @example
 * const hosts = await api('GET', '/api/hosts', { query: { q: 'lab', limit: 50 } });
 * const saved = await api('PATCH', '/api/hosts/{id}', { params: { id }, body: { ip: null }, headers: { 'if-match': '"3"' } });
 */
export async function api<M extends Method, P extends PathOf<M>>(method: M, path: P, ...[options]: OptionsArgument<P, M>): Promise<Answer<P, M>> {
  const { params, query, body: content, headers: extra } = (options ?? {}) as {
    params?: Record<string, unknown>; query?: Record<string, unknown>; body?: unknown; headers?: Record<string, string>;
  };
  const headers: Record<string, string> = { ...extra };
  let body: string | undefined;
  if (content !== undefined) {
    body = typeof content === 'string' ? content : JSON.stringify(content);
    headers['content-type'] ??= 'application/json';
  }
  const url = urlOf(path, params, query);
  const response = await fetch(url, { method, headers, body, credentials: 'same-origin' });
  const text = await response.text();
  let parsed: any;
  try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
  if (!response.ok) {
    throw new ApiError(response.status, parsed?.error ?? 'error', parsed?.message ?? `${method} ${url}: HTTP ${response.status}`, parsed?.field, parsed?.currentVersion);
  }
  // Recorded, but the read models had not caught up: there is nothing to show yet (reading it again in a moment will).
  if (response.status === 202 && parsed?.pending === true) throw new ApiError(202, 'pending', parsed.message ?? 'recorded; it will show in a moment');
  return parsed as Answer<P, M>;
}

/**
 * @example
 * const host = await apiGet('/api/hosts/{id}', { params: { id } });
 * const page = await apiGet('/api/tasks', { query: { state: 'active', limit: 100 } });
 */
export const apiGet = <P extends PathOf<'GET'>>(path: P, ...options: OptionsArgument<P, 'GET'>): Promise<Answer<P, 'GET'>> =>
  api('GET', path, ...options);
