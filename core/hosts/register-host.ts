import { conflict, ok, type Result } from '../shared/result.ts';
import type { HostEvent, HostFields, HostState } from './host.ts';
import { validateHostName, validateIp, validateMacs, validateOptionalId, validateText } from './host-fields.ts';

export interface RegisterHost {
  hostId: string;
  name: unknown;
  description?: unknown;
  macs: unknown;
  ip?: unknown;
  imageId?: unknown;
  storageNodeId?: unknown;
  site?: unknown;
}

/** Checks every field of a new host; shared by the API, the CLI and CSV import. */
export function validateNewHost(command: RegisterHost): Result<HostFields> {
  const name = validateHostName(command.name);
  if (!name.ok) return name;
  const macs = validateMacs(command.macs);
  if (!macs.ok) return macs;
  const description = validateText(command.description, 'description');
  if (!description.ok) return description;
  const ip = validateIp(command.ip);
  if (!ip.ok) return ip;
  const imageId = validateOptionalId(command.imageId, 'imageId');
  if (!imageId.ok) return imageId;
  const storageNodeId = validateOptionalId(command.storageNodeId, 'storageNodeId');
  if (!storageNodeId.ok) return storageNodeId;
  const site = validateOptionalId(command.site, 'site');
  if (!site.ok) return site;
  return ok({
    name: name.value,
    description: description.value,
    macs: macs.value,
    ip: ip.value,
    imageId: imageId.value,
    storageNodeId: storageNodeId.value,
    site: site.value,
  });
}

/**
 * Registers a host. Name and MAC uniqueness across hosts is enforced by the
 * store's claims when the event is appended (see core/claims.ts).
 */
export function registerHost(command: RegisterHost, state: HostState): Result<HostEvent[]> {
  if (state.status !== 'absent') return conflict(`host ${command.hostId} already exists`);
  const fields = validateNewHost(command);
  if (!fields.ok) return fields;
  return ok([{ type: 'HostRegistered', data: { hostId: command.hostId, ...fields.value } }]);
}
