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
  ip: string | null;
  imageId: string | null;
  ignoreForImaging: boolean;
  pendingTask: PendingTask | null;
}

export interface PendingTask {
  taskId: string;
  typeId: number;
  typeSlug: string;
  typeName: string;
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
  ip: string | null;
  imageId: string | null;
  macs: HostMac[];
  task: PendingTask | null;
}

/** Event types the index folds; the subscription reads only these. */
export const BOOT_INDEX_EVENT_TYPES = [
  'HostRegistered', 'HostUpdated', 'HostDeleted',
  'TaskCreated', 'TaskCheckedIn', 'TaskStarted', 'TaskRequeued', 'TaskCompleted', 'TaskFailed', 'TaskCancelled',
  'ImageCreated', 'ImageUpdated', 'ImageDeleted', 'BootTokenIssued',
] as const;

/** An image as the boot menu lists it. */
export interface BootImage {
  imageId: string;
  name: string;
}

export class BootIndex {
  private readonly hosts = new Map<string, HostRecord>();
  private readonly byMac = new Map<string, HostRecord>();
  /** Registered IPs (DHCP reservations); when two hosts claim one, the last registered wins. */
  private readonly byIp = new Map<string, HostRecord>();
  private readonly images = new Map<string, BootImage>();
  /** Digest of the newest boot token per active task; gone when the task ends. */
  private readonly tokenDigests = new Map<string, string>();
  /** Active (queued, checked-in, in-progress) task id -> host id. */
  private readonly activeTasks = new Map<string, string>();
  /**
   * The last token digest of tasks that ended, so a client still at work
   * when its task was cancelled is told to stop rather than refused as a
   * stranger. Bounded: the oldest are forgotten first.
   */
  private readonly endedTasks = new Map<string, { hostId: string; digest: string | undefined; status: string }>();
  private static readonly MAX_ENDED = 10_000;

  /** Changes whenever an event is folded in: answers derived from the index may be cached until it moves. */
  generation = 0;

  /** Folds one event in. Pure memory work; called by the subscription in commit order. */
  apply(event: RecordedEvent): void {
    this.generation++;
    const d = event.data as Record<string, any>;
    switch (event.type) {
      case 'HostRegistered': {
        const host: HostRecord = { hostId: d.hostId, name: d.name, ip: d.ip ?? null, imageId: d.imageId, macs: d.macs, task: null };
        this.hosts.set(host.hostId, host);
        for (const m of host.macs) this.byMac.set(m.mac, host);
        if (host.ip) this.byIp.set(host.ip, host);
        return;
      }
      case 'HostUpdated': {
        const host = this.hosts.get(d.hostId);
        if (!host) return;
        if (d.changes.name !== undefined) host.name = d.changes.name;
        if (d.changes.imageId !== undefined) host.imageId = d.changes.imageId;
        if (d.changes.ip !== undefined) {
          if (host.ip && this.byIp.get(host.ip) === host) this.byIp.delete(host.ip);
          host.ip = d.changes.ip;
          if (host.ip) this.byIp.set(host.ip, host);
        }
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
        if (host.ip && this.byIp.get(host.ip) === host) this.byIp.delete(host.ip);
        if (host.task) {
          this.tokenDigests.delete(host.task.taskId);
          this.activeTasks.delete(host.task.taskId);
        }
        this.hosts.delete(d.hostId);
        return;
      }
      case 'TaskCreated': {
        const host = this.hosts.get(d.hostId);
        if (!host) return;
        this.activeTasks.set(d.taskId, d.hostId);
        const type = taskTypeFor(d.typeId);
        host.task = {
          taskId: d.taskId, typeId: d.typeId, typeSlug: type?.slug ?? String(d.typeId), typeName: type?.name ?? `task type ${d.typeId}`,
          state: 'queued', imageId: d.imageId,
        };
        return;
      }
      case 'ImageCreated':
        this.images.set(d.id, { imageId: d.id, name: d.name });
        return;
      case 'ImageUpdated': {
        const image = this.images.get(d.id);
        if (image && d.changes.name !== undefined) image.name = d.changes.name;
        return;
      }
      case 'ImageDeleted':
        this.images.delete(d.id);
        return;
      case 'BootTokenIssued': {
        const host = this.hosts.get(d.hostId);
        if (host?.task?.taskId === d.taskId) this.tokenDigests.set(d.taskId, d.tokenDigest);
        return;
      }
      default: {
        const host = this.hosts.get(d.hostId);
        if (!host?.task || host.task.taskId !== d.taskId) return;
        if (event.type === 'TaskCheckedIn') host.task.state = 'checked-in';
        else if (event.type === 'TaskStarted') host.task.state = 'in-progress';
        else if (event.type === 'TaskRequeued') host.task.state = 'queued';
        else if (event.type === 'TaskCompleted' || event.type === 'TaskFailed' || event.type === 'TaskCancelled') {
          host.task = null;
          this.rememberEnded(d.taskId, host.hostId, event.type === 'TaskCompleted' ? 'complete' : event.type === 'TaskFailed' ? 'failed' : 'cancelled');
          this.tokenDigests.delete(d.taskId);
          this.activeTasks.delete(d.taskId);
        }
      }
    }
  }

