import type { EventStore, StreamAppend } from '../ports/event-store.ts';
import { streamIdOf } from '../shared/event.ts';
import { invalid, notFound, ok, type Result } from '../shared/result.ts';
import { cancelTask } from '../tasks/cancel-task.ts';
import {
  checkInTask, completeTask, failTask, reportTaskProgress, requeueTask, startTask,
} from '../tasks/client-reports.ts';
import { createTask, type CreateTask } from '../tasks/create-task.ts';
import { replayTask } from '../tasks/replay-task.ts';
import { GROUP_RUN_STREAM, startGroupRun } from '../tasks/start-group-run.ts';
import { TASK_STREAM, type TaskEvent } from '../tasks/task.ts';
import { applyNewTaskEvents, type TaskEffect, type TaskSnapshot } from '../tasks/task-machine.ts';
import { GROUPS, HOSTS, IMAGES, TASKS, load, loadMany } from './aggregates.ts';
import { checkExpected, runCommand, type CommandMeta, type CommandOutcome } from './command-runner.ts';
import { queueAppendFor } from './queue-appends.ts';
import type { Ids } from './ports.ts';

export interface TaskCommandResult {
  taskId: string;
  version: number;
}

export interface GroupRunResult {
  runId: string;
  groupId: string;
  tasks: { taskId: string; hostId: string }[];
  skipped: { hostId: string; reason: string }[];
}

/** Runs the effects a task's new events ask for (Wake-on-LAN, slot release...). Replays never call it. */
export type TaskEffectRunner = (taskId: string, effects: TaskEffect[]) => void;

const taskStream = (taskId: string) => streamIdOf(TASK_STREAM, taskId);

