import type { HostState } from '../hosts/host.ts';
import type { ImageState } from '../images/image.ts';
import { invalid, notFound, ok, type Result } from '../shared/result.ts';
import { validateBoolean, validateChoice } from '../shared/validate.ts';
import type { TaskCreated, TaskOptions } from './task.ts';
import { needsImage, taskTypeFor, type TaskType } from './task-types.ts';

export interface CreateTask {
  taskId: string;
  /** FOG id or name: `1`, `"deploy"`, `"Memory Test"`. */
  type: unknown;
  hostId: string;
  /** Image to use instead of the host's (or the group's). */
  imageId?: unknown;
  options?: unknown;
  groupRunId?: string | null;
  replayOf?: string | null;
}

export interface CreateTaskContext {
  host: HostState;
  /** Whether the task is created for a whole group (FOG's access rules differ). */
  via: 'host' | 'group';
  /** The group's image, which a group task uses before the host's own. */
  groupImageId?: string | null;
  /** Every image the command may refer to, loaded by the caller. */
  images: ReadonlyMap<string, ImageState>;
}

export const AFTER_TASK = ['reboot', 'shutdown', 'stay'] as const;

export function resolveTaskType(ref: unknown): Result<TaskType> {
  const type = taskTypeFor(ref);
  if (!type) return invalid(`unknown task type "${String(ref)}"; use a FOG id (1-24) or a name such as "deploy"`, 'type');
  return ok(type);
}

export function validateTaskOptions(raw: unknown): Result<TaskOptions> {
  const options: TaskOptions = { afterTask: 'reboot', wakeBefore: false };
  if (raw === undefined || raw === null) return ok(options);
  if (typeof raw !== 'object' || Array.isArray(raw)) return invalid('options must be an object', 'options');
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'afterTask') {
      const r = validateChoice(value, 'options.afterTask', AFTER_TASK);
      if (!r.ok) return r;
      options.afterTask = r.value;
    } else if (key === 'wakeBefore') {
      const r = validateBoolean(value, 'options.wakeBefore');
      if (!r.ok) return r;
      options.wakeBefore = r.value;
    } else return invalid(`unknown task option "${key}"; known options are afterTask and wakeBefore`, `options.${key}`);
  }
  return ok(options);
}

/**
 * Creates one task on one host. The rule "one active task per host" is a
 * store claim, checked when the event is appended.
 */
export function createTask(command: CreateTask, context: CreateTaskContext): Result<TaskCreated[]> {
  const { host } = context;
  if (host.status !== 'registered') return notFound(`host ${command.hostId} does not exist`, 'hostId');
  const type = resolveTaskType(command.type);
  if (!type.ok) return type;
  if (type.value.access === 'group' && context.via === 'host') {
    return invalid(`${type.value.name} tasks run on a group, not on a single host`, 'type');
  }
  if (type.value.access === 'host' && context.via === 'group') {
    return invalid(`${type.value.name} tasks run on a single host, not on a group`, 'type');
  }
  const options = validateTaskOptions(command.options);
  if (!options.ok) return options;

  let imageId: string | null = null;
  if (needsImage(type.value)) {
    if (command.imageId !== undefined && command.imageId !== null && typeof command.imageId !== 'string') {
      return invalid('imageId must be an image id', 'imageId');
    }
    imageId = (command.imageId as string | undefined) || context.groupImageId || host.imageId;
    if (!imageId) {
      return invalid(`host ${host.name} has no image; set one on the host${context.via === 'group' ? ' or the group' : ''} or pass imageId`, 'imageId');
    }
    const image = context.images.get(imageId);
    if (!image || image.status !== 'active') return notFound(`image ${imageId} does not exist`, 'imageId');
  }
  return ok([
    {
      type: 'TaskCreated',
      data: {
        taskId: command.taskId,
        hostId: command.hostId,
        typeId: type.value.id,
        imageId,
        storageNodeId: host.storageNodeId,
        options: options.value,
        groupRunId: command.groupRunId ?? null,
        replayOf: command.replayOf ?? null,
      },
    },
  ]);
}