  /** The boot decision for a MAC already normalised (lowercase, colons). */
  decide(mac: string): BootDecision {
    const host = this.byMac.get(mac);
    if (!host) return { kind: 'unknown', mac };
    const own = host.macs.find((m) => m.mac === mac)!;
    const entry: BootEntry = {
      mac, hostId: host.hostId, hostName: host.name, ip: host.ip, imageId: host.imageId,
      ignoreForImaging: own.ignoreForImaging, pendingTask: host.task,
    };
    // A NIC flagged "ignore for imaging" boots normally but never runs the host's imaging task, and
    // server-side tasks (Wake-Up, snapins) run on the server: the machine itself just sees its menu.
    if (host.task && !own.ignoreForImaging && taskTypeFor(host.task.typeId)?.kind !== 'server-side') {
      return { kind: 'task', entry, task: host.task };
    }
    return { kind: 'menu', entry };
  }

  /** The registered host owning a MAC, for the DHCP/TFTP responders. */
  hostFor(mac: string): { hostId: string; hostName: string; ip: string | null } | null {
    const host = this.byMac.get(mac);
    return host ? { hostId: host.hostId, hostName: host.name, ip: host.ip } : null;
  }

  /** The registered host whose IP this is, for DHCP reservations. */
  hostForAddress(ip: string): { hostId: string; hostName: string; ip: string | null } | null {
    const host = this.byIp.get(ip);
    return host ? { hostId: host.hostId, hostName: host.name, ip: host.ip } : null;
  }

  /** Images by name, for the boot menu's "deploy an image". */
  imageList(): BootImage[] {
    return [...this.images.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Whether a task is queued, checked in or in progress. */
  hasActiveTask(taskId: string): boolean {
    return this.activeTasks.has(taskId);
  }

  /** The host an active task is for. */
  hostOfTask(taskId: string): string | undefined {
    return this.activeTasks.get(taskId) ?? this.endedTasks.get(taskId)?.hostId;
  }

  /** Whether this MAC belongs to the host (any role: a machine may boot from any of its NICs). */
  hostHasMac(hostId: string, mac: string): boolean {
    return this.byMac.get(mac)?.hostId === hostId;
  }

  /** A recently ended task's last token digest and how it ended. */
  endedTask(taskId: string): { hostId: string; digest: string | undefined; status: string } | undefined {
    return this.endedTasks.get(taskId);
  }

  private rememberEnded(taskId: string, hostId: string, status: string): void {
    this.endedTasks.set(taskId, { hostId, digest: this.tokenDigests.get(taskId), status });
    if (this.endedTasks.size > BootIndex.MAX_ENDED) this.endedTasks.delete(this.endedTasks.keys().next().value!);
  }

  /** The digest of the newest boot token of an active task, if one was issued. */
  tokenDigestOf(taskId: string): string | undefined {
    return this.tokenDigests.get(taskId);
  }

  get size(): { hosts: number; macs: number } {
    return { hosts: this.hosts.size, macs: this.byMac.size };
  }
}
