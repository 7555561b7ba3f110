import { afterEach, describe, expect, it, vi } from 'vitest';
import { HostsPage } from '../src/pages/hosts-page.tsx';
import { emptyPage, mount, sessionWith, settle, stubApi, type } from './registry-test-kit.tsx';

afterEach(() => { vi.unstubAllGlobals(); });

const host = (name: string) => ({ id: `id-${name}`, name, primaryMac: '00:11:22:33:44:55', ip: '192.0.2.1', imageId: null, activeTaskId: null, groupIds: [], macs: [], deployed: null });
const route = { path: ['hosts'], query: new URLSearchParams() };

describe('HostsPage list', () => {
  it('searches as you type, one request per pause, and shows the count', async () => {
    const calls = stubApi((method, url) => {
      if (url.startsWith('/api/hosts')) {
        const q = new URL(url, 'http://x').searchParams.get('q');
        return { body: { items: q ? [host('lab-01')] : [host('lab-01'), host('lab-02')], total: q ? 1 : 2, nextCursor: null } };
      }
      return url.startsWith('/api/') ? { body: emptyPage } : undefined;
    });
    const root = await mount(<HostsPage route={route} />);
    await settle(100);
    expect(root.querySelector('#host-count')!.textContent).toBe('2 hosts');
    const search = root.querySelector<HTMLInputElement>('input[type=search]')!;
    await type(search, 'l');
    await type(search, 'la');
    await type(search, '00-11-22');
    await settle(100);
    const searches = calls.filter((c) => c.url.startsWith('/api/hosts?') && c.url.includes('q='));
    expect(searches.map((c) => new URL(c.url, 'http://x').searchParams.get('q'))).toEqual(['00-11-22']);
    expect(root.querySelector('#host-count')!.textContent).toBe('1 host match');
    expect(root.querySelectorAll('tbody a.row-link')).toHaveLength(1);
  });

  it('offers register and import only to roles that may write hosts', async () => {
    stubApi((_method, url) => (url.startsWith('/api/') ? { body: emptyPage } : undefined));
    const auditor = await mount(<HostsPage route={route} />, sessionWith(['read'], 'auditor'));
    expect(auditor.textContent).not.toContain('Register a host');
    const operator = await mount(<HostsPage route={route} />, sessionWith(['read', 'hosts:write'], 'operator'));
    expect(operator.textContent).toContain('Register a host');
    expect(operator.textContent).toContain('Import CSV');
  });
});
