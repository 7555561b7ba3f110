import type { HostMac } from '../../core/hosts/host.ts';
import type { RecordedEvent } from '../../core/shared/event.ts';
import { taskTypeFor } from '../../core/tasks/task-types.ts';

/**
 * What a boot responder needs to answer a machine, keyed by MAC and kept in
 * memory so DHCP, TFTP and iPXE answers never wait on the database.
 */
export interface BootEntry {
  mac: string;
  hostId: string;
  hostName: string;
  imageId: string | null;
  ignoreForImaging: boolean;
  pendingTask: PendingTask | null;
}

export interface PendingTask {
  taskId: string;
  typeId: number;
  typeSlug: string;
  state: 'queued' | 'checked-in' | 'in-progress';
  imageId: string | null;
}

/** The boot decision for a MAC: unknown machines register; known ones run their task or see the menu. */
export type BootDecision =
  | { kind: 'unknown'; mac: string }
  | { kind: 'menu'; entry: BootEntry }
  | { kind: 'task'; entry: BootEntry; task: PendingTask };

interface HostRecord {
  hostId: string;
  name: string;
  imageId: string | null;
  macs: HostMac[];
  task: PendingTask | null;
}

/** Event types the index folds; the subscription reads only these. */
export const BOOT_INDEX_EVENT_TYPES = [
  'HostRegistered', 'HostUpdated', 'HostDeleted',
  'TaskCreated', 'TaskCheckedIn', 'TaskStarted', 'TaskRequeued', 'TaskCompleted', 'TaskFailed', 'TaskCancelled',
] as const;

export class BootIndex {
  private readonly hosts = new Map<string, HostRecord>();
  private readonly byMac = new Map<string, HostRecord>();

  /** Folds one event in. Pure memory work; called by the subscription in commit order. */
  apply(event: RecordedEvent): void {
    const d = event.data as Record<string, any>;
    switch (event.type) {
      case 'HostRegistered': {
        const host: HostRecord = { hostId: d.hostId, name: d.name, imageId: d.imageId, macs: d.macs, task: null };
        this.hosts.set(host.hostId, host);
        for (const m of host.macs) this.byMac.set(m.mac, host);
        return;
      }
      case 'HostUpdated': {
        const host = this.hosts.get(d.hostId);
        if (!host) return;
        if (d.changes.name !== undefined) host.name = d.changes.name;
        if (d.changes.imageId !== undefined) host.imageId = d.changes.imageId;
        if (d.changes.macs !== undefined) {
          for (const m of host.macs) if (this.byMac.get(m.mac) === host) this.byMac.delete(m.mac);
          host.macs = d.changes.macs;
          for (const m of host.macs) this.byMac.set(m.mac, host);
        }
        return;
      }
      case 'HostDeleted': {
        const host = this.hosts.get(d.hostId);
        if (!host) return;
        for (const m of host.macs) if (this.byMac.get(m.mac) === host) this.byMac.delete(m.mac);
        this.hosts.delete(d.hostId);
        return;
      }
      case 'TaskCreated': {
        const host = this.hosts.get(d.hostId);
        if (!host) return;
        host.task = { taskId: d.taskId, typeId: d.typeId, typeSlug: taskTypeFor(d.typeId)?.slug ?? String(d.typeId), state: 'queued', imageId: d.imageId };
        return;
      }
      default: {
        const host = this.hosts.get(d.hostId);
        if (!host?.task || host.task.taskId !== d.taskId) return;
        if (event.type === 'TaskCheckedIn') host.task.state = 'checked-in';
        else if (event.type === 'TaskStarted') host.task.state = 'in-progress';
        else if (event.type === 'TaskRequeued') host.task.state = 'queued';
        else if (event.type === 'TaskCompleted' || event.type === 'TaskFailed' || event.type === 'TaskCancelled') host.task = null;
      }
    }
  }

  /** The boot decision for a MAC already normalised (lowercase, colons). */
  decide(mac: string): BootDecision {
    const host = this.byMac.get(mac);
    if (!host) return { kind: 'unknown', mac };
    const own = host.macs.find((m) => m.mac === mac)!;
    const entry: BootEntry = {
      mac, hostId: host.hostId, hostName: host.name, imageId: host.imageId,
      ignoreForImaging: own.ignoreForImaging, pendingTask: host.task,
    };
    // A NIC flagged "ignore for imaging" boots normally but never runs the host's imaging task.
    if (host.task && !own.ignoreForImaging) return { kind: 'task', entry, task: host.task };
    return { kind: 'menu', entry };
  }

  get size(): { hosts: number; macs: number } {
    return { hosts: this.hosts.size, macs: this.byMac.size };
  }
}
