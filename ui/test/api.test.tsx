import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api, apiGet } from '../src/api.ts';
import { stubApi } from './registry-test-kit.tsx';

describe('the API client', () => {
  afterEach(() => { vi.unstubAllGlobals(); });

  it('fills path parameters (encoded) and leaves empty query parameters out', async () => {
    const calls = stubApi(() => ({ body: { events: [], nextAfter: null } }));
    await apiGet('/api/hosts/{id}/as-of', { params: { id: 'a b/c' }, query: { at: '2025-05-01T08:00:00Z' } });
    await apiGet('/api/events', { query: { subject: 'host-1', type: undefined, limit: 50 } });
    expect(calls.map((c) => c.url)).toEqual([
      '/api/hosts/a%20b%2Fc/as-of?at=2025-05-01T08%3A00%3A00Z',
      '/api/events?subject=host-1&limit=50',
    ]);
  });

  it('sends a body as JSON with its headers', async () => {
    const calls = stubApi(() => ({ body: { id: 'h-1' } }));
    await api('PATCH', '/api/hosts/{id}', { params: { id: 'h-1' }, body: { ip: null }, headers: { 'if-match': '"3"' } });
    expect(calls[0]).toMatchObject({ method: 'PATCH', url: '/api/hosts/h-1', body: '{"ip":null}', headers: { 'if-match': '"3"', 'content-type': 'application/json' } });
  });

  it('turns an error answer into an ApiError with the API\'s fields', async () => {
    stubApi(() => ({ status: 409, body: { error: 'conflict', message: 'the host changed meanwhile', field: 'name', currentVersion: 4 } }));
    const failure = await api('DELETE', '/api/hosts/{id}', { params: { id: 'h-1' } }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure).toMatchObject({ status: 409, code: 'conflict', message: 'the host changed meanwhile', field: 'name', currentVersion: 4 });
  });

  it('reports a 202 (recorded, not readable yet) as an ApiError rather than a resource without its fields', async () => {
    stubApi(() => ({ status: 202, body: { hostId: 'h-1', version: 1, pending: true, message: 'recorded; it will show in a moment' } }));
    const failure = await api('POST', '/api/hosts', { body: { name: 'pc-1', macs: ['00:11:22:33:44:55'] } }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ status: 202, code: 'pending', message: 'recorded; it will show in a moment' });
  });
});
