import { describe, expect, it } from 'vitest';
import { taskTypeFor } from '../../../core/tasks/task-types.ts';
import type { TaskEvent } from '../../../core/tasks/task.ts';
import { WAKE_UP_TYPE_ID, applyNewTaskEvents, canTake, emptyTaskSnapshot, statusOf } from '../../../core/tasks/task-machine.ts';
import { fold } from '../support/given-when-then.ts';
import { HISTORY, TASK, checkedIn, completed, started, taskCreated, taskSnapshot } from '../support/fixtures.ts';

const wakeUp = (wakeBefore = false) => taskCreated({ typeId: 14, imageId: null, options: { afterTask: 'reboot', wakeBefore } });
const woken: TaskEvent = {
  type: 'TaskWakeOnLanSent',
  data: { taskId: 'task-1', hostId: 'host-1', macs: ['00:c0:4f:18:62:63'], port: 9, sentTo: ['192.0.2.255'], failed: [], basis: 'host 192.0.2.50 is in 192.0.2.0/24' },
};

describe('the Wake-Up task asks to wake its host', () => {
  it('is FOG type 14', () => {
    expect(WAKE_UP_TYPE_ID).toBe(14);
    expect(taskTypeFor('wake-up')?.id).toBe(WAKE_UP_TYPE_ID);
  });

  it('given a new Wake-Up task, asks for wakeHost once, with or without wakeBefore', () => {
    expect(applyNewTaskEvents(emptyTaskSnapshot(), [wakeUp()]).effects).toEqual([{ type: 'wakeHost' }]);
    expect(applyNewTaskEvents(emptyTaskSnapshot(), [wakeUp(true)]).effects).toEqual([{ type: 'wakeHost' }]);
  });

  it.each([1, 2, 4, 10, 12, 13])('given a new task of type %d without wakeBefore, asks for nothing', (typeId) => {
    expect(applyNewTaskEvents(emptyTaskSnapshot(), [taskCreated({ typeId })]).effects).toEqual([]);
  });

  it('given a Wake-Up task rebuilt from its stream, asks for nothing again', () => {
    const rebuilt = fold(TASK, [wakeUp()]);
    expect(statusOf(rebuilt)).toBe('queued');
    expect(applyNewTaskEvents(rebuilt, []).effects).toEqual([]);
    expect(applyNewTaskEvents(rebuilt, [woken]).effects).toEqual([]);
  });
});

describe('the Wake-on-LAN record on a task', () => {
  it('given a queued task, is taken without changing state or context', () => {
    const queued = taskSnapshot(...HISTORY.queued);
    const { snapshot, effects } = applyNewTaskEvents(queued, [woken]);
    expect(statusOf(snapshot)).toBe('queued');
    expect(snapshot.context).toEqual(queued.context);
    expect(effects).toEqual([]);
  });

  it.each(['checked-in', 'in-progress', 'complete', 'failed', 'cancelled'] as const)('given a %s task, is refused', (status) => {
    expect(canTake(taskSnapshot(...HISTORY[status]), woken)).toBe(false);
  });

  it('given a Wake-Up history (created, woken, started, completed), folds to the same state as live', () => {
    const history = [wakeUp(), woken, started(), completed()];
    const live = applyNewTaskEvents(emptyTaskSnapshot(), history);
    const rebuilt = fold(TASK, history);
    expect(statusOf(rebuilt)).toBe('complete');
    expect(rebuilt.context).toEqual(live.snapshot.context);
    expect(live.effects).toEqual([{ type: 'wakeHost' }]);
  });

  it('given a wakeBefore deploy, is followed by the usual lifecycle', () => {
    const history = [taskCreated({ options: { afterTask: 'reboot', wakeBefore: true } }), woken, checkedIn(), started(), completed()];
    expect(statusOf(fold(TASK, history))).toBe('complete');
  });
});
