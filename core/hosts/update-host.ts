import { diffChanges } from '../shared/validate.ts';
import { notFound, ok, type Result } from '../shared/result.ts';
import type { HostEvent, HostFields, HostState } from './host.ts';
import { validateHostName, validateIp, validateMacs, validateOptionalId, validateText } from './host-fields.ts';

/** A partial change: only the fields present are changed. */
export interface UpdateHost {
  hostId: string;
  changes: Partial<Record<keyof HostFields, unknown>>;
}

const validators = {
  name: (v: unknown) => validateHostName(v),
  description: (v: unknown) => validateText(v, 'description'),
  macs: (v: unknown) => validateMacs(v),
  ip: (v: unknown) => validateIp(v),
  imageId: (v: unknown) => validateOptionalId(v, 'imageId'),
  storageNodeId: (v: unknown) => validateOptionalId(v, 'storageNodeId'),
  site: (v: unknown) => validateOptionalId(v, 'site'),
};

/**
 * Changes a host's fields. Records both the new and the previous values so
 * the history reads as "name: lab-01 -> lab-02" without replaying anything.
 * A change that alters nothing produces no event.
 */
export function updateHost(command: UpdateHost, state: HostState): Result<HostEvent[]> {
  if (state.status !== 'registered') return notFound(`host ${command.hostId} does not exist`);
  const diff = diffChanges<HostFields>(state, command.changes, validators, 'host');
  if (!diff.ok) return diff;
  if (Object.keys(diff.value.changes).length === 0) return ok([]);
  return ok([{ type: 'HostUpdated', data: { hostId: command.hostId, ...diff.value } }]);
}
