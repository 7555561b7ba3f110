import { notFound, ok, type Result } from '../shared/result.ts';
import type { HostEvent, HostState } from './host.ts';

export interface DeleteHost {
  hostId: string;
}

/** Deletes a host; its name and MACs become free for another host. Its history stays. */
export function deleteHost(command: DeleteHost, state: HostState): Result<HostEvent[]> {
  if (state.status !== 'registered') return notFound(`host ${command.hostId} does not exist`);
  return ok([{ type: 'HostDeleted', data: { hostId: command.hostId, name: state.name, macs: state.macs } }]);
}
