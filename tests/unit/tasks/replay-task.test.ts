import { describe, it } from 'vitest';
import { createTask } from '../../../core/tasks/create-task.ts';
import { replayTask } from '../../../core/tasks/replay-task.ts';
import type { TaskEvent } from '../../../core/tasks/task.ts';
import { expectResult } from '../support/given-when-then.ts';
import {
  HISTORY, cancelled, failed, hostDeleted, hostState, imageCreated, imagesById, taskCreated, tasks,
} from '../support/fixtures.ts';

const capture = taskCreated({
  typeId: 2, imageId: 'image-1', storageNodeId: 'node-1', groupRunId: 'run-4', replayOf: 'task-0',
  options: { afterTask: 'shutdown', wakeBefore: true },
});
const replay = (given: TaskEvent[]) => tasks.given(given).when((s) => replayTask({ taskId: 'task-1', newTaskId: 'task-2' }, s));

describe('replayTask', () => {
  it.each([
    ['complete', [...HISTORY.complete]],
    ['failed', [capture, failed()]],
    ['cancelled', [capture, cancelled()]],
  ])('re-runs a %s task', (_status, given) => {
    replay(given).thenMatches({ taskId: 'task-2', hostId: 'host-1', replayOf: 'task-1', groupRunId: null });
  });

  it("copies the original's type, host, image and options, links it, and leaves the group run behind", () => {
    replay([capture, failed()]).then({
      taskId: 'task-2', type: 2, hostId: 'host-1', imageId: 'image-1',
      options: { afterTask: 'shutdown', wakeBefore: true }, groupRunId: null, replayOf: 'task-1',
    });
  });

  it('leaves the image unset for a task that had none, so creation resolves it again', () => {
    replay([taskCreated({ typeId: 4, imageId: null }), cancelled()]).thenMatches({ type: 4, imageId: undefined });
  });

  it.each(['queued', 'checked-in', 'in-progress'] as const)('refuses a task that is still %s', (status) => {
    replay(HISTORY[status]).thenFails({
      code: 'conflict', message: `task task-1 is still ${status}; only finished, failed or cancelled tasks can be replayed`,
    });
  });

  it('refuses a task that does not exist', () => {
    replay([]).thenFails({ code: 'not-found', message: 'task task-1 does not exist' });
  });

  it('produces a command createTask turns into the same task again, linked to the original', () => {
    const command = replay([capture, failed()]).thenSucceeds().value;
    const host = hostState({ storageNodeId: 'node-1' });
    expectResult(createTask(command, { host, via: 'host', images: imagesById([imageCreated()]) })).then([
      taskCreated({ taskId: 'task-2', typeId: 2, imageId: 'image-1', storageNodeId: 'node-1', options: capture.data.options, replayOf: 'task-1' }),
    ]);
  });

  it('goes through the usual rules when created: a host that is gone refuses the replay', () => {
    const command = replay(HISTORY.complete).thenSucceeds().value;
    const host = hostState({}, hostDeleted());
    expectResult(createTask(command, { host, via: 'host', images: imagesById([imageCreated()]) }))
      .thenFails({ code: 'not-found', field: 'hostId' });
  });
});
