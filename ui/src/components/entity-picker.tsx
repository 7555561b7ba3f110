import { useEffect, useRef, useState } from 'preact/hooks';
import { apiGet } from '../api.ts';
import { invalidProps, FieldMessage } from './form-feedback.tsx';

export type PickerKind = 'host' | 'group';

export interface Picked {
  id: string;
  name: string;
}

interface Option extends Picked {
  detail: string;
}

const SHOWN = 8;

/** Hosts are searched by the API (name, MAC, IP); groups are few and filtered here. */
async function search(kind: PickerKind, text: string): Promise<Option[]> {
  if (kind === 'host') {
    const page = await apiGet('/api/hosts', { query: { q: text.trim() || undefined, limit: SHOWN } });
    return page.items.map((h) => ({ id: h.id, name: h.name, detail: [h.primaryMac, h.ip].filter(Boolean).join(' · ') }));
  }
  const all = await apiGet('/api/groups');
  const needle = text.trim().toLowerCase();
  return all.items
    .filter((g) => !needle || g.name.toLowerCase().includes(needle))
    .slice(0, SHOWN)
    .map((g) => ({ id: g.id, name: g.name, detail: `${g.memberCount} member${g.memberCount === 1 ? '' : 's'}` }));
}

/**
 * Pick a host or a group by typing part of its name (hosts also by MAC or
 * IP): an ARIA combobox, so arrows move through the matches, Enter picks,
 * Escape closes. The list floats over the page (nothing below moves).
 */
export function EntityPicker({ kind, id, label, value, onChange, message, placeholder, required = false, keepWhileTyping = false }: {
  kind: PickerKind;
  id: string;
  label: string;
  value: Picked | null;
  onChange: (value: Picked | null) => void;
  message?: string | undefined;
  placeholder?: string;
  required?: boolean;
  /** Filters: typing searches without dropping the current choice (only × or a new pick changes it). */
  keepWhileTyping?: boolean;
}) {
  const [text, setText] = useState(value?.name ?? '');
  const [open, setOpen] = useState(false);
  const [options, setOptions] = useState<Option[] | null>(null);
  const [active, setActive] = useState(0);
  const [failure, setFailure] = useState<string | null>(null);
  const ticket = useRef(0);
  const listId = `${id}-list`;

  // Typing over a chosen value unchooses it; the text typed stays.
  const typedOver = useRef(false);
  // A value chosen or cleared elsewhere (the URL, a Clear button) shows in the box.
  useEffect(() => {
    if (!value && typedOver.current) { typedOver.current = false; return; }
    setText(value?.name ?? '');
  }, [value?.id, value?.name]);

  useEffect(() => {
    if (!open) return;
    const mine = ++ticket.current;
    const timer = setTimeout(() => {
      search(kind, value && text === value.name ? '' : text).then(
        (found) => { if (mine === ticket.current) { setOptions(found); setActive(0); setFailure(null); } },
        (e: Error) => { if (mine === ticket.current) setFailure(e.message); },
      );
    }, 150);
    return () => clearTimeout(timer);
  }, [kind, text, open]);

  function choose(option: Option) {
    onChange({ id: option.id, name: option.name });
    setText(option.name);
    setOpen(false);
  }

  function onKeyDown(event: KeyboardEvent) {
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      if (!open) setOpen(true);
      else setActive((i) => Math.min(i + 1, (options?.length ?? 1) - 1));
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      setActive((i) => Math.max(i - 1, 0));
    } else if (event.key === 'Enter' && open && options?.[active]) {
      event.preventDefault();
      choose(options[active]!);
    } else if (event.key === 'Escape' && open) {
      event.preventDefault();
      event.stopPropagation();
      setOpen(false);
    }
  }

  const activeId = open && options?.[active] ? `${id}-opt-${active}` : undefined;
  return (
    <div class="entity-picker">
      <label for={id}>{label}</label>
      <div class="entity-picker-box">
        <input
          id={id}
          type="text"
          role="combobox"
          autocomplete="off"
          spellcheck={false}
          aria-autocomplete="list"
          aria-expanded={open}
          aria-controls={listId}
          aria-activedescendant={activeId}
          required={required}
          placeholder={placeholder ?? (kind === 'host' ? 'name, MAC or IP' : 'group name')}
          value={text}
          onInput={(e) => {
            const next = e.currentTarget.value;
            setText(next);
            setOpen(true);
            if (value && !keepWhileTyping) { typedOver.current = true; onChange(null); }
          }}
          onClick={() => setOpen(true)}
          onBlur={() => { setOpen(false); if (value && keepWhileTyping) setText(value.name); }}
          onKeyDown={onKeyDown}
          {...invalidProps(id, message)}
        />
        {value && (
          <button type="button" class="entity-picker-clear" aria-label={`clear ${label.toLowerCase()}`}
            onClick={() => { onChange(null); setText(''); document.getElementById(id)?.focus(); }}>×</button>
        )}
        <ul id={listId} role="listbox" aria-label={`${label} matches`} class="entity-picker-list" hidden={!open}>
          {failure ? <li class="entity-picker-empty error">{failure}</li>
            : options === null ? <li class="entity-picker-empty">Searching…</li>
            : options.length === 0 ? <li class="entity-picker-empty">No {kind} matches “{text}”.</li>
            : options.map((option, index) => (
              <li
                key={option.id}
                id={`${id}-opt-${index}`}
                role="option"
                aria-selected={index === active}
                class={index === active ? 'active' : undefined}
                onMouseDown={(e) => { e.preventDefault(); choose(option); }}
                onMouseMove={() => setActive(index)}
              >
                <span class="entity-picker-name">{option.name}</span>
                <span class="entity-picker-detail">{option.detail}</span>
              </li>
            ))}
        </ul>
      </div>
      <FieldMessage id={id} message={message} />
    </div>
  );
}
