import type { RecordedEvent } from '../../core/shared/event.ts';
import { dataOf, type SqlProjection } from './projection.ts';

/**
 * Which events concern which subject, so an auditor can read everything
 * that happened to one host (its own events, its tasks', its group
 * memberships) or one group in one indexed query.
 */
export function subjectsOf(event: RecordedEvent): string[] {
  const d = dataOf(event);
  const subjects = new Set<string>([event.streamId]);
  if (typeof d.hostId === 'string') subjects.add(`host-${d.hostId}`);
  if (event.type === 'GroupMembersAdded' || event.type === 'GroupMembersRemoved') {
    for (const hostId of d.hostIds as string[]) subjects.add(`host-${hostId}`);
  }
  if (event.type === 'GroupTaskRunStarted') {
    subjects.add(`group-${d.groupId}`);
    for (const t of d.tasks as { hostId: string }[]) subjects.add(`host-${t.hostId}`);
  }
  if (typeof d.groupRunId === 'string') subjects.add(`group-run-${d.groupRunId}`);
  // Boot tokens live on the machine's boot stream but belong to a task's story too.
  if (event.type === 'BootTokenIssued') subjects.add(`task-${d.taskId}`);
  return [...subjects];
}

export const eventSubjectsProjection: SqlProjection = {
  name: 'event-subjects',
  tables: [{ table: 'rm_event_subjects', key: ['subject', 'global_position'], appendOnly: true }],
  async apply(rows, event) {
    for (const subject of subjectsOf(event)) rows.put('rm_event_subjects', { subject, global_position: event.globalPosition });
  },
};
