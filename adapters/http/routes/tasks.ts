import type { Kysely } from 'kysely';
import type { Schema } from '../../database/schema.ts';
import type { GroupRunResult } from '../../../core/application/task-commands.ts';
import { taskTypeFor } from '../../../core/tasks/task-types.ts';
import { ACTIVE_TASK_STATUSES, FINISHED_TASK_STATUSES } from '../../../core/tasks/task.ts';
import { getTask, listTasks, MAX_PAGE, type TaskFilter } from '../../../projections/sql/queries.ts';
import { commandMetaOf, respond } from '../command.ts';
import { badRequest } from '../errors.ts';
import type { RouteModule } from '../context.ts';
import { checkCursor, parseDate } from '../query.ts';
import { getById } from '../read-routes.ts';
import { dateQuery, doc, id, idParams, nonEmpty, object, pageQuery, text } from '../schemas.ts';
import { Pending } from '../response-schemas/error.ts';
import { commandReplies, replies } from '../response-schemas/index.ts';
import { ref } from '../response-schemas/schema-kit.ts';
import { GroupRun, Task, TaskPage } from '../response-schemas/task.ts';

const STATE_FILTERS = ['active', 'history', ...ACTIVE_TASK_STATUSES, ...FINISHED_TASK_STATUSES];

interface TaskListQuery {
  state?: string;
  type?: string;
  hostId?: string;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

interface CreateTaskBody {
  type: string | number;
  hostId?: string;
  groupId?: string;
  imageId?: string | null;
  options?: Record<string, unknown>;
}

function taskFilter(query: TaskListQuery): TaskFilter {
  const filter: TaskFilter = {};
  if (query.state) filter.state = query.state;
  if (query.type) {
    const type = taskTypeFor(query.type);
    if (!type) throw badRequest(`unknown task type "${query.type}"; use a FOG id (1-24) or a name such as "deploy" (see /api/task-types)`, 'type');
    filter.typeId = type.id;
  }
  if (query.hostId) filter.hostId = query.hostId;
  const from = parseDate(query.from, 'from');
  if (from) filter.from = from;
  const to = parseDate(query.to, 'to');
  if (to) filter.to = to;
  if (query.limit) filter.limit = query.limit;
  const cursor = checkCursor(query.cursor, true);
  if (cursor) filter.cursor = cursor;
  return filter;
}

/** A group run with each of its tasks as the read model shows them. */
async function runView(db: Kysely<Schema>, run: GroupRunResult) {
  const tasks = [];
  let cursor: string | undefined;
  do {
    const page = await listTasks(db, { groupRunId: run.runId, limit: MAX_PAGE, ...(cursor ? { cursor } : {}) });
    tasks.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return { runId: run.runId, groupId: run.groupId, tasks, skipped: run.skipped };
}

/** Tasks: list, create on a host or a group, read, cancel, replay. */
export const taskRoutes: RouteModule = (api, { brume }) => {
  const db = brume.database.db;
  /** The read model's progress is rate-limited (one event per 30 s); a working client's latest report is fresher. */
  const withLive = <T extends { id: string; state: string; progress: unknown } | undefined>(task: T): T => {
    const live = task && task.state === 'in-progress' ? brume.progressBoard.latest(task.id) : undefined;
    if (!task || !live) return task;
    const percent = live.bytesTotal > 0 ? Math.round((1000 * live.bytesDone) / live.bytesTotal) / 10 : 0;
    return { ...task, progress: { ...live, percent, live: true } };
  };
  const view = async ({ taskId }: { taskId: string }) => withLive(await getTask(db, taskId));

  api.get<{ Querystring: TaskListQuery }>('/api/tasks', {
    config: { access: 'read' },
    schema: {
      ...doc('tasks', 'List tasks, newest first'),
      querystring: object({
        state: { type: 'string', enum: STATE_FILTERS, description: 'active, history (finished) or one state' },
        type: text(60, 'FOG id or name, e.g. 1 or deploy'),
        hostId: id('only this host\'s tasks'),
        from: dateQuery('created at or after'),
        to: dateQuery('created before'),
        ...pageQuery,
      }),
      response: replies({ 200: TaskPage }),
    },
  }, async (request) => {
    const page = await listTasks(db, taskFilter(request.query));
    return { ...page, items: page.items.map(withLive) };
  });

  api.post<{ Body: CreateTaskBody }>('/api/tasks', {
    config: { access: 'tasks:write' },
    schema: {
      ...doc('tasks', 'Create a task on a host (hostId) or on every member of a group (groupId)'),
      body: object({
        type: { type: ['string', 'integer'], maxLength: 60, description: 'FOG id or name, e.g. 1 or "deploy"' },
        hostId: id(),
        groupId: id(),
        imageId: { type: ['string', 'null'], maxLength: 100, description: 'instead of the host\'s (or group\'s) image' },
        options: { type: 'object', description: '{ afterTask: reboot|shutdown|stay, wakeBefore: boolean }' },
      }, ['type']),
      response: replies(
        { 201: { anyOf: [ref(Task), ref(GroupRun)], description: 'the task (hostId), or the group run (groupId)' }, 202: Pending },
        { 404: 'no such host, group or image', 409: 'the host already has an active task, or a rule the task breaks' },
      ),
    },
  }, async (request, reply) => {
    const { hostId, groupId, ...task } = request.body;
    if (hostId !== undefined && groupId !== undefined) throw badRequest('send hostId or groupId, not both', 'groupId');
    if (hostId === undefined && groupId === undefined) throw badRequest('say where the task runs: hostId or groupId', 'hostId');
    const meta = commandMetaOf(request);
    if (groupId !== undefined) {
      const outcome = await brume.commands.tasks.createOnGroup(meta, { ...task, groupId });
      return respond(brume, reply, outcome, { expects: 'runId', status: 201, view: (run) => runView(db, run) });
    }
    const outcome = await brume.commands.tasks.createOnHost(meta, { ...task, hostId: hostId! });
    return respond(brume, reply, outcome, { expects: 'taskId', status: 201, view, what: 'the task' });
  });

  getById(api, {
    path: '/api/tasks', tag: 'tasks', summary: 'A task with its state and progress', what: 'task', answer: Task,
    load: async (taskId) => withLive(await getTask(db, taskId)),
  });

  api.post<{ Params: { id: string }; Body: { reason: string } }>('/api/tasks/:id/cancel', {
    config: { access: 'tasks:write' },
    schema: {
      ...doc('tasks', 'Cancel an active task; the reason goes into the history'),
      params: idParams,
      body: object({ reason: nonEmpty(1000, 'why the task is cancelled') }, ['reason']),
      response: commandReplies(200, Task, { 404: 'no such task' }),
    },
  }, async (request, reply) => {
    const outcome = await brume.commands.tasks.cancel(commandMetaOf(request), request.params.id, request.body.reason);
    return respond(brume, reply, outcome, { expects: 'taskId', view, what: 'the task' });
  });

  api.post<{ Params: { id: string } }>('/api/tasks/:id/replay', {
    config: { access: 'tasks:write' },
    schema: {
      ...doc('tasks', 'Run a finished, failed or cancelled task again as a new task linked to it'),
      params: idParams,
      response: commandReplies(201, Task, { 404: 'no such task' }),
    },
  }, async (request, reply) => {
    const outcome = await brume.commands.tasks.replay(commandMetaOf(request), request.params.id);
    return respond(brume, reply, outcome, { expects: 'replayOf', status: 201, view, what: 'the new task' });
  });
};
