import type { ComponentChildren } from 'preact';
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { vi } from 'vitest';
import { SessionContext, type Permission, type Session } from '../src/session.ts';

/** What the stubbed API answers: status and JSON body for a method and path (query included). */
export type Answer = { status?: number; body?: unknown };
export type Route = (method: string, url: string, body: string | undefined) => Answer | undefined;

/** Replaces fetch with `route`; unknown calls answer 404. Returns the calls made. */
export function stubApi(route: Route) {
  const calls: { method: string; url: string; body: string | undefined; headers: Record<string, string> }[] = [];
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET';
    const body = typeof init.body === 'string' ? init.body : undefined;
    calls.push({ method, url, body, headers: (init.headers ?? {}) as Record<string, string> });
    const answer = route(method, url, body) ?? { status: 404, body: { error: 'not-found', message: `no ${method} ${url}` } };
    const status = answer.status ?? 200;
    return new Response(answer.body === undefined ? '' : JSON.stringify(answer.body), { status, headers: { 'content-type': 'application/json' } });
  }));
  return calls;
}

export const emptyPage = { items: [], total: 0, nextCursor: null };

/** A signed-in session with these permissions. */
export function sessionWith(permissions: Permission[], role: Session['user']['role'] = 'admin'): Session {
  return {
    user: { id: 'u-1', username: 'alice', role, via: 'session', permissions },
    can: (p) => permissions.includes(p),
    signOut: async () => undefined,
  };
}

/** Renders into a fresh container inside a session; returns the container. */
export async function mount(ui: ComponentChildren, session: Session = sessionWith(['read', 'hosts:write', 'tasks:write', 'catalog:write'])) {
  const container = document.createElement('div');
  document.body.replaceChildren(container);
  await act(async () => { render(<SessionContext.Provider value={session}>{ui}</SessionContext.Provider>, container); });
  await settle();
  return container;
}

/** Lets pending fetches, timers of a few ms and re-renders finish. */
export async function settle(ms = 30) {
  for (let i = 0; i < 3; i++) await act(async () => { await new Promise((r) => setTimeout(r, ms)); });
}

export async function type(input: HTMLInputElement | HTMLTextAreaElement, value: string) {
  await act(async () => {
    input.value = value;
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

export async function click(element: Element | null | undefined) {
  if (!element) throw new Error('nothing to click');
  await act(async () => { (element as HTMLElement).click(); });
  await settle();
}

export const byText = (root: ParentNode, selector: string, text: string | RegExp) =>
  [...root.querySelectorAll(selector)].find((e) => (typeof text === 'string' ? e.textContent?.trim() === text : text.test(e.textContent ?? '')));
