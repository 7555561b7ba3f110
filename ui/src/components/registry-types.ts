import type { components } from '../generated/api-schema.ts';

/**
 * What the API answers, by the names its OpenAPI document gives them
 * (adapters/http/response-schemas): generated, never written by hand, so a
 * field the UI reads is one the API sends. Dates arrive as ISO strings.
 */
type Schemas = components['schemas'];

export type HostMac = Schemas['HostMac'];
export type MacRole = HostMac['role'];
export type Inventory = Schemas['Inventory'];
export type Host = Schemas['Host'];
export type HostPage = Schemas['HostPage'];
export type HostDetail = Schemas['HostDetail'];
export type HostAsOf = Schemas['HostAsOf'];
export type BootStage = Schemas['BootStage'];
export type BootSighting = Schemas['BootSighting'];

export type Task = Schemas['Task'];
export type TaskStatus = Schemas['TaskStatus'];
export type TaskProgress = Schemas['TaskProgress'];
export type TaskPage = Schemas['TaskPage'];
export type GroupRun = Schemas['GroupRun'];
export type TaskType = Schemas['TaskType'];

export type HistoryEvent = Schemas['HistoryEvent'];
export type EventPage = Schemas['EventPage'];

export type Group = Schemas['Group'];
export type GroupDetail = Schemas['GroupDetail'];

export type Image = Schemas['Image'];
export type ImageRevision = Schemas['ImageRevision'];
export type ImageRevisionList = Schemas['ImageRevisionList'];

export type StorageNode = Schemas['StorageNode'];
export type Queue = Schemas['Queue'];

export type User = Schemas['User'];
export type Role = Schemas['Role'];
export type SessionUser = Schemas['SessionUser'];

export type ImportReport = Schemas['ImportReport'];

/** The data of /api/stream's events (live.ts). */
export type LiveProgress = Schemas['LiveProgress'];
export type StreamProgress = Schemas['StreamProgress'];
export type StreamSignedOut = Schemas['StreamSignedOut'];
