import { useState } from 'preact/hooks';
import { api, type BodyOf } from '../api.ts';
import { useCatalog } from '../components/catalog-cache.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { FieldError, fieldProps, focusField } from '../components/field-error.tsx';
import type { Host, HostMac, MacRole } from '../components/registry-types.ts';

const FORM = 'host';
/** Fields whose 400s show next to their input; anything else shows above the buttons. */
const FIELDS = ['name', 'description', 'macs', 'ip', 'imageId', 'storageNodeId', 'site', 'groupIds'] as const;
const ROLES: { value: MacRole; label: string }[] = [
  { value: 'primary', label: 'primary' },
  { value: 'additional', label: 'additional' },
  { value: 'pending', label: 'pending approval' },
];

interface MacRow extends HostMac {
  key: number;
}

interface Draft {
  name: string;
  description: string;
  macs: MacRow[];
  ip: string;
  imageId: string;
  storageNodeId: string;
  site: string;
  groupIds: string[];
}

let nextKey = 1;
const row = (mac: Partial<HostMac> = {}): MacRow => ({ key: nextKey++, mac: '', role: 'additional', ignoreForImaging: false, ...mac });

function draftOf(host: Host | undefined): Draft {
  return {
    name: host?.name ?? '',
    description: host?.description ?? '',
    macs: host ? host.macs.map((m) => row(m)) : [row({ role: 'primary' })],
    ip: host?.ip ?? '',
    imageId: host?.imageId ?? '',
    storageNodeId: host?.storageNodeId ?? '',
    site: host?.site ?? '',
    groupIds: host?.groupIds ?? [],
  };
}

const orNull = (text: string) => (text.trim() === '' ? null : text.trim());
const macsOf = (rows: MacRow[]) => rows.map(({ mac, role, ignoreForImaging }) => ({ mac: mac.trim(), role, ignoreForImaging }));

/** The body for POST /api/hosts (everything) or PATCH (only what changed from `host`). */
export function hostBody(draft: Draft, host?: Host): Record<string, unknown> {
  const full: Record<string, unknown> = {
    name: draft.name.trim(),
    description: draft.description.trim() === '' ? (host ? '' : null) : draft.description.trim(),
    macs: macsOf(draft.macs),
    ip: orNull(draft.ip),
    imageId: orNull(draft.imageId),
    storageNodeId: orNull(draft.storageNodeId),
    site: orNull(draft.site),
    groupIds: draft.groupIds,
  };
  if (!host) {
    if (full.description === null) delete full.description;
    return full;
  }
  const before: Record<string, unknown> = {
    name: host.name, description: host.description, macs: host.macs.map(({ mac, role, ignoreForImaging }) => ({ mac, role, ignoreForImaging })),
    ip: host.ip, imageId: host.imageId, storageNodeId: host.storageNodeId, site: host.site, groupIds: host.groupIds,
  };
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const sorted = (ids: unknown) => [...(ids as string[])].sort();
  return Object.fromEntries(Object.entries(full).filter(([field, value]) =>
    field === 'groupIds' ? !same(sorted(value), sorted(before[field])) : !same(value, before[field])));
}

/**
 * Register a host (no `host`) or edit one: name, MACs with their roles,
 * IP, image, storage node, site, groups. An edit sends only what changed,
 * with If-Match; a 400 shows next to the input it names, a 409 offers to
 * reload the host (`onReload`).
 */
