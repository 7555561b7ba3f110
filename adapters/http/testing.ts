import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import type { Role } from '../../core/users/user.ts';
import { SYSTEM_ACTOR } from '../../core/shared/event.ts';
import { commandMeta, openBrume, type Brume } from '../runtime/brume.ts';
import type { ImagingConfig } from '../imaging/imaging-config.ts';
import { buildApp } from './app.ts';
import { settleReads } from './command.ts';
import type { HttpConfig } from './context.ts';

/**
 * Drives the API in-process (app.inject) on a fresh brume with one user
 * per role, each holding an API token. For the API's tests and for scripts
 * that want a throwaway server; never used by `brume serve`.
 */

export type Who = Role | 'anonymous';
export const ROLES_AND_ANONYMOUS: readonly Who[] = ['anonymous', 'auditor', 'operator', 'admin'];
export const PASSWORDS: Record<Role, string> = {
  admin: 'admin-password-1', operator: 'operator-password-1', auditor: 'auditor-password-1',
};

/** Strict responses: every answer a test receives has been checked against its documented schema (strict-responses.ts). */
export const TEST_HTTP_CONFIG: HttpConfig = { httpHost: '127.0.0.1', httpPort: 0, logLevel: 'silent', sessionTtlSeconds: 3600, strictResponses: true };

export interface ApiResponse {
  status: number;
  /** The parsed JSON body (undefined when empty or not JSON). */
  body: any;
  text: string;
  headers: Record<string, string | string[] | number | undefined>;
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Parameters left undefined are not sent. */
  query?: Record<string, string | number | boolean | undefined>;
}

export interface ApiClient {
  request(method: string, url: string, options?: RequestOptions): Promise<ApiResponse>;
  get(url: string, query?: RequestOptions['query']): Promise<ApiResponse>;
  post(url: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  patch(url: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  delete(url: string, headers?: Record<string, string>): Promise<ApiResponse>;
}

export interface HarnessRoute {
  method: string;
  url: string;
  schema: FastifySchema | undefined;
}

export interface ApiHarness {
  brume: Brume;
  app: FastifyInstance;
  /** Every route the app registered, with its schema (the response schemas among it). */
  routes: HarnessRoute[];
  userIds: Record<Role, string>;
  tokens: Record<Role, string>;
  as(who: Who, extraHeaders?: Record<string, string>): ApiClient;
  close(): Promise<void>;
}

export function clientFor(app: FastifyInstance, baseHeaders: Record<string, string> = {}): ApiClient {
  async function request(method: string, url: string, options: RequestOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...baseHeaders, ...options.headers };
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const query = options.query ? Object.fromEntries(Object.entries(options.query).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)])) : undefined;
    const response = await app.inject({
      method: method as 'GET', url, headers, ...(payload !== undefined ? { payload } : {}), ...(query ? { query } : {}),
    });
    let body: unknown;
    try {
      body = response.body ? JSON.parse(response.body) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.statusCode, body, text: response.body, headers: response.headers };
  }
  return {
    request,
    get: (url, query) => request('GET', url, query ? { query } : {}),
    post: (url, body, headers) => request('POST', url, { body, ...(headers ? { headers } : {}) }),
    patch: (url, body, headers) => request('PATCH', url, { body, ...(headers ? { headers } : {}) }),
    delete: (url, headers) => request('DELETE', url, headers ? { headers } : {}),
  };
}

export interface HarnessDatabase {
  /** A PostgreSQL database to use; in-memory PGlite when absent. */
  url?: string | undefined;
  /** Called by close(), after brume has closed (e.g. to drop the database). */
  dispose?: () => Promise<void>;
  /** Settings beyond TEST_HTTP_CONFIG (e.g. the boot routes' files directory). */
  http?: Partial<HttpConfig>;
  /** Image store and queue settings (tests that move images give their own directory). */
  imaging?: ImagingConfig;
}

/** A fresh brume (in-memory PGlite, or the given PostgreSQL database) behind the API. */
export async function openApiHarness(database: HarnessDatabase = {}): Promise<ApiHarness> {
  const brume = await openBrume({ databaseUrl: database.url, ...(database.imaging ? { imaging: database.imaging } : {}) });
  try {
    const userIds = {} as Record<Role, string>;
    for (const role of ['admin', 'operator', 'auditor'] as const) {
      const actor = role === 'admin' ? SYSTEM_ACTOR : userIds.admin;
      const created = await brume.commands.users.create(commandMeta(actor), { username: role, role, password: PASSWORDS[role] });
      if (!created.ok) throw new Error(`cannot create the test ${role}: ${created.error.message}`);
      await settleReads(brume, created.position);
      userIds[role] = created.value.userId;
    }
    const tokens = {} as Record<Role, string>;
    for (const role of ['admin', 'operator', 'auditor'] as const) {
      tokens[role] = await brume.credentials.createToken(userIds[role], `test-${role}`, 'tests', null);
    }
    const routes: HarnessRoute[] = [];
    const onRoute = (route: RouteOptions) => {
      for (const method of [route.method].flat()) routes.push({ method, url: route.url, schema: route.schema });
    };
    const app = buildApp(brume, { ...TEST_HTTP_CONFIG, ...database.http }, { onRoute });
    await app.ready();
    return {
      brume, app, routes, userIds, tokens,
      as: (who, extraHeaders = {}) =>
        clientFor(app, who === 'anonymous' ? extraHeaders : { authorization: `Bearer ${tokens[who]}`, ...extraHeaders }),
      async close() {
        await app.close();
        await brume.close();
        await database.dispose?.();
      },
    };
  } catch (error) {
    await brume.close();
    await database.dispose?.();
    throw error;
  }
}
