import { getGroup, listGroups } from '../../../projections/sql/queries.ts';
import { commandMetaOf, respond } from '../command.ts';
import type { RouteModule } from '../context.ts';
import { doc, idParams, ids, nullable, object, text } from '../schemas.ts';
import { catalogRoutes } from './catalog.ts';
import { commandReplies } from '../response-schemas/index.ts';
import { GroupDetail, GroupPage } from '../response-schemas/group.ts';

const groupCatalog = catalogRoutes({
  path: '/api/groups',
  tag: 'groups',
  what: 'group',
  fields: {
    name: text(200),
    description: nullable(1000),
    imageId: nullable(100, 'the image group deploys use before each host\'s own'),
  },
  required: ['name'],
  commands: (brume) => brume.commands.groups,
  list: listGroups,
  get: getGroup,
  answers: { list: GroupPage, one: GroupDetail },
});

/** Groups: the catalog routes plus membership changes from the group's side. */
export const groupRoutes: RouteModule = (api, context) => {
  groupCatalog(api, context);
  const { brume } = context;

  api.post<{ Params: { id: string }; Body: { add?: string[]; remove?: string[] } }>('/api/groups/:id/members', {
    config: { access: 'catalog:write' },
    schema: {
      ...doc('groups', 'Add and remove members; hosts already in (or out) are skipped, so the request can be repeated'),
      params: idParams,
      body: object({ add: ids('host ids to add'), remove: ids('host ids to remove') }),
      response: commandReplies(200, GroupDetail, { 404: 'no such group, or a host that does not exist' }),
    },
  }, async (request, reply) => {
    const outcome = await brume.commands.groups.changeMembers(commandMetaOf(request), request.params.id, request.body);
    return respond(brume, reply, outcome, { expects: 'members', view: ({ id }) => getGroup(brume.database.db, id), what: 'the group' });
  });
};
