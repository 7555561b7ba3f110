import { describe, expect, it } from 'vitest';
import type { Result } from '../../../core/shared/result.ts';
import { cancelTask } from '../../../core/tasks/cancel-task.ts';
import {
  DEFAULT_CHECK_IN_TIMEOUT_SECONDS, checkInTask, completeTask, failTask, reportTaskProgress, requeueTask, startTask,
} from '../../../core/tasks/client-reports.ts';
import {
  ACTIVE_TASK_STATUSES, FINISHED_TASK_STATUSES, FOG_STATE_IDS, type TaskEvent, type TaskStatus,
} from '../../../core/tasks/task.ts';
import { applyNewTaskEvents, canTake, emptyTaskSnapshot, evolveTask, statusOf, type TaskSnapshot } from '../../../core/tasks/task-machine.ts';
import { fold } from '../support/given-when-then.ts';
import {
  HISTORY, TASK, at, cancelled, checkedIn, completed, failed, progressed, requeued, started, taskCreated, taskSnapshot, tasks,
} from '../support/fixtures.ts';

type Status = keyof typeof HISTORY;
const STATUSES = Object.keys(HISTORY) as Status[];

/** Every lifecycle step as a decide function, with the event it records and the verb a refusal uses. */
const STEPS: Record<string, { decide: (s: TaskSnapshot) => Result<TaskEvent[]>; event: TaskEvent['type']; verb: string }> = {
  'check in': { decide: (s) => checkInTask({ taskId: 'task-1', at: at(30) }, s), event: 'TaskCheckedIn', verb: 'checked in' },
  start: { decide: (s) => startTask({ taskId: 'task-1', at: at(40) }, s), event: 'TaskStarted', verb: 'started' },
  progress: {
    decide: (s) => reportTaskProgress({ taskId: 'task-1', bytesDone: 1, bytesTotal: 2, rateBytesPerSecond: 3 }, s),
    event: 'TaskProgressed', verb: 'given progress',
  },
  complete: { decide: (s) => completeTask({ taskId: 'task-1' }, s), event: 'TaskCompleted', verb: 'completed' },
  fail: { decide: (s) => failTask({ taskId: 'task-1', reason: 'boom' }, s), event: 'TaskFailed', verb: 'failed' },
  cancel: { decide: (s) => cancelTask({ taskId: 'task-1', reason: 'not needed' }, s), event: 'TaskCancelled', verb: 'cancelled' },
  // Far past any check-in deadline, so only the state decides.
  requeue: { decide: (s) => requeueTask({ taskId: 'task-1', now: at(100_000) }, s), event: 'TaskRequeued', verb: 'requeued' },
};

/** The lifecycle: from each status, which step leads where. Anything not listed is refused. */
const ALLOWED: Record<Status, Partial<Record<keyof typeof STEPS, TaskStatus>>> = {
  queued: { 'check in': 'checked-in', start: 'in-progress', fail: 'failed', cancel: 'cancelled' },
  'checked-in': {
    'check in': 'checked-in', start: 'in-progress', complete: 'complete', fail: 'failed', cancel: 'cancelled', requeue: 'queued',
  },
  'in-progress': { progress: 'in-progress', complete: 'complete', fail: 'failed', cancel: 'cancelled' },
  complete: {},
  failed: {},
  cancelled: {},
};

const matrix = STATUSES.flatMap((status) =>
  Object.keys(STEPS).map((step) => ({ status, step, to: ALLOWED[status][step] })),
);

