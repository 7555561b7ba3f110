import { parse } from '../args.ts';
import { expectOk, usageError, withBrume } from '../cli-context.ts';
import { resolveHost, resolveNamed } from '../resolve.ts';
import { getTask } from '../../../projections/sql/queries.ts';

export const TASKS_USAGE = `brume tasks create --type TYPE (--host HOST | --group GROUP) [--image IMAGE] [--after reboot|shutdown|stay] [--wake]
brume tasks cancel TASK-ID --reason "why"
brume tasks replay TASK-ID
  TYPE is a FOG task id (1 deploy, 2 capture, ...) or a name ("deploy", "memtest").
  HOST is an id, a name or a MAC; GROUP and IMAGE an id or a name.
  Common options: --as USER (default admin), --reason TEXT, --json`;

export async function tasksCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    type: { type: 'string' }, host: { type: 'string' }, group: { type: 'string' }, image: { type: 'string' },
    after: { type: 'string' }, wake: { type: 'boolean' },
  });
  const [sub, taskId] = positionals;
  if (values.help || !sub) {
    console.log(TASKS_USAGE);
    return values.help ? 0 : 2;
  }
  return withBrume(values, async ({ brume, meta }) => {
    const { db } = brume.database;
    const show = async (id: string, position?: number) => {
      await brume.settle(position);
      const task = await getTask(db, id);
      if (values.json) console.log(JSON.stringify(task, null, 2));
      else if (task) console.log(`task ${task.id}: ${task.typeName} on ${task.hostName}, ${task.state}${task.reason ? ` (${task.reason})` : ''}`);
    };
    switch (sub) {
      case 'create': {
        if (!values.type) throw usageError('say which task type: --type deploy (or a FOG id such as 1)');
        if (!values.host === !values.group) throw usageError('name either --host or --group');
        const options = { ...(values.after && { afterTask: values.after }), ...(values.wake && { wakeBefore: true }) };
        const imageId = values.image ? await resolveNamed(db, 'image', values.image) : undefined;
        if (values.host) {
          const hostId = await resolveHost(db, values.host);
          const outcome = await brume.commands.tasks.createOnHost(meta(), { type: values.type, hostId, imageId, options });
          await show(expectOk(outcome).taskId, outcome.ok ? outcome.position : undefined);
          return 0;
        }
        const groupId = await resolveNamed(db, 'group', values.group!);
        const run = expectOk(await brume.commands.tasks.createOnGroup(meta(), { type: values.type, groupId, imageId, options }));
        if (values.json) console.log(JSON.stringify(run, null, 2));
        else {
          console.log(`group run ${run.runId}: ${run.tasks.length} task(s) created, ${run.skipped.length} member(s) skipped`);
          for (const t of run.tasks) console.log(`  task ${t.taskId} on host ${t.hostId}`);
          for (const s of run.skipped) console.log(`  skipped host ${s.hostId}: ${s.reason}`);
        }
        return 0;
      }
      case 'cancel': {
        if (!taskId) throw usageError('say which task: brume tasks cancel TASK-ID --reason "why"');
        if (!values.reason) throw usageError('say why the task is cancelled: --reason "..."');
        const outcome = await brume.commands.tasks.cancel(meta(), taskId, values.reason);
        expectOk(outcome);
        await show(taskId, outcome.ok ? outcome.position : undefined);
        return 0;
      }
      case 'replay': {
        if (!taskId) throw usageError('say which task: brume tasks replay TASK-ID');
        const outcome = await brume.commands.tasks.replay(meta(), taskId);
        const created = expectOk(outcome);
        await show(created.taskId, outcome.ok ? outcome.position : undefined);
        return 0;
      }
      default:
        throw usageError(`unknown tasks command "${sub}"\n${TASKS_USAGE}`);
    }
  });
}
