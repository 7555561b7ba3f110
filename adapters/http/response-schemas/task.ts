import { AFTER_TASK } from '../../../core/tasks/create-task.ts';
import { ACTIVE_TASK_STATUSES, FINISHED_TASK_STATUSES } from '../../../core/tasks/task.ts';
import {
  arrayOf, boolean, choice, constant, dateTime, integer, number, orNull, page, ref, shape, shared, string,
} from './schema-kit.ts';

export const TaskOptions = shared('TaskOptions', shape({ afterTask: choice(AFTER_TASK), wakeBefore: boolean }));

/** What an imaging client reports, and the percentage and time left made from it. */
export const progressFigures = {
  bytesDone: number,
  bytesTotal: number,
  rateBytesPerSecond: number,
  partition: orNull(string),
  percent: { ...number, description: 'one decimal' },
  etaSeconds: orNull(number),
};

/**
 * The client's figures: from the read model (the last TaskProgressed), or,
 * while it works, its latest report (`live`, with when it reported).
 */
export const TaskProgress = shared('TaskProgress', shape({
  ...progressFigures,
  at: { ...dateTime, description: 'live only: when the client reported' },
  live: constant(true),
}, ['at', 'live']));

export const TaskStatus = shared('TaskStatus', choice([...ACTIVE_TASK_STATUSES, ...FINISHED_TASK_STATUSES]));

export const Task = shared('Task', shape({
  id: string,
  hostId: string,
  hostName: string,
  typeId: { ...integer, description: 'FOG\'s task type id' },
  typeName: string,
  state: ref(TaskStatus),
  imageId: orNull(string),
  storageNodeId: orNull(string),
  options: ref(TaskOptions),
  groupRunId: orNull(string),
  replayOf: orNull(string),
  createdBy: { ...string, description: 'the actor: a user id, system or boot-client' },
  createdAt: dateTime,
  checkedInAt: orNull(dateTime),
  startedAt: orNull(dateTime),
  finishedAt: orNull(dateTime),
  checkInDeadline: orNull(dateTime),
  imageRevision: orNull(integer),
  lastReportAt: orNull(dateTime),
  progress: orNull(ref(TaskProgress)),
  reason: orNull(string),
  version: integer,
}));

export const TaskPage = page('TaskPage', Task, true);

/** POST /api/tasks with groupId: a task per member, and the members skipped with why. */
export const GroupRun = shared('GroupRun', shape({
  runId: string,
  groupId: string,
  tasks: arrayOf(ref(Task)),
  skipped: arrayOf(shape({ hostId: string, reason: string })),
}));

export const TaskType = shared('TaskType', shape({
  id: integer,
  slug: string,
  name: string,
  kind: choice(['imaging', 'boot-environment', 'server-side']),
  access: choice(['host', 'group', 'both']),
  direction: choice(['down', 'up', null]),
  multicast: boolean,
  basic: boolean,
  debug: boolean,
  description: string,
}), 'One entry of FOG\'s task catalogue, with FOG\'s id');

export const TaskTypeList = shared('TaskTypeList', shape({ items: arrayOf(ref(TaskType)), total: integer }));

export const taskSchemas = [TaskOptions, TaskProgress, TaskStatus, Task, TaskPage, GroupRun, TaskType, TaskTypeList];
