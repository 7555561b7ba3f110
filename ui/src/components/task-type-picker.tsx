import { useEffect, useState } from 'preact/hooks';
import { apiGet } from '../api.ts';
import { FieldMessage } from './form-feedback.tsx';
import type { TaskType } from './registry-types.ts';

/** One entry of FOG's task catalogue as GET /api/task-types answers it. */
export type { TaskType };

export type TaskTarget = 'host' | 'group';

let catalogue: Promise<TaskType[]> | null = null;

/** The catalogue never changes while the server runs: fetched once per page load. */
export function loadTaskTypes(): Promise<TaskType[]> {
  catalogue ??= apiGet('/api/task-types').then((answer) => answer.items, (error) => {
    catalogue = null;
    throw error;
  });
  return catalogue;
}

export function useTaskTypes(): { types: TaskType[] | null; error: string | null } {
  const [types, setTypes] = useState<TaskType[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    loadTaskTypes().then((t) => { if (live) setTypes(t); }, (e: Error) => { if (live) setError(e.message); });
    return () => { live = false; };
  }, []);
  return { types, error };
}

export const KIND_LABEL: Record<TaskType['kind'], string> = {
  imaging: 'imaging',
  'boot-environment': 'boots the client environment',
  'server-side': 'no PXE boot',
};

/** Whether a type can run on this target (FOG's access: host, group or both). */
export const offeredFor = (type: TaskType, target: TaskTarget): boolean => type.access === 'both' || type.access === target;

/** "1 Deploy": FOG's id and name, the way FOG admins know them. */
export const typeLabel = (type: Pick<TaskType, 'id' | 'name'>): string => `${type.id} ${type.name}`;

/**
 * Choose a task type from FOG's catalogue: basic (deploy, capture,
 * multicast) first, then advanced, each with its FOG id and what it does.
 * Only types that can run on the chosen target are offered; the others are
 * named underneath so nobody wonders where they went.
 */
export function TaskTypePicker({ id, types, target, value, onChange, message }: {
  id: string;
  types: TaskType[];
  target: TaskTarget;
  value: number | null;
  onChange: (typeId: number) => void;
  message?: string | undefined;
}) {
  const offered = types.filter((t) => offeredFor(t, target));
  const withheld = types.filter((t) => !offeredFor(t, target));
  const sections: [string, TaskType[]][] = [['Basic', offered.filter((t) => t.basic)], ['Advanced', offered.filter((t) => !t.basic)]];
  return (
    <fieldset class="type-picker" id={id} aria-describedby={message ? `${id}-error` : undefined} aria-invalid={message ? 'true' : undefined}>
      <legend>Task type</legend>
      <FieldMessage id={id} message={message} />
      {sections.map(([title, list]) => list.length > 0 && (
        <div class="type-picker-section" role="group" aria-label={`${title} tasks`} key={title}>
          <h3>{title}</h3>
          <div class="type-picker-options">
            {list.map((type) => (
              <label class={`type-picker-option${value === type.id ? ' chosen' : ''}`} key={type.id}>
                <input type="radio" name={`${id}-type`} value={type.id} checked={value === type.id} onChange={() => onChange(type.id)} />
                <span class="type-picker-text">
                  <span class="type-picker-name"><span class="fog-id" title="FOG task type id">{type.id}</span> {type.name}</span>
                  <span class="type-picker-description">{type.description}</span>
                  <span class="type-picker-tags">
                    <span>{KIND_LABEL[type.kind]}</span>
                    {type.direction && <span>{type.direction === 'up' ? 'reads the disk into an image' : 'writes an image'}</span>}
                    {type.access !== 'both' && <span>{type.access} only</span>}
                  </span>
                </span>
              </label>
            ))}
          </div>
        </div>
      ))}
      {withheld.length > 0 && (
        <p class="type-picker-withheld">
          Not offered on a {target}: {withheld.map((t) => `${typeLabel(t)} (${t.access} only)`).join(', ')}.
        </p>
      )}
    </fieldset>
  );
}
