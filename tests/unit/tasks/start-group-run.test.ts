import { describe, expect, it } from 'vitest';
import type { GroupEvent } from '../../../core/groups/group.ts';
import type { HostState } from '../../../core/hosts/host.ts';
import { startGroupRun, type StartGroupRun } from '../../../core/tasks/start-group-run.ts';
import {
  groupCreated, groups, hostDeleted, hostState, imageCreated, imagesById, membersAdded, membersRemoved, taskCreated,
} from '../support/fixtures.ts';

const IMAGES = imagesById([imageCreated({ id: 'image-host' })], [imageCreated({ id: 'image-group', name: 'group' })], [imageCreated({ id: 'image-x', name: 'x' })]);

/** host-1 and host-2 have their own image, host-3 has none, host-4 is deleted, host-5 is busy; host-6 was never loaded. */
const MEMBERS = new Map<string, HostState>([
  ['host-1', hostState({ hostId: 'host-1', name: 'lab-01', imageId: 'image-host', storageNodeId: 'node-1' })],
  ['host-2', hostState({ hostId: 'host-2', name: 'lab-02', imageId: 'image-host' })],
  ['host-3', hostState({ hostId: 'host-3', name: 'lab-03' })],
  ['host-4', hostState({ hostId: 'host-4', name: 'lab-04' }, hostDeleted('host-4', 'lab-04'))],
  ['host-5', hostState({ hostId: 'host-5', name: 'lab-05', imageId: 'image-host' })],
]);
const BUSY = new Map([['host-5', 'task-99']]);

const SKIPPED = {
  noImage: { hostId: 'host-3', reason: 'host lab-03 has no image; set one on the host or the group or pass imageId' },
  deleted: { hostId: 'host-4', reason: 'host no longer exists' },
  busy: { hostId: 'host-5', reason: 'host lab-05 already has an active task (task-99)' },
  unknown: { hostId: 'host-6', reason: 'host no longer exists' },
};

/** A group, created with this image, holding these members. */
const groupOf = (members: string[], imageId: string | null = null, ...more: GroupEvent[]): GroupEvent[] =>
  [groupCreated({ imageId }), ...(members.length ? [membersAdded(members)] : []), ...more];

function run(given: GroupEvent[], command: Partial<StartGroupRun> = {}) {
  let n = 0;
  return groups.given(given).when((group) => startGroupRun(
    { runId: 'run-1', groupId: 'group-1', type: 'deploy', newTaskId: () => `task-${++n}`, ...command },
    { group, members: MEMBERS, busyHosts: BUSY, images: IMAGES },
  ));
}

/** The TaskCreated a group run records for one member. */
const memberTask = (taskId: string, hostId: string, imageId: string | null, more: object = {}) =>
  taskCreated({ taskId, hostId, imageId, storageNodeId: hostId === 'host-1' ? 'node-1' : null, groupRunId: 'run-1', ...more });

describe('startGroupRun', () => {
  it('creates one task per member, linked to the run, and records the run', () => {
    run(groupOf(['host-1', 'host-2'])).then({
      run: {
        type: 'GroupTaskRunStarted',
        data: {
          runId: 'run-1', groupId: 'group-1', typeId: 1,
          tasks: [{ taskId: 'task-1', hostId: 'host-1' }, { taskId: 'task-2', hostId: 'host-2' }],
          skipped: [],
        },
      },
      tasks: [memberTask('task-1', 'host-1', 'image-host'), memberTask('task-2', 'host-2', 'image-host')],
    });
  });

  it("uses the group's image for every member, and an explicit image over it", () => {
    const byGroup = run(groupOf(['host-1', 'host-3'], 'image-group')).thenSucceeds().value;
    expect(byGroup.tasks.map((t) => t.data.imageId)).toEqual(['image-group', 'image-group']);
    const explicit = run(groupOf(['host-1', 'host-3'], 'image-group'), { imageId: 'image-x' }).thenSucceeds().value;
    expect(explicit.tasks.map((t) => t.data.imageId)).toEqual(['image-x', 'image-x']);
  });

  it('passes the type and options to every task', () => {
    const { value } = run(groupOf(['host-1', 'host-2']), { type: 'multicast', options: { afterTask: 'shutdown', wakeBefore: true } }).thenMatches({ run: { data: { typeId: 8 } } });
    expect(value.tasks.map((t) => [t.data.typeId, t.data.options])).toEqual([
      [8, { afterTask: 'shutdown', wakeBefore: true }],
      [8, { afterTask: 'shutdown', wakeBefore: true }],
    ]);
  });

  it('skips busy, deleted, unknown and imageless members with the reason, and runs the rest', () => {
    const { value } = run(groupOf(['host-3', 'host-1', 'host-4', 'host-5', 'host-6', 'host-2'])).thenSucceeds();
    expect(value.run.data.skipped).toEqual([SKIPPED.noImage, SKIPPED.deleted, SKIPPED.busy, SKIPPED.unknown]);
    expect(value.run.data.tasks.map((t) => t.hostId)).toEqual(['host-1', 'host-2']);
    expect(value.tasks.map((t) => ({ taskId: t.data.taskId, hostId: t.data.hostId }))).toEqual(value.run.data.tasks);
    expect(new Set(value.tasks.map((t) => t.data.taskId)).size).toBe(2);
  });

  it('refuses the run when no member can take it, giving every reason', () => {
    run(groupOf(['host-3', 'host-4', 'host-5'])).thenFails({
      code: 'validation', field: 'groupId',
      message: `no member of group room-2 can take this task: ${SKIPPED.noImage.reason}; ${SKIPPED.deleted.reason}; ${SKIPPED.busy.reason}`,
    });
  });

  it('refuses a group without members', () => {
    run(groupOf([])).thenFails({ code: 'validation', field: 'groupId', message: 'group room-2 has no members' });
    run(groupOf(['host-1'], null, membersRemoved(['host-1'])))
      .thenFails({ code: 'validation', field: 'groupId', message: 'group room-2 has no members' });
  });

  it('refuses a group that does not exist', () => {
    run([]).thenFails({ code: 'not-found', field: 'groupId', message: 'group group-1 does not exist' });
  });

  it.each([
    ['an unknown type', { type: 'reimage' }, 'type', /unknown task type "reimage"/],
    ['a host-only type', { type: 'capture' }, 'type', 'Capture tasks run on a single host, not on a group'],
    ['bad options', { options: { afterTask: 'explode' } }, 'options.afterTask', /must be one of reboot, shutdown, stay/],
  ] as const)('refuses the whole run for %s, which concerns every member', (_case, command, field, message) => {
    run(groupOf(['host-1', 'host-2']), command).thenFails({ code: 'validation', field, message });
  });

  // Regression: found by these specs and fixed in core.
  it('refuses an explicit image that does not exist as a not-found on imageId', () => {
    run(groupOf(['host-1', 'host-2']), { imageId: 'image-typo' }).thenFails({ code: 'not-found', field: 'imageId', message: 'image image-typo does not exist' });
  });
});