describe('task lifecycle: every step from every status', () => {
  it.each(matrix.filter((c) => c.to))('$status: $step -> $to', ({ status, step, to }) => {
    const { decide, event } = STEPS[step]!;
    const { value, state } = tasks.given(HISTORY[status]).when(decide).thenMatches([{ type: event, data: { taskId: 'task-1', hostId: 'host-1' } }]);
    expect(value).toHaveLength(1);
    expect(statusOf(state)).toBe(to);
  });

  it.each(matrix.filter((c) => !c.to))('$status: $step is refused', ({ status, step }) => {
    const { decide, verb } = STEPS[step]!;
    tasks.given(HISTORY[status]).when(decide).thenFails({ code: 'conflict', message: `task task-1 is ${status}; it cannot be ${verb}` });
  });

  it.each(Object.keys(STEPS))('%s is refused for a task that was never created', (step) => {
    tasks.given([]).when(STEPS[step]!.decide).thenFails({ code: 'not-found', message: 'task task-1 does not exist' });
  });

  it.each(STATUSES)('a %s task cannot be created again', (status) => {
    expect(canTake(taskSnapshot(...HISTORY[status]), taskCreated())).toBe(false);
    expect(canTake(emptyTaskSnapshot(), taskCreated())).toBe(true);
  });

  it('knows the statuses, which are active, and FOG\'s numbers for them', () => {
    expect(STATUSES.map((s) => statusOf(taskSnapshot(...HISTORY[s])))).toEqual(STATUSES);
    expect(statusOf(emptyTaskSnapshot())).toBeNull();
    expect(ACTIVE_TASK_STATUSES).toEqual(['queued', 'checked-in', 'in-progress']);
    expect(FINISHED_TASK_STATUSES).toEqual(['complete', 'failed', 'cancelled']);
    expect(FOG_STATE_IDS).toEqual({ queued: 1, 'checked-in': 2, 'in-progress': 3, complete: 4, cancelled: 5, failed: 6 });
  });
});

describe('task context', () => {
  it('holds the created task and nothing else yet', () => {
    expect(taskSnapshot(taskCreated()).context).toEqual({
      ...taskCreated().data, checkedInAt: null, deadline: null, startedAt: null, progress: null, reason: null,
      queueId: null, holdsSlot: false, imageRevision: null,
    });
  });

  it('keeps the first check-in time and moves the deadline when the client checks in again', () => {
    const context = taskSnapshot(taskCreated(), checkedIn(0), checkedIn(300)).context;
    expect(context).toMatchObject({ checkedInAt: at(0).toISOString(), deadline: at(900).toISOString() });
  });

  it('clears the deadline once started and records the start', () => {
    expect(taskSnapshot(...HISTORY['in-progress']).context).toMatchObject({ checkedInAt: at(0).toISOString(), deadline: null, startedAt: at(10).toISOString() });
  });

  it('keeps the latest progress', () => {
    const context = taskSnapshot(...HISTORY['in-progress'], progressed(10, 100), progressed(60, 100)).context;
    expect(context.progress).toEqual({ bytesDone: 60, bytesTotal: 100, rateBytesPerSecond: 10, partition: null, etaSeconds: null });
  });

  it('gives up the place in the queue on requeue', () => {
    const snapshot = taskSnapshot(taskCreated(), checkedIn(0), requeued());
    expect(statusOf(snapshot)).toBe('queued');
    expect(snapshot.context).toMatchObject({ checkedInAt: null, deadline: null });
  });

  it('records why a task failed or was cancelled', () => {
    expect(taskSnapshot(...HISTORY.failed).context.reason).toBe('disk too small');
    expect(taskSnapshot(taskCreated(), checkedIn(), cancelled('wrong room')).context.reason).toBe('wrong room');
  });
});

