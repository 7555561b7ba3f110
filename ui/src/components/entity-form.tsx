import { useState } from 'preact/hooks';
import { api, type Answer, type BodyOf } from '../api.ts';
import { ErrorMessage } from './error-message.tsx';
import { FieldError, fieldProps, focusField } from './field-error.tsx';

/** One input of a catalog form (images, groups, storage nodes: the routes of adapters/http/routes/catalog.ts). */
export interface EntityField {
  name: string;
  label: string;
  kind?: 'text' | 'textarea' | 'number' | 'checkbox' | 'select';
  options?: { value: string; label: string }[];
  required?: boolean;
  /** Empty means null (an optional reference or text the API takes as null). */
  nullable?: boolean;
  hint?: string;
  min?: number;
  max?: number;
  /** The value a new one starts with. */
  initial?: string | number | boolean;
  wide?: boolean;
}

type Value = string | boolean;
type Entity = { id: string; version: number };
/** The catalog resources (adapters/http/routes/catalog.ts), by their list path. */
export type CatalogPath = '/api/images' | '/api/groups' | '/api/storage-nodes';
/** One image, group or storage node as its create and change commands answer it. */
export type CatalogEntity = Answer<CatalogPath, 'POST'>;
const fieldOf = (entity: Entity, name: string): unknown => (entity as unknown as Record<string, unknown>)[name];

function draftOf(fields: EntityField[], entity: Entity | undefined): Record<string, Value> {
  return Object.fromEntries(fields.map((f) => {
    const value = entity ? fieldOf(entity, f.name) : f.initial;
    return [f.name, f.kind === 'checkbox' ? Boolean(value) : value === null || value === undefined ? '' : String(value)];
  }));
}

function valueOf(field: EntityField, draft: Value): unknown {
  if (field.kind === 'checkbox') return draft === true;
  const text = String(draft).trim();
  if (field.kind === 'number') return text === '' ? null : Number(text);
  if (text === '' && field.nullable) return null;
  return text;
}

/** The body to send: everything for a new one (empty optional fields left out), only the changes for an edit. */
export function entityBody(fields: EntityField[], draft: Record<string, Value>, entity?: Entity): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of fields) {
    const value = valueOf(field, draft[field.name] ?? '');
    if (!entity) {
      if (value !== null && value !== '') body[field.name] = value;
      continue;
    }
    const before = fieldOf(entity, field.name);
    const same = (before ?? null) === value || ((before === '' || before === null) && (value === '' || value === null));
    if (!same) body[field.name] = value;
  }
  return body;
}

/**
 * Create (no `entity`) or edit one image, group or storage node: POST to
 * `path`, or PATCH `path/:id` with If-Match and only the changed fields.
 * A 400 shows next to its field, a 409 offers `onReload`.
 *
 * @example
 * <EntityForm form="image" path="/api/images" what="image" fields={IMAGE_FIELDS} onSaved={(i) => navigate(href('images', i.id))} onCancel={back} />
 */
export function EntityForm({ form, path, what, fields, entity, onSaved, onCancel, onReload }: {
  form: string;
  path: CatalogPath;
  what: string;
  fields: EntityField[];
  entity?: Entity;
  onSaved: (saved: CatalogEntity) => void;
  onCancel: () => void;
  onReload?: () => void;
}) {
  const [draft, setDraft] = useState(() => draftOf(fields, entity));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    setNotice(null);
    const body = entityBody(fields, draft, entity);
    if (entity && Object.keys(body).length === 0) {
      setNotice('Nothing changed.');
      return;
    }
    setBusy(true);
    try {
      const saved = entity
        ? await api('PATCH', `${path}/{id}`, { params: { id: entity.id }, body, headers: { 'if-match': `"${entity.version}"` } })
        // The form sends the fields it has; a missing required one comes back as the API's 400, shown at the field.
        : await api('POST', path, { body: body as BodyOf<typeof path, 'POST'> });
      onSaved(saved);
    } catch (caught) {
      setError(caught);
      setTimeout(() => focusField(form, caught), 0);
    } finally {
      setBusy(false);
    }
  }

  const set = (name: string, value: Value) => setDraft((d) => ({ ...d, [name]: value }));
  return (
    <form class="form" onSubmit={submit} noValidate aria-label={entity ? `Edit ${what}` : `New ${what}`}>
      <div class="form-grid">
        {fields.map((f) => {
          const props = fieldProps(form, f.name, error);
          const value = draft[f.name];
          const hint = f.hint && <small class="hint">{f.hint}</small>;
          const problem = <FieldError form={form} field={f.name} error={error} />;
          if (f.kind === 'checkbox') {
            return (
              <div key={f.name} class={f.wide ? 'span-2' : undefined}>
                <label class="check"><input type="checkbox" {...props} checked={value === true} onChange={(e) => set(f.name, e.currentTarget.checked)} />{f.label}</label>
                {hint}{problem}
              </div>
            );
          }
          return (
            <label key={f.name} class={f.wide || f.kind === 'textarea' ? 'span-2' : undefined}>{f.label}
              {f.kind === 'textarea' ? (
                <textarea {...props} rows={2} value={String(value)} onInput={(e) => set(f.name, e.currentTarget.value)} />
              ) : f.kind === 'select' ? (
                <select {...props} value={String(value)} onChange={(e) => set(f.name, e.currentTarget.value)}>
                  {(f.options ?? []).map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
                </select>
              ) : f.kind === 'number' ? (
                <input {...props} type="number" min={f.min} max={f.max} required={f.required}
                  value={String(value)} onInput={(e) => set(f.name, e.currentTarget.value)} />
              ) : (
                <input {...props} type="text" required={f.required}
                  value={String(value)} autoComplete="off" onInput={(e) => set(f.name, e.currentTarget.value)} />
              )}
              {hint}{problem}
            </label>
          );
        })}
      </div>
      <ErrorMessage error={error} shownByFields={fields.map((f) => f.name)} onReload={onReload} what={`this ${what}`} />
      {notice && <p class="notice" role="status">{notice}</p>}
      <div class="form-actions">
        <button type="submit" disabled={busy}>{busy ? 'Saving…' : entity ? 'Save changes' : `Create ${what}`}</button>
        <button type="button" class="secondary" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}
