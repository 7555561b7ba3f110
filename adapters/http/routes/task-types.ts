import { TASK_TYPES } from '../../../core/tasks/task-types.ts';
import type { RouteModule } from '../context.ts';
import { doc, object } from '../schemas.ts';
import { replies } from '../response-schemas/index.ts';
import { TaskTypeList } from '../response-schemas/task.ts';

/** GET /api/task-types: FOG's task catalogue with FOG's ids. */
export const taskTypeRoutes: RouteModule = (api) => {
  api.get('/api/task-types', {
    config: { access: 'read' },
    schema: {
      ...doc('tasks', 'The task types, with FOG\'s ids; POST /api/tasks takes the id or the slug'),
      querystring: object({}),
      response: replies({ 200: TaskTypeList }),
    },
  }, async () => ({ items: TASK_TYPES, total: TASK_TYPES.length }));
};