describe('effects', () => {
  const wake = taskCreated({ options: { afterTask: 'reboot', wakeBefore: true } });

  it('asks to wake the host when a task is created with wakeBefore', () => {
    expect(applyNewTaskEvents(emptyTaskSnapshot(), [wake]).effects).toEqual([{ type: 'wakeHost' }]);
    expect(applyNewTaskEvents(emptyTaskSnapshot(), [taskCreated()]).effects).toEqual([]);
  });

  it.each([completed(), failed(), cancelled()])('given a task holding a slot, %o gives it up (no effect: the queue event goes with it)', (event) => {
    const holding = taskSnapshot(taskCreated(), checkedIn(), started({ queueId: 'node-1' }));
    expect(holding.context).toMatchObject({ queueId: 'node-1', holdsSlot: true });
    const { snapshot, effects } = applyNewTaskEvents(holding, [event]);
    expect(snapshot.context.holdsSlot).toBe(false);
    expect(effects).toEqual([]);
  });

  it('given a deploy started with a pinned revision, remembers it', () => {
    expect(taskSnapshot(taskCreated(), checkedIn(), started({ imageRevision: 3 })).context.imageRevision).toBe(3);
  });

  it.each([
    ['queued', failed()], ['queued', cancelled()], ['queued', checkedIn()], ['checked-in', requeued()],
    ['checked-in', started()], ['in-progress', progressed()],
  ] as const)('asks for nothing when a %s task takes %o', (status, event) => {
    expect(applyNewTaskEvents(taskSnapshot(...HISTORY[status]), [event]).effects).toEqual([]);
  });

  it('returns the effects of several new events in order', () => {
    const { snapshot, effects } = applyNewTaskEvents(emptyTaskSnapshot(), [wake, checkedIn(), started(), completed()]);
    expect(effects).toEqual([{ type: 'wakeHost' }]);
    expect(statusOf(snapshot)).toBe('complete');
  });

  it('returns effects only for the new events, none for the history a snapshot was rebuilt from', () => {
    const rebuilt = fold(TASK, [wake, checkedIn(), started()]);
    expect(applyNewTaskEvents(rebuilt, []).effects).toEqual([]);
    expect(applyNewTaskEvents(rebuilt, [progressed()]).effects).toEqual([]);
    expect(applyNewTaskEvents(rebuilt, [completed()]).effects).toEqual([]);
      });

  it('throws on an event the state cannot take, which a decide function should have refused', () => {
    expect(() => applyNewTaskEvents(taskSnapshot(...HISTORY.complete), [checkedIn()])).toThrow('task in state complete cannot take TaskCheckedIn');
    expect(() => applyNewTaskEvents(emptyTaskSnapshot(), [started()])).toThrow('task in state null cannot take TaskStarted');
  });

  it('leaves the snapshot untouched when replay meets an event it cannot take', () => {
    const complete = taskSnapshot(...HISTORY.complete);
    const after = evolveTask(complete, checkedIn(5000));
    expect(statusOf(after)).toBe('complete');
    expect(after.context).toEqual(complete.context);
  });
});

describe('rebuilding from the stored history', () => {
  const histories: [string, TaskEvent[]][] = [
    ['completed via check-in and progress', [taskCreated(), checkedIn(0), checkedIn(200), started(), progressed(10), progressed(90), completed()]],
    ['requeued then failed', [taskCreated(), checkedIn(0), requeued(), checkedIn(700), started({}, 710), failed('no disk')]],
    ['cancelled while queued', [taskCreated({ options: { afterTask: 'stay', wakeBefore: true } }), cancelled('typo')]],
  ];

  it.each(histories)('folding a history %s equals the live state', (_case, events) => {
    let live = emptyTaskSnapshot();
    for (const event of events) live = applyNewTaskEvents(live, [event]).snapshot;
    const rebuilt = fold(TASK, events);
    expect(rebuilt.value).toEqual(live.value);
    expect(rebuilt.context).toEqual(live.context);
    expect(rebuilt.status).toBe(live.status);
    expect(applyNewTaskEvents(emptyTaskSnapshot(), events).snapshot.context).toEqual(rebuilt.context);
  });

  it('marks finished tasks as done machines', () => {
    expect(taskSnapshot(...HISTORY.complete).status).toBe('done');
    expect(taskSnapshot(...HISTORY.queued).status).toBe('active');
  });
});

