import { describe, expect, it } from 'vitest';
import type { WakeOnLanRecord } from '../../../core/tasks/task.ts';
import { statusOf } from '../../../core/tasks/task-machine.ts';
import { recordWakeOnLan, wakeUpOutcome } from '../../../core/wake-on-lan/record-wake.ts';
import { HISTORY, MAC_A, tasks } from '../support/fixtures.ts';

const SENT: WakeOnLanRecord = {
  macs: [MAC_A], port: 9, sentTo: ['192.0.2.255'], failed: [{ address: '198.19.255.255', error: 'send ENETUNREACH 198.19.255.255:9' }],
  basis: 'host 192.0.2.50 is in 192.0.2.0/24',
};

describe('recording a wake on the task', () => {
  it('given a queued task, records where the packets went and leaves the task queued', () => {
    const { state } = tasks.given(HISTORY.queued).when((s) => recordWakeOnLan({ taskId: 'task-1', ...SENT }, s))
      .then([{ type: 'TaskWakeOnLanSent', data: { taskId: 'task-1', hostId: 'host-1', ...SENT } }]);
    expect(statusOf(state)).toBe('queued');
  });

  it.each(['checked-in', 'in-progress', 'complete', 'failed', 'cancelled'] as const)('given a %s task, is refused', (status) => {
    tasks.given(HISTORY[status]).when((s) => recordWakeOnLan({ taskId: 'task-1', ...SENT }, s))
      .thenFails({ code: 'conflict', message: `task task-1 is ${status}; it cannot be recorded as woken` });
  });

  it('given no task, is refused as not found', () => {
    tasks.given([]).when((s) => recordWakeOnLan({ taskId: 'task-1', ...SENT }, s)).thenFails({ code: 'not-found' });
  });
});

describe('how a Wake-Up task ends', () => {
  it('completes when at least one address took the packets, even if another failed', () => {
    expect(wakeUpOutcome(SENT)).toEqual({ complete: true });
  });

  it('fails with every send error when no address took them', () => {
    expect(wakeUpOutcome({ ...SENT, sentTo: [], failed: [{ address: '192.0.2.255', error: 'ENETUNREACH' }, { address: '198.19.0.255', error: 'EACCES' }] }))
      .toEqual({ complete: false, reason: 'no Wake-on-LAN packet could be sent (192.0.2.255: ENETUNREACH; 198.19.0.255: EACCES)' });
  });

  it('fails with the reason nothing was sent when there was no target', () => {
    expect(wakeUpOutcome({ ...SENT, sentTo: [], failed: [], basis: 'the host has no IP address and no default Wake-on-LAN targets are configured' }))
      .toEqual({ complete: false, reason: 'nothing was sent: the host has no IP address and no default Wake-on-LAN targets are configured' });
  });
});
