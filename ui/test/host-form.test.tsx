import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Host } from '../src/components/registry-types.ts';
import { HostForm, hostBody } from '../src/pages/host-form.tsx';
import { byText, click, emptyPage, mount, settle, stubApi, type } from './registry-test-kit.tsx';

const host: Host = {
  id: 'h1', name: 'lab-01', description: '', primaryMac: '00:c0:4f:18:62:63',
  macs: [{ mac: '00:c0:4f:18:62:63', role: 'primary', ignoreForImaging: false }],
  ip: null, imageId: null, storageNodeId: null, site: null, groupIds: ['g1'], inventory: null,
  activeTaskId: null, lastTaskId: null, deployed: null, createdAt: '2025-01-01T00:00:00Z', updatedAt: '2025-01-01T00:00:00Z', version: 3,
};

const catalogs = (method: string, url: string) => {
  if (method === 'GET' && /^\/api\/(images|storage-nodes|task-types)$/.test(url)) return { body: emptyPage };
  if (method === 'GET' && url === '/api/groups') return { body: { items: [{ id: 'g1', name: 'lab' }, { id: 'g2', name: 'library' }], total: 2, nextCursor: null } };
  return undefined;
};

afterEach(() => { vi.unstubAllGlobals(); });

describe('hostBody', () => {
  it('sends only what changed on an edit, groups compared as a set', () => {
    const draft = { name: 'lab-01', description: '', macs: [{ key: 1, mac: '00:c0:4f:18:62:63', role: 'primary' as const, ignoreForImaging: false }], ip: '192.0.2.9', imageId: '', storageNodeId: '', site: '', groupIds: ['g1'] };
    expect(hostBody(draft, host)).toEqual({ ip: '192.0.2.9' });
  });

  it('sends every field for a new host, empty ones as null and no empty description', () => {
    const draft = { name: ' pc-1 ', description: '', macs: [{ key: 1, mac: 'aabb.ccdd.eeff', role: 'primary' as const, ignoreForImaging: false }], ip: '', imageId: '', storageNodeId: '', site: '', groupIds: [] };
    expect(hostBody(draft)).toEqual({ name: 'pc-1', macs: [{ mac: 'aabb.ccdd.eeff', role: 'primary', ignoreForImaging: false }], ip: null, imageId: null, storageNodeId: null, site: null, groupIds: [] });
  });
});

describe('HostForm', () => {
  it('shows a 400 next to the input its field names, and focuses it', async () => {
    const calls = stubApi((method, url) => catalogs(method, url)
      ?? (method === 'PATCH' ? { status: 400, body: { error: 'validation', message: 'host name "a b" may only hold letters', field: 'name' } } : undefined));
    const root = await mount(<HostForm host={host} onSaved={() => undefined} onCancel={() => undefined} />);
    await type(root.querySelector<HTMLInputElement>('#host-name')!, 'a b');
    await click(byText(root, 'button', 'Save changes'));
    const patch = calls.find((c) => c.method === 'PATCH')!;
    expect(JSON.parse(patch.body!)).toEqual({ name: 'a b' });
    expect(patch.headers['if-match']).toBe('"3"');
    expect(root.querySelector('#host-name-error')?.textContent).toContain('may only hold letters');
    expect(root.querySelector('#host-name')?.getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement?.id).toBe('host-name');
    expect(root.querySelector('.error-box')).toBeNull();
  });

  it('puts a MAC error on its row', async () => {
    stubApi((method, url) => catalogs(method, url)
      ?? (method === 'POST' ? { status: 400, body: { error: 'validation', message: '"zz" is not a MAC address', field: 'macs[1]' } } : undefined));
    const root = await mount(<HostForm onSaved={() => undefined} onCancel={() => undefined} />);
    await type(root.querySelector<HTMLInputElement>('#host-name')!, 'pc-1');
    await type(root.querySelector<HTMLInputElement>('#host-macs-0')!, '00:11:22:33:44:55');
    await click(byText(root, 'button', 'Add a MAC'));
    await type(root.querySelector<HTMLInputElement>('#host-macs-1')!, 'zz');
    await click(byText(root, 'button', 'Register host'));
    expect(root.querySelector('#host-macs-1-error')?.textContent).toContain('not a MAC');
    expect(root.querySelector('#host-macs-0-error')).toBeNull();
  });

  it('offers a reload after a 409 with currentVersion', async () => {
    stubApi((method, url) => catalogs(method, url)
      ?? (method === 'PATCH' ? { status: 409, body: { error: 'conflict', message: 'changed since you read it', currentVersion: 4 } } : undefined));
    const onReload = vi.fn();
    const root = await mount(<HostForm host={host} onSaved={() => undefined} onCancel={() => undefined} onReload={onReload} />);
    await type(root.querySelector<HTMLInputElement>('#host-ip')!, '192.0.2.1');
    await click(byText(root, 'button', 'Save changes'));
    expect(root.querySelector('.error-box')?.textContent).toMatch(/changed this host meanwhile.*version 4/);
    await click(byText(root, 'button', 'Reload the current version'));
    expect(onReload).toHaveBeenCalledOnce();
  });

  it('keeps one primary MAC: choosing another demotes the old one', async () => {
    stubApi(catalogs);
    const root = await mount(<HostForm onSaved={() => undefined} onCancel={() => undefined} />);
    await click(byText(root, 'button', 'Add a MAC'));
    const second = root.querySelector<HTMLSelectElement>('#host-macs-1-role')!;
    second.value = 'primary';
    second.dispatchEvent(new Event('change', { bubbles: true }));
    await settle();
    expect(root.querySelector<HTMLSelectElement>('#host-macs-0-role')!.value).toBe('additional');
  });
});