describe('client reports', () => {
  it(`checks in with a deadline ${DEFAULT_CHECK_IN_TIMEOUT_SECONDS} s later by default, or after the timeout given`, () => {
    expect(DEFAULT_CHECK_IN_TIMEOUT_SECONDS).toBe(600);
    tasks.given(HISTORY.queued).when((s) => checkInTask({ taskId: 'task-1', at: at(0) }, s)).then([checkedIn(0)]);
    tasks.given(HISTORY.queued).when((s) => checkInTask({ taskId: 'task-1', at: at(0), timeoutSeconds: 180 }, s))
      .thenMatches([{ data: { deadline: at(180).toISOString() } }]);
  });

  it('records the start time', () => {
    tasks.given(HISTORY['checked-in']).when((s) => startTask({ taskId: 'task-1', at: at(10) }, s)).then([started({}, 10)]);
  });

  it('records progress with the partition, or null', () => {
    const base = { taskId: 'task-1', bytesDone: 50, bytesTotal: 100, rateBytesPerSecond: 10 };
    tasks.given(HISTORY['in-progress']).when((s) => reportTaskProgress(base, s)).then([progressed(50, 100)]);
    tasks.given(HISTORY['in-progress']).when((s) => reportTaskProgress({ ...base, bytesDone: 100, partition: 'sda2' }, s))
      .thenMatches([{ data: { bytesDone: 100, partition: 'sda2' } }]);
  });

  it.each([
    ['bytesDone', -1, 'bytesDone must be a number >= 0'],
    ['bytesTotal', Number.NaN, 'bytesTotal must be a number >= 0'],
    ['rateBytesPerSecond', Number.POSITIVE_INFINITY, 'rateBytesPerSecond must be a number >= 0'],
    ['bytesTotal', '100', 'bytesTotal must be a number >= 0'],
    ['bytesDone', 101, 'bytesDone cannot exceed bytesTotal'],
  ])('refuses progress with a bad %s (%s)', (field, value, message) => {
    const command = { taskId: 'task-1', bytesDone: 50, bytesTotal: 100, rateBytesPerSecond: 10, [field]: value };
    tasks.given(HISTORY['in-progress']).when((s) => reportTaskProgress(command, s)).thenFails({ code: 'validation', field, message });
  });

  it('records a failure with its reason trimmed and no command or output by default', () => {
    tasks.given(HISTORY['in-progress']).when((s) => failTask({ taskId: 'task-1', reason: '  disk too small ' }, s)).then([failed('disk too small')]);
  });

  it('bounds a failure: the reason to 1000 characters, the output to its last 16000', () => {
    const output = `${'a'.repeat(5000)}${'b'.repeat(16_000)}`;
    const { value } = tasks.given(HISTORY['in-progress'])
      .when((s) => failTask({ taskId: 'task-1', reason: 'r'.repeat(1500), command: 'partclone.restore -O /dev/sda1', output }, s))
      .thenMatches([{ data: { command: 'partclone.restore -O /dev/sda1', output: 'b'.repeat(16_000) } }]);
    expect((value[0]!.data as { reason: string }).reason).toBe('r'.repeat(1000));
  });

  it.each([undefined, '', '   ', 42])('refuses a failure without a reason (%j)', (reason) => {
    tasks.given(HISTORY['in-progress']).when((s) => failTask({ taskId: 'task-1', reason }, s))
      .thenFails({ code: 'validation', field: 'reason', message: 'a failure needs a reason' });
  });

  describe('requeue after the check-in deadline', () => {
    const requeueAt = (seconds: number) => (s: TaskSnapshot) => requeueTask({ taskId: 'task-1', now: at(seconds) }, s);

    it('is refused while the check-in is still good', () => {
      tasks.given(HISTORY['checked-in']).when(requeueAt(599))
        .thenFails({ code: 'validation', message: `task task-1's check-in is good until ${at(600).toISOString()}` });
    });

    it('is refused before the deadline a second check-in moved', () => {
      tasks.given([...HISTORY['checked-in'], checkedIn(500)]).when(requeueAt(700)).thenFails({ code: 'validation', message: /good until/ });
    });

    it.each([600, 601, 5000])('is recorded at %d s, with the lapsed deadline as the reason', (seconds) => {
      tasks.given(HISTORY['checked-in']).when(requeueAt(seconds))
        .then([requeued(`client stopped polling; its check-in lapsed at ${at(600).toISOString()}`)]);
    });

    // Regression: found by these specs and fixed in core.
    it.each(['complete', 'cancelled'] as const)('refuses a %s task as finished even before the old deadline', (status) => {
      const history = status === 'complete' ? [...HISTORY['checked-in'], completed()] : [...HISTORY['checked-in'], cancelled()];
      tasks.given(history).when(requeueAt(10)).thenFails({ code: 'conflict', message: `task task-1 is ${status}; it cannot be requeued` });
    });
  });
});
