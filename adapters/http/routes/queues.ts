import { listStorageNodes } from '../../../projections/sql/queries.ts';
import type { Brume } from '../../runtime/brume.ts';
import type { RouteModule } from '../context.ts';
import { doc, object } from '../schemas.ts';
import { replies } from '../response-schemas/index.ts';
import { QueueList } from '../response-schemas/storage-node.ts';

/** Host names of tasks, from the read model; a task it does not have yet makes it catch up once. */
async function hostNamesOf(brume: Brume, taskIds: string[]): Promise<Map<string, string>> {
  const read = async () => {
    if (taskIds.length === 0) return new Map<string, string>();
    const rows = await brume.database.db.selectFrom('rm_tasks').select(['task_id', 'host_name']).where('task_id', 'in', taskIds).execute();
    return new Map(rows.map((r) => [r.task_id, r.host_name]));
  };
  const names = await read();
  if (names.size === taskIds.length) return names;
  await brume.readModels.catchUp();
  return read();
}

/**
 * GET /api/queues: the imaging queue of every storage node and brume's own
 * (`default`), read from the queue streams themselves: who holds a slot and
 * who waits for one, in the order they will get it.
 */
export const queueRoutes: RouteModule = (api, { brume }) => {
  api.get('/api/queues', {
    config: { access: 'read' },
    schema: {
      ...doc('storage nodes', 'Each storage node\'s queue and brume\'s own (queueId default): slots held and clients waiting, in line order'),
      querystring: object({}),
      response: replies({ 200: QueueList }),
    },
  }, async () => {
    const nodes = await listStorageNodes(brume.database.db);
    const queues = await brume.commands.imaging.queues(nodes.map((n) => n.id));
    const names = await hostNamesOf(brume, queues.flatMap((q) => [...q.active, ...q.waiting].map((t) => t.taskId)));
    const withHost = <T extends { taskId: string }>(entry: T) => ({ ...entry, hostName: names.get(entry.taskId) ?? null });
    return {
      items: queues.map((q) => ({ ...q, active: q.active.map(withHost), waiting: q.waiting.map(withHost) })),
    };
  });
};
