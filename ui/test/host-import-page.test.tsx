import { afterEach, describe, expect, it, vi } from 'vitest';
import { HostImportPage, sourceLines } from '../src/pages/host-import-page.tsx';
import { byText, click, mount, sessionWith, stubApi, type } from './registry-test-kit.tsx';

afterEach(() => { vi.unstubAllGlobals(); });

const CSV = '"00:11:22:33:44:01","pc-1","","","",""\r\n"zz","pc-2","","","",""\r\n';

function importApi() {
  return stubApi((method, url) => {
    if (method !== 'POST' || !url.startsWith('/api/hosts/import')) return undefined;
    const dryRun = url.includes('dryRun=true');
    return {
      status: dryRun ? 200 : 201,
      body: { dryRun, imported: [{ line: 1, hostId: 'h-1', name: 'pc-1', mac: '00:11:22:33:44:01' }], rejected: [{ line: 2, reason: '"zz" is not a MAC address' }] },
    };
  });
}

describe('HostImportPage', () => {
  it('checks first (dry run), shows each line with its reason, then imports the same text', async () => {
    const calls = importApi();
    const root = await mount(<HostImportPage />);
    const importButton = () => byText(root, 'button', /^Import/) as HTMLButtonElement;
    await type(root.querySelector('textarea')!, CSV);
    expect(importButton().disabled).toBe(true);
    await click(byText(root, 'button', 'Check the file'));

    expect(calls[0]!.url).toBe('/api/hosts/import?dryRun=true');
    expect(calls[0]!.headers['content-type']).toBe('text/csv');
    expect(calls[0]!.body).toBe(CSV);
    const rejected = root.querySelector('.rejected tbody tr')!;
    expect(rejected.textContent).toContain('"zz","pc-2"');
    expect(rejected.textContent).toContain('is not a MAC address');
    expect(root.querySelector('.accepted tbody')!.textContent).toContain('pc-1');
    expect(importButton().textContent).toBe('Import 1 host');

    await click(importButton());
    expect(calls[1]!.url).toBe('/api/hosts/import');
    expect(root.querySelector('h2')!.textContent).toMatch(/Imported: 1 imported, 1 rejected/);
    expect(root.querySelector<HTMLAnchorElement>('.accepted a')!.getAttribute('href')).toBe('#/hosts/h-1');
  });

  it('asks for a new check once the text changes', async () => {
    importApi();
    const root = await mount(<HostImportPage />);
    await type(root.querySelector('textarea')!, CSV);
    await click(byText(root, 'button', 'Check the file'));
    await type(root.querySelector('textarea')!, `${CSV}"00:11:22:33:44:03","pc-3"\n`);
    expect((byText(root, 'button', /^Import/) as HTMLButtonElement).disabled).toBe(true);
    expect(root.textContent).toContain('The text changed since the check');
  });

  it('is not offered to a role that may not write hosts', async () => {
    const root = await mount(<HostImportPage />, sessionWith(['read'], 'auditor'));
    expect(root.querySelector('textarea')).toBeNull();
    expect(root.textContent).toContain('may not import hosts');
  });

  it('numbers lines the way the server does (CRLF, CR, LF, BOM)', () => {
    expect(sourceLines('\ufeffa\r\nb\rc\nd')).toEqual(['a', 'b', 'c', 'd']);
  });
});
