import { taskTypeFor } from '../../core/tasks/task-types.ts';
import { dataOf, type SqlProjection } from './projection.ts';

/** Tasks, active and finished, with their latest progress; and the group runs that created them. */
export const tasksProjection: SqlProjection = {
  name: 'tasks',
  tables: [
    { table: 'rm_tasks', key: ['task_id'], json: ['options'] },
    { table: 'rm_group_runs', key: ['run_id'], json: ['task_ids', 'skipped'] },
  ],
  async apply(rows, event) {
    const d = dataOf(event);
    if (event.type === 'GroupTaskRunStarted') {
      rows.put('rm_group_runs', {
        run_id: d.runId, group_id: d.groupId, type_id: d.typeId, task_ids: d.tasks, skipped: d.skipped,
        created_by: event.metadata.actor, created_at: event.occurredAt,
      });
      return;
    }
    if (event.type === 'TaskCreated') {
      const host = await rows.get('rm_hosts', d.hostId);
      rows.put('rm_tasks', {
        task_id: d.taskId, host_id: d.hostId, host_name: (host?.name as string) ?? '', type_id: d.typeId,
        type_name: taskTypeFor(d.typeId)?.name ?? String(d.typeId), state: 'queued',
        image_id: d.imageId, storage_node_id: d.storageNodeId, options: d.options,
        group_run_id: d.groupRunId, replay_of: d.replayOf, created_by: event.metadata.actor,
        created_at: event.occurredAt, checked_in_at: null, started_at: null, finished_at: null, check_in_deadline: null,
        bytes_done: null, bytes_total: null, rate_bytes_per_second: null, partition: null, reason: null,
        image_revision: null, last_report_at: null, version: event.version,
      });
      return;
    }
    if (!event.type.startsWith('Task')) return;
    const task = await rows.get('rm_tasks', d.taskId);
    if (!task) return;
    const next = { ...task, version: event.version };
    switch (event.type) {
      case 'TaskCheckedIn':
        Object.assign(next, { state: 'checked-in', checked_in_at: task.checked_in_at ?? d.at, check_in_deadline: d.deadline });
        break;
      case 'TaskStarted':
        Object.assign(next, { state: 'in-progress', started_at: d.at, check_in_deadline: null, image_revision: d.imageRevision ?? null, last_report_at: d.at });
        break;
      case 'TaskProgressed':
        Object.assign(next, {
          bytes_done: d.bytesDone, bytes_total: d.bytesTotal, rate_bytes_per_second: d.rateBytesPerSecond, partition: d.partition,
          last_report_at: event.occurredAt,
        });
        break;
      case 'TaskCompleted':
        Object.assign(next, { state: 'complete', finished_at: event.occurredAt, check_in_deadline: null, image_revision: d.imageRevision ?? task.image_revision ?? null });
        break;
      case 'TaskFailed':
        Object.assign(next, { state: 'failed', finished_at: event.occurredAt, reason: d.reason, check_in_deadline: null });
        break;
      case 'TaskCancelled':
        Object.assign(next, { state: 'cancelled', finished_at: event.occurredAt, reason: d.reason, check_in_deadline: null });
        break;
      case 'TaskRequeued':
        Object.assign(next, { state: 'queued', checked_in_at: null, check_in_deadline: null });
        break;
      case 'TaskWakeOnLanSent':
        // Changes no column but the version: If-Match must match the stream.
        break;
      default:
        return;
    }
    rows.put('rm_tasks', next);
  },
};
