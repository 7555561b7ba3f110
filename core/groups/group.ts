import { defineCatalogEntity, type CatalogEvent, type CatalogState } from '../shared/catalog-entity.ts';
import type { DomainEvent } from '../shared/event.ts';
import { invalid, notFound, ok, type Result } from '../shared/result.ts';
import { validateName, validateOptionalId, validateText } from '../shared/validate.ts';

export interface GroupFields {
  name: string;
  description: string;
  /** The image group deploys and multicasts use, when set. */
  imageId: string | null;
}

export const GROUP_STREAM = 'group';

export const group = defineCatalogEntity<'Group', GroupFields>({
  prefix: 'Group',
  what: 'group',
  validators: {
    name: (v) => validateName(v, 'group'),
    description: (v) => validateText(v, 'description'),
    imageId: (v) => validateOptionalId(v, 'imageId'),
  },
  defaults: { description: '', imageId: null },
});

export type GroupMembersAdded = DomainEvent<'GroupMembersAdded', { id: string; hostIds: string[] }>;
export type GroupMembersRemoved = DomainEvent<'GroupMembersRemoved', { id: string; hostIds: string[] }>;
export type GroupEvent = CatalogEvent<'Group', GroupFields> | GroupMembersAdded | GroupMembersRemoved;

/** A group's fields plus its members, in the order they joined. */
export type GroupState = CatalogState<GroupFields> & { members?: string[] };

export function evolveGroup(state: GroupState, event: GroupEvent): GroupState {
  if (event.type === 'GroupMembersAdded' || event.type === 'GroupMembersRemoved') {
    if (state.status === 'absent') return state;
    const members = new Set(state.members ?? []);
    for (const id of event.data.hostIds) {
      if (event.type === 'GroupMembersAdded') members.add(id);
      else members.delete(id);
    }
    return { ...state, members: [...members] };
  }
  const next: GroupState = group.evolve(state, event);
  return next.status === 'absent' ? next : { ...next, members: state.status === 'absent' ? [] : (state.members ?? []) };
}

export interface ChangeGroupMembers {
  groupId: string;
  add?: string[];
  remove?: string[];
}

/**
 * Adds and removes members. Hosts already in (or already out of) the group are
 * skipped rather than refused, so the same request can be sent twice safely.
 * Whether each host exists is checked by the caller, which can load hosts.
 */
export function changeGroupMembers(command: ChangeGroupMembers, state: GroupState): Result<GroupEvent[]> {
  if (state.status !== 'active') return notFound(`group ${command.groupId} does not exist`);
  for (const [field, ids] of [['add', command.add], ['remove', command.remove]] as const) {
    if (ids !== undefined && (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string'))) {
      return invalid(`${field} must be a list of host ids`, field);
    }
  }
  const members = new Set(state.members ?? []);
  const add = [...new Set(command.add ?? [])].filter((id) => !members.has(id));
  const remove = [...new Set(command.remove ?? [])].filter((id) => members.has(id));
  const events: GroupEvent[] = [];
  if (add.length) events.push({ type: 'GroupMembersAdded', data: { id: command.groupId, hostIds: add } });
  if (remove.length) events.push({ type: 'GroupMembersRemoved', data: { id: command.groupId, hostIds: remove } });
  return ok(events);
}
