import { describe, expect, it } from 'vitest';
import { cancelTask } from '../../../core/tasks/cancel-task.ts';
import type { TaskEvent } from '../../../core/tasks/task.ts';
import { statusOf } from '../../../core/tasks/task-machine.ts';
import { HISTORY, cancelled, tasks } from '../support/fixtures.ts';

const cancel = (reason: unknown, given: TaskEvent[] = HISTORY.queued) =>
  tasks.given(given).when((s) => cancelTask({ taskId: 'task-1', reason }, s));

describe('cancelTask', () => {
  it.each(['queued', 'checked-in', 'in-progress'] as const)('cancels a %s task, recording the trimmed reason', (status) => {
    const { state } = cancel('  booked the wrong room ', HISTORY[status]).then([cancelled('booked the wrong room')]);
    expect(statusOf(state)).toBe('cancelled');
    expect(state.context.reason).toBe('booked the wrong room');
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['only whitespace', ' \n\t '],
    ['not text', 12],
  ])('requires a reason: refuses one that is %s', (_case, reason) => {
    cancel(reason).thenFails({ code: 'validation', field: 'reason', message: 'say why the task is cancelled' });
  });

  it('accepts a reason of 1000 characters and refuses 1001', () => {
    cancel('r'.repeat(1000)).then([cancelled('r'.repeat(1000))]);
    cancel('r'.repeat(1001)).thenFails({ code: 'validation', field: 'reason', message: 'reason is longer than 1000 characters' });
  });

  it('checks the reason before the task', () => {
    cancel('', []).thenFails({ code: 'validation', field: 'reason' });
  });

  it.each(['complete', 'failed', 'cancelled'] as const)('refuses a %s task', (status) => {
    cancel('too late', HISTORY[status]).thenFails({ code: 'conflict', message: `task task-1 is ${status}; it cannot be cancelled` });
  });

  it('refuses a task that does not exist', () => {
    cancel('why not', []).thenFails({ code: 'not-found', message: 'task task-1 does not exist' });
  });
});
