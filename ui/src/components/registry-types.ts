/**
 * What the registry routes answer (adapters/http/routes/{hosts,groups,images,
 * image-revisions,storage-nodes,tasks,events}.ts; projections/sql/queries.ts).
 * Dates arrive as ISO strings.
 */

export type MacRole = 'primary' | 'additional' | 'pending';

export interface HostMac {
  mac: string;
  role: MacRole;
  ignoreForImaging: boolean;
}

export interface Deployed {
  imageId: string;
  revision: number | null;
  at: string | null;
}

export interface Host {
  id: string;
  name: string;
  description: string;
  primaryMac: string;
  macs: HostMac[];
  ip: string | null;
  imageId: string | null;
  storageNodeId: string | null;
  site: string | null;
  groupIds: string[];
  inventory: Record<string, string | number | string[] | null> | null;
  activeTaskId: string | null;
  lastTaskId: string | null;
  deployed: Deployed | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface BootStage {
  mac: string;
  stage: string;
  at: string;
  detail: Record<string, string>;
}

export interface TaskProgress {
  bytesDone: number;
  bytesTotal: number;
  rateBytesPerSecond: number | null;
  partition: string | null;
  percent: number;
  etaSeconds?: number | null;
}

export interface Task {
  id: string;
  hostId: string;
  hostName: string;
  typeId: number;
  typeName: string;
  state: 'queued' | 'checked-in' | 'in-progress' | 'complete' | 'failed' | 'cancelled';
  imageId: string | null;
  storageNodeId: string | null;
  groupRunId: string | null;
  replayOf: string | null;
  createdBy: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  imageRevision: number | null;
  progress: TaskProgress | null;
  reason: string | null;
  version: number;
}

/** An event as GET /api/events answers it, with loosely typed data for the one-line summaries (event-row.tsx has the strict one). */
export interface HistoryEvent {
  position: number;
  type: string;
  streamId: string;
  streamType: string;
  version: number;
  data: Record<string, any>;
  actor: string;
  correlationId: string;
  causationId: string | null;
  reason?: string;
  occurredAt: string;
}

export interface HostDetail extends Host {
  groups: { id: string; name: string }[];
  tasks: Task[];
  bootStages: BootStage[];
  history: HistoryEvent[];
}

export interface Group {
  id: string;
  name: string;
  description: string;
  imageId: string | null;
  memberCount: number;
  createdAt: string;
  updatedAt: string;
  version: number;
  memberIds?: string[];
}

export interface Image {
  id: string;
  name: string;
  description: string;
  type: string;
  os: string;
  compression: number;
  currentRevision: number | null;
  sizeBytes: number | null;
  sha256: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface ImageRevision {
  revision: number;
  sizeBytes: number;
  sha256: string;
  capturedByTaskId: string | null;
}

export interface StorageNode {
  id: string;
  name: string;
  address: string;
  maxClients: number;
  master: boolean;
  site: string | null;
  enabled: boolean;
  slotsUsed: number;
  slotsFree: number;
  waiting: number;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface TaskType {
  id: number;
  slug: string;
  name: string;
  kind: string;
  access: 'host' | 'group' | 'both';
  direction: 'down' | 'up' | null;
  basic: boolean;
  description: string;
}

export interface ImportReport {
  dryRun: boolean;
  imported: { line: number; hostId: string; name: string; mac: string }[];
  rejected: { line: number; reason: string }[];
}
