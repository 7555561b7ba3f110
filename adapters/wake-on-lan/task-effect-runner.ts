import { HOSTS, TASKS, changeAggregate, load } from '../../core/application/aggregates.ts';
import type { CommandMeta } from '../../core/application/command-runner.ts';
import type { Commands } from '../../core/application/index.ts';
import type { TaskEffectRunner } from '../../core/application/task-commands.ts';
import type { EventStore } from '../../core/ports/event-store.ts';
import { SYSTEM_ACTOR, streamIdOf, type RecordedEvent } from '../../core/shared/event.ts';
import { TASK_STREAM, type TaskEvent, type WakeOnLanRecord } from '../../core/tasks/task.ts';
import { WAKE_UP_TYPE_ID, emptyTaskSnapshot, evolveTask, statusOf } from '../../core/tasks/task-machine.ts';
import { recordWakeOnLan, wakeUpOutcome } from '../../core/wake-on-lan/record-wake.ts';
import { wakeTargets, type WakePlan } from '../../core/wake-on-lan/wake-targets.ts';
import type { WolConfig } from './wol-config.ts';
import { sendWakeOnLan, type WolSendOptions, type WolSendReport, type WolSendRequest } from './wol-sender.ts';

export type WolLog = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface WakeOnLanEffectsDeps {
  store: EventStore;
  /** The commands, read when needed: they are built with this runner, so they cannot be passed in directly. */
  commands: () => Commands;
  config: WolConfig;
  /** Sends the packets (default: sendWakeOnLan with `sendOptions`). */
  send?: (request: WolSendRequest) => Promise<WolSendReport>;
  sendOptions?: WolSendOptions;
  log?: WolLog;
  now?: () => Date;
}

/** A TaskEffectRunner that also says when the wakes it started are done (tests; a clean shutdown). */
export type WakeOnLanEffectRunner = TaskEffectRunner & {
  /** Resolves once every wake started so far has finished, recorded and (for Wake-Up tasks) ended its task. */
  idle(): Promise<void>;
};

/**
 * Runs the `wakeHost` effect in the background: loads the task and its host,
 * sends the magic packets to the host's targets, records a
 * TaskWakeOnLanSent event on the task (where the packets went, or why none
 * did), and ends a Wake-Up task through the ordinary commands: started and
 * completed when something went out, failed with the reason when nothing
 * did. Other effects are ignored. Errors go to `log`, never to an unhandled
 * rejection.
 *
 * Commands it issues use deterministic ids (`wake-on-lan:<taskId>:<step>`),
 * so a second run for the same task records nothing twice.
 *
 * @example
 * let commands: Commands;
 * const wake = wakeOnLanEffects({ store, commands: () => commands, config: wolConfigFromEnv(), log });
 * commands = createCommands({ ...deps, runTaskEffects: wake });
 */
export function wakeOnLanEffects(deps: WakeOnLanEffectsDeps): WakeOnLanEffectRunner {
  const log: WolLog = deps.log ?? (() => {});
  const now = deps.now ?? (() => new Date());
  const send = deps.send ?? ((request: WolSendRequest) => sendWakeOnLan(request, deps.sendOptions));
  const running = new Set<Promise<void>>();

  async function wake(taskId: string): Promise<void> {
    const { events } = await deps.store.readStream(streamIdOf(TASK_STREAM, taskId));
    const created = events[0];
    if (!created) {
      log('warn', `wake-on-lan: task ${taskId} does not exist; nothing sent`);
      return;
    }
    const task = events.reduce((snapshot, e) => evolveTask(snapshot, { type: e.type, data: e.data } as TaskEvent), emptyTaskSnapshot());
    const status = statusOf(task);
    if (status !== 'queued') {
      // Cancelled (or already under way) before the wake came round: waking it now would be a surprise.
      log('info', `wake-on-lan: task ${taskId} is ${status}; nothing sent`);
      return;
    }
    const hostId = task.context.hostId!;
    const { state: host } = await load(deps.store, HOSTS, hostId);
    const plan: WakePlan = host.status === 'registered'
      ? wakeTargets(host, deps.config)
      : { ok: false, reason: `host ${hostId} no longer exists` };

    let record: WakeOnLanRecord;
    if (plan.ok) {
      const report = await send({ macs: plan.macs, addresses: plan.addresses, port: deps.config.port });
      record = { macs: plan.macs, port: deps.config.port, sentTo: report.sentTo, failed: report.failed, basis: plan.basis };
    } else {
      const macs = host.status === 'registered' ? host.macs.map((m) => m.mac) : [];
      record = { macs, port: deps.config.port, sentTo: [], failed: [], basis: plan.reason };
    }
    log(record.sentTo.length ? 'info' : 'warn', `wake-on-lan: task ${taskId}: ${describe(record)}`);

    const isWakeUp = task.context.typeId === WAKE_UP_TYPE_ID;
    const meta = (step: string, reason: string): CommandMeta => ({
      actor: SYSTEM_ACTOR,
      commandId: `wake-on-lan:${taskId}:${step}`,
      ...tiedTo(created),
      reason,
    });
    const recorded = await changeAggregate(
      deps.store, meta('record', isWakeUp ? 'Wake-Up task' : 'wake before the task'), TASKS, taskId,
      (snapshot) => recordWakeOnLan({ taskId, ...record }, snapshot), (_s, version) => version,
    );
    if (!recorded.ok) {
      log('warn', `wake-on-lan: task ${taskId}: could not record the wake: ${recorded.error.message}`);
      return;
    }
    if (!isWakeUp) return;

    const tasks = deps.commands().tasks;
    const outcome = wakeUpOutcome(record);
    if (outcome.complete) {
      const started = await tasks.start(meta('start', 'Wake-Up task: packets sent'), taskId, now());
      const done = started.ok ? await tasks.complete(meta('complete', 'Wake-Up task: packets sent'), taskId) : started;
      if (!done.ok) log('warn', `wake-on-lan: Wake-Up task ${taskId} could not be completed: ${done.error.message}`);
    } else {
      const failed = await tasks.fail(meta('fail', 'Wake-Up task: nothing sent'), taskId, { reason: outcome.reason });
      if (!failed.ok) log('warn', `wake-on-lan: Wake-Up task ${taskId} could not be failed: ${failed.error.message}`);
    }
  }

  const runner = ((taskId, effects) => {
    if (!effects.some((effect) => effect.type === 'wakeHost')) return;
    const job = wake(taskId).catch((error: unknown) => {
      log('error', `wake-on-lan: task ${taskId}: ${error instanceof Error ? error.message : String(error)}`);
    });
    running.add(job);
    void job.finally(() => running.delete(job));
  }) as WakeOnLanEffectRunner;
  runner.idle = async () => {
    while (running.size) await Promise.all([...running]);
  };
  return runner;
}

/** The wake's commands belong to the conversation that created the task and are caused by it. */
const tiedTo = (created: RecordedEvent): Pick<CommandMeta, 'correlationId' | 'causationId'> => ({
  correlationId: created.metadata.correlationId,
  causationId: created.metadata.commandId,
});

function describe(record: WakeOnLanRecord): string {
  const failures = record.failed.map((f) => `${f.address} (${f.error})`).join(', ');
  if (!record.sentTo.length && !failures) return `nothing sent: ${record.basis}`;
  return [
    record.sentTo.length ? `sent for ${record.macs.join(', ')} to ${record.sentTo.join(', ')} port ${record.port}` : 'nothing sent',
    failures ? `failed: ${failures}` : '',
    `(${record.basis})`,
  ].filter(Boolean).join('; ');
}