export function HostForm({ host, onSaved, onCancel, onReload }: {
  host?: Host;
  onSaved: (saved: Host) => void;
  onCancel: () => void;
  onReload?: () => void;
}) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(host));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const images = useCatalog('images');
  const nodes = useCatalog('storage-nodes');
  const groups = useCatalog('groups');

  const set = <K extends keyof Draft>(field: K, value: Draft[K]) => setDraft((d) => ({ ...d, [field]: value }));
  const setMac = (key: number, change: Partial<HostMac>) => setDraft((d) => ({
    ...d,
    macs: d.macs.map((m) => {
      if (m.key === key) return { ...m, ...change };
      // One primary: choosing another makes the old one additional.
      if (change.role === 'primary' && m.role === 'primary') return { ...m, role: 'additional' as const };
      return m;
    }),
  }));

  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    setNotice(null);
    const body = hostBody(draft, host);
    if (host && Object.keys(body).length === 0) {
      setNotice('Nothing changed.');
      return;
    }
    setBusy(true);
    try {
      const saved = host
        ? await api('PATCH', '/api/hosts/{id}', { params: { id: host.id }, body, headers: { 'if-match': `"${host.version}"` } })
        // The form sends the fields it has; a missing required one comes back as the API's 400, shown at the field.
        : await api('POST', '/api/hosts', { body: body as BodyOf<'/api/hosts', 'POST'> });
      onSaved(saved);
    } catch (caught) {
      setError(caught);
      setTimeout(() => focusField(FORM, caught), 0);
    } finally {
      setBusy(false);
    }
  }

  const input = (field: keyof Draft & string) => fieldProps(FORM, field, error);

  return (
    <form class="form host-form" onSubmit={submit} noValidate aria-label={host ? `Edit ${host.name}` : 'Register a host'}>
      <div class="form-grid">
        <label>Name
          <input {...input('name')} value={draft.name} required maxLength={63} autoComplete="off" spellcheck={false}
            onInput={(e) => set('name', e.currentTarget.value)} />
          <small class="hint">Letters, digits and hyphens; up to 63 (a DNS label).</small>
          <FieldError form={FORM} field="name" error={error} />
        </label>
        <label>IP address
          <input {...input('ip')} value={draft.ip} inputMode="decimal" placeholder="192.0.2.10" autoComplete="off"
            onInput={(e) => set('ip', e.currentTarget.value)} />
          <FieldError form={FORM} field="ip" error={error} />
        </label>
        <label class="span-2">Description
          <textarea {...input('description')} value={draft.description} rows={2} maxLength={1000}
            onInput={(e) => set('description', e.currentTarget.value)} />
          <FieldError form={FORM} field="description" error={error} />
        </label>
      </div>

      <fieldset class="macs" id="host-macs" tabIndex={-1} aria-describedby={error ? 'host-macs-error' : undefined}>
        <legend>MAC addresses</legend>
        <FieldError form={FORM} field="macs" error={error} />
        <table class="table stack mac-rows">
          <thead><tr><th>MAC</th><th class="col-role">Role</th><th class="col-ignore">Ignore for imaging</th><th class="col-remove"><span class="visually-hidden">Remove</span></th></tr></thead>
          <tbody>
            {draft.macs.map((m, i) => (
              <tr key={m.key}>
                <td data-label="MAC">
                  <input {...fieldProps(FORM, `macs[${i}]`, error, true)} class="mono" value={m.mac} aria-label={`MAC ${i + 1}`}
                    placeholder="aa:bb:cc:dd:ee:ff" autoComplete="off" spellcheck={false}
                    onInput={(e) => setMac(m.key, { mac: e.currentTarget.value })} />
                  <FieldError form={FORM} field={`macs[${i}]`} error={error} nested />
                </td>
                <td data-label="Role">
                  <select id={`host-macs-${i}-role`} aria-label={`role of MAC ${i + 1}`} value={m.role}
                    onChange={(e) => setMac(m.key, { role: e.currentTarget.value as MacRole })}>
                    {ROLES.map((r) => <option key={r.value} value={r.value}>{r.label}</option>)}
                  </select>
                </td>
                <td data-label="Ignore for imaging">
                  <input type="checkbox" checked={m.ignoreForImaging} aria-label={`ignore MAC ${i + 1} for imaging`}
                    onChange={(e) => setMac(m.key, { ignoreForImaging: e.currentTarget.checked })} />
                </td>
                <td>
                  <button type="button" class="secondary" disabled={draft.macs.length === 1} aria-label={`remove MAC ${i + 1}`}
                    onClick={() => set('macs', draft.macs.filter((x) => x.key !== m.key))}>Remove</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <button type="button" class="secondary" disabled={draft.macs.length >= 64} onClick={() => set('macs', [...draft.macs, row()])}>Add a MAC</button>
      </fieldset>

      <div class="form-grid">
        <label>Image
          <select {...input('imageId')} value={draft.imageId} onChange={(e) => set('imageId', e.currentTarget.value)}>
            <option value="">none</option>
            {(images ?? []).map((i) => <option key={i.id} value={i.id}>{i.name}</option>)}
            {draft.imageId && images && !images.some((i) => i.id === draft.imageId) && <option value={draft.imageId}>{draft.imageId} (unknown)</option>}
          </select>
          <FieldError form={FORM} field="imageId" error={error} />
        </label>
        <label>Storage node
          <select {...input('storageNodeId')} value={draft.storageNodeId} onChange={(e) => set('storageNodeId', e.currentTarget.value)}>
            <option value="">brume's own queue</option>
            {(nodes ?? []).map((n) => <option key={n.id} value={n.id}>{n.name}</option>)}
            {draft.storageNodeId && nodes && !nodes.some((n) => n.id === draft.storageNodeId) && <option value={draft.storageNodeId}>{draft.storageNodeId} (unknown)</option>}
          </select>
          <FieldError form={FORM} field="storageNodeId" error={error} />
        </label>
        <label>Site
          <input {...input('site')} value={draft.site} maxLength={100} autoComplete="off" onInput={(e) => set('site', e.currentTarget.value)} />
          <FieldError form={FORM} field="site" error={error} />
        </label>
      </div>

      <fieldset class="group-picks" id="host-groupIds" tabIndex={-1}>
        <legend>Groups</legend>
        <FieldError form={FORM} field="groupIds" error={error} nested />
        {groups === undefined ? <p class="muted">Loading groups…</p> : groups.length === 0 ? <p class="muted">There are no groups yet.</p> : (
          <div class="checklist">
            {groups.map((g) => (
              <label key={g.id} class="check">
                <input type="checkbox" checked={draft.groupIds.includes(g.id)}
                  onChange={(e) => set('groupIds', e.currentTarget.checked ? [...draft.groupIds, g.id] : draft.groupIds.filter((id) => id !== g.id))} />
                {g.name}
              </label>
            ))}
          </div>
        )}
      </fieldset>

      <ErrorMessage error={error} shownByFields={FIELDS} onReload={onReload} what="this host" />
      {notice && <p class="notice" role="status">{notice}</p>}
      <div class="form-actions">
        <button type="submit" disabled={busy}>{busy ? 'Saving…' : host ? 'Save changes' : 'Register host'}</button>
        <button type="button" class="secondary" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}
