import type { Result } from '../shared/result.ts';
import type { TaskEvent, WakeOnLanRecord } from '../tasks/task.ts';
import type { TaskSnapshot } from '../tasks/task-machine.ts';
import { decideTransition, hostOf } from '../tasks/task-transition.ts';

/**
 * Records on the task's stream that Wake-on-LAN went out (or why it could
 * not). Only a queued task takes it: the wake is sent as the task is created,
 * before its machine can boot and check in.
 *
 * @example
 * recordWakeOnLan({ taskId, macs, port: 9, sentTo: ['192.0.2.255'], failed: [], basis: 'host 192.0.2.50 is in 192.0.2.0/24' }, snapshot)
 */
export function recordWakeOnLan(command: { taskId: string } & WakeOnLanRecord, snapshot: TaskSnapshot): Result<TaskEvent[]> {
  const { taskId, macs, port, sentTo, failed, basis } = command;
  return decideTransition(taskId, snapshot, {
    type: 'TaskWakeOnLanSent',
    data: { taskId, hostId: hostOf(snapshot), macs, port, sentTo, failed, basis },
  }, 'recorded as woken');
}

/**
 * How a Wake-Up task ends once its packets went out: complete when at least
 * one address took them (Wake-on-LAN has no answer to wait for), failed with
 * the reason when none did.
 *
 * @example
 * wakeUpOutcome({ macs, port: 9, sentTo: [], failed: [], basis: 'the host has no IP address and ...' })
 * // { complete: false, reason: 'nothing was sent: the host has no IP address and ...' }
 */
export function wakeUpOutcome(record: WakeOnLanRecord): { complete: true } | { complete: false; reason: string } {
  if (record.sentTo.length) return { complete: true };
  if (record.failed.length) {
    const errors = record.failed.map((f) => `${f.address}: ${f.error}`).join('; ');
    return { complete: false, reason: `no Wake-on-LAN packet could be sent (${errors})` };
  }
  return { complete: false, reason: `nothing was sent: ${record.basis}` };
}
