import type { HostState } from '../hosts/host.ts';
import type { GroupState } from '../groups/group.ts';
import type { ImageState } from '../images/image.ts';
import type { DomainEvent } from '../shared/event.ts';
import { invalid, notFound, ok, type Result } from '../shared/result.ts';
import { createTask, resolveTaskType, validateTaskOptions } from './create-task.ts';
import type { TaskCreated } from './task.ts';

export const GROUP_RUN_STREAM = 'group-run';

/** One group task: which member got which task, which members were skipped and why. */
export type GroupTaskRunStarted = DomainEvent<
  'GroupTaskRunStarted',
  {
    runId: string;
    groupId: string;
    typeId: number;
    tasks: { taskId: string; hostId: string }[];
    skipped: { hostId: string; reason: string }[];
  }
>;

export interface StartGroupRun {
  runId: string;
  groupId: string;
  type: unknown;
  imageId?: unknown;
  options?: unknown;
  newTaskId: () => string;
}

export interface GroupRunContext {
  group: GroupState;
  members: ReadonlyMap<string, HostState>;
  /** Hosts that already have an active task (they are skipped, not failed). */
  busyHosts: ReadonlyMap<string, string>;
  images: ReadonlyMap<string, ImageState>;
}

export interface GroupRunDecision {
  run: GroupTaskRunStarted;
  tasks: TaskCreated[];
}

/**
 * Creates one task per member of a group and records the run. Members that
 * cannot take the task (deleted, busy, no image) are listed with the reason;
 * if none can, nothing is recorded and the reasons come back as the error.
 */
export function startGroupRun(command: StartGroupRun, context: GroupRunContext): Result<GroupRunDecision> {
  const { group } = context;
  if (group.status !== 'active') return notFound(`group ${command.groupId} does not exist`, 'groupId');
  const members = group.members ?? [];
  if (members.length === 0) return invalid(`group ${group.name} has no members`, 'groupId');
  // What concerns the command itself is refused once, before any member is looked at.
  const type = resolveTaskType(command.type);
  if (!type.ok) return type;
  if (type.value.access === 'host') return invalid(`${type.value.name} tasks run on a single host, not on a group`, 'type');
  const options = validateTaskOptions(command.options);
  if (!options.ok) return options;
  if (command.imageId !== undefined && command.imageId !== null && command.imageId !== '') {
    const image = typeof command.imageId === 'string' ? context.images.get(command.imageId) : undefined;
    if (!image || image.status !== 'active') return notFound(`image ${String(command.imageId)} does not exist`, 'imageId');
  }
  const tasks: TaskCreated[] = [];
  const skipped: { hostId: string; reason: string }[] = [];
  let typeId = 0;
  for (const hostId of members) {
    const host = context.members.get(hostId) ?? { status: 'absent' as const };
    if (host.status !== 'registered') {
      skipped.push({ hostId, reason: 'host no longer exists' });
      continue;
    }
    const busyWith = context.busyHosts.get(hostId);
    if (busyWith) {
      skipped.push({ hostId, reason: `host ${host.name} already has an active task (${busyWith})` });
      continue;
    }
    const created = createTask(
      { taskId: command.newTaskId(), type: command.type, hostId, imageId: command.imageId, options: command.options, groupRunId: command.runId },
      { host, via: 'group', groupImageId: group.imageId, images: context.images },
    );
    if (!created.ok) {
      skipped.push({ hostId, reason: created.error.message });
      continue;
    }
    tasks.push(...created.value);
    typeId = created.value[0]!.data.typeId;
  }
  if (tasks.length === 0) {
    return invalid(`no member of group ${group.name} can take this task: ${skipped.map((s) => s.reason).join('; ')}`, 'groupId');
  }
  return ok({
    run: {
      type: 'GroupTaskRunStarted',
      data: {
        runId: command.runId, groupId: command.groupId, typeId,
        tasks: tasks.map((t) => ({ taskId: t.data.taskId, hostId: t.data.hostId })),
        skipped,
      },
    },
    tasks,
  });
}