/** Task operations for operators (create, cancel, replay) and for booted clients (check-in ... fail). */
export function taskCommands(store: EventStore, ids: Ids, runEffects: TaskEffectRunner = () => {}) {
  async function imagesFor(...candidates: unknown[]) {
    const wanted = candidates.filter((c): c is string => typeof c === 'string' && c.length > 0);
    return loadMany(store, IMAGES, [...new Set(wanted)]);
  }

  /** The effects of new events, run only after they are stored. */
  function effectsOf(snapshot: TaskSnapshot, events: TaskEvent[]): TaskEffect[] {
    return applyNewTaskEvents(snapshot, events).effects;
  }

  async function createOnHost(meta: CommandMeta, command: Omit<CreateTask, 'taskId'>): Promise<CommandOutcome<TaskCommandResult>> {
    const taskId = ids.next();
    let effects: TaskEffect[] = [];
    const outcome = await runCommand(store, meta, async () => {
      if (typeof command.hostId !== 'string' || !command.hostId) return invalid('say which host: hostId', 'hostId');
      const { state: host } = await load(store, HOSTS, command.hostId);
      const images = await imagesFor(command.imageId, host.status === 'registered' ? host.imageId : null);
      const decided = createTask({ ...command, taskId }, { host, via: 'host', images });
      if (!decided.ok) return decided;
      effects = effectsOf(TASKS.initial(), decided.value);
      return ok({
        appends: [{ streamId: taskStream(taskId), streamType: TASK_STREAM, expectedVersion: 'no-stream', events: decided.value }],
        result: { taskId, version: 1 },
      });
    });
    if (outcome.ok && !outcome.replayed && effects.length) runEffects(taskId, effects);
    return outcome;
  }

  /**
   * Loads a task, decides one lifecycle step, appends it together with the
   * queue events it implies (leaving the line, releasing a slot); shared by
   * every step after creation.
   */
  async function step(
    meta: CommandMeta, taskId: string, decide: (snapshot: TaskSnapshot) => Result<TaskEvent[]>,
  ): Promise<CommandOutcome<TaskCommandResult>> {
    let effects: TaskEffect[] = [];
    const streamId = taskStream(taskId);
    const outcome = await runCommand(store, meta, async () => {
      const { state, version } = await load(store, TASKS, taskId);
      const expected = checkExpected(meta, streamId, version);
      if (!expected.ok) return expected;
      const decided = decide(state);
      if (!decided.ok) return decided;
      effects = effectsOf(state, decided.value);
      const appends: StreamAppend[] = [{ streamId, streamType: TASK_STREAM, expectedVersion: version, events: decided.value }];
      const queue = await queueAppendFor(store, state, decided.value);
      if (queue) appends.push(queue);
      return ok({ appends, result: { taskId, version: version + decided.value.length } });
    });
    if (outcome.ok && !outcome.replayed && effects.length) runEffects(taskId, effects);
    return outcome;
  }

  return {
    createOnHost,

    /** One task per member, all recorded together with the run that links them. */
    async createOnGroup(
      meta: CommandMeta, command: { groupId: unknown; type: unknown; imageId?: unknown; options?: unknown },
    ): Promise<CommandOutcome<GroupRunResult>> {
      const runId = ids.next();
      const effects = new Map<string, TaskEffect[]>();
      const outcome = await runCommand(store, meta, async () => {
        if (typeof command.groupId !== 'string' || !command.groupId) return invalid('say which group: groupId', 'groupId');
        const groupId = command.groupId;
        const { state: group } = await load(store, GROUPS, groupId);
        if (group.status !== 'active') return notFound(`group ${groupId} does not exist`, 'groupId');
        const memberIds = group.members ?? [];
        const members = await loadMany(store, HOSTS, memberIds);
        const busy = await store.claimOwners('active-task', memberIds);
        const images = await imagesFor(command.imageId, group.imageId, ...[...members.values()].map((h) => (h.status === 'registered' ? h.imageId : null)));
        const decided = startGroupRun(
          { runId, groupId, type: command.type, imageId: command.imageId, options: command.options, newTaskId: () => ids.next() },
          { group, members, busyHosts: busy, images },
        );
        if (!decided.ok) return decided;
        const { run, tasks } = decided.value;
        const appends: StreamAppend[] = [
          { streamId: streamIdOf(GROUP_RUN_STREAM, runId), streamType: GROUP_RUN_STREAM, expectedVersion: 'no-stream', events: [run] },
          ...tasks.map((t) => ({ streamId: taskStream(t.data.taskId), streamType: TASK_STREAM, expectedVersion: 'no-stream' as const, events: [t] })),
        ];
        effects.clear();
        for (const t of tasks) effects.set(t.data.taskId, effectsOf(TASKS.initial(), [t]));
        return ok({ appends, result: { runId, groupId, tasks: run.data.tasks, skipped: run.data.skipped } });
      });
      if (outcome.ok && !outcome.replayed) for (const [taskId, list] of effects) if (list.length) runEffects(taskId, list);
      return outcome;
    },

    cancel: (meta: CommandMeta, taskId: string, reason: unknown) =>
      step({ ...meta, reason: typeof reason === 'string' ? reason : undefined }, taskId, (s) => cancelTask({ taskId, reason }, s)),

    /** Re-runs a finished task as a new task linked to it; the new task's events are caused by the original. */
    async replay(meta: CommandMeta, taskId: string): Promise<CommandOutcome<TaskCommandResult & { replayOf: string }>> {
      const { state } = await load(store, TASKS, taskId);
      const planned = replayTask({ taskId, newTaskId: '' }, state);
      if (!planned.ok) return planned;
      const { taskId: _ignored, ...command } = planned.value;
      const created = await createOnHost({ ...meta, causationId: meta.causationId ?? taskId }, command);
      return created.ok ? { ...created, value: { ...created.value, replayOf: taskId } } : created;
    },

    /** Low-level steps; booted clients go through `imaging.checkIn`, which also queues them. */
    checkIn: (meta: CommandMeta, taskId: string, at: Date, timeoutSeconds?: number) =>
      step(meta, taskId, (s) => checkInTask({ taskId, at, ...(timeoutSeconds ? { timeoutSeconds } : {}) }, s)),
    start: (meta: CommandMeta, taskId: string, at: Date) => step(meta, taskId, (s) => startTask({ taskId, at }, s)),
    progress: (meta: CommandMeta, taskId: string, progress: Parameters<typeof reportTaskProgress>[0]) =>
      step(meta, taskId, (s) => reportTaskProgress({ ...progress, taskId }, s)),
    complete: (meta: CommandMeta, taskId: string, image?: { imageId: string; revision: number } | null) =>
      step(meta, taskId, (s) => completeTask({ taskId, image: image ?? null }, s)),
    fail: (meta: CommandMeta, taskId: string, failure: { reason: unknown; command?: string | null; output?: string | null }) =>
      step(meta, taskId, (s) => failTask({ ...failure, taskId }, s)),
    requeue: (meta: CommandMeta, taskId: string, now: Date) => step(meta, taskId, (s) => requeueTask({ taskId, now }, s)),
  };
}
