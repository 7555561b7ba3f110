import type { RouteModule } from '../context.ts';
import { commandMetaOf, respond } from '../command.ts';
import { notFound } from '../errors.ts';
import { doc, id, idParams, object } from '../schemas.ts';
import { noContent, replies } from '../response-schemas/index.ts';
import { ImageRevisionList } from '../response-schemas/image.ts';

/** An image's captured revisions: list them, and delete old ones to free space. */
export const imageRevisionRoutes: RouteModule = (api, { brume }) => {
  api.get<{ Params: { id: string } }>('/api/images/:id/revisions', {
    config: { access: 'read' },
    schema: {
      ...doc('images', 'An image\'s captured revisions, oldest first, with size, digest and the capture that made each'),
      params: idParams,
      response: replies({ 200: ImageRevisionList }, { 404: 'no such image' }),
    },
  }, async (request) => {
    const found = await brume.commands.imaging.revisions(request.params.id);
    if (!found) throw notFound(`image ${request.params.id} does not exist`);
    return found;
  });

  api.delete<{ Params: { id: string; revision: number } }>('/api/images/:id/revisions/:revision', {
    config: { access: 'catalog:write' },
    schema: {
      ...doc('images', 'Delete an old revision and its files (never the current one, nor one a deploy in progress uses)'),
      params: object({ id: id(), revision: { type: 'integer', minimum: 1 } }, ['id', 'revision']),
      response: replies({ 204: noContent }, { 404: 'no such image or revision', 409: 'the current revision, or one a deploy in progress uses' }),
    },
  }, async (request, reply) => {
    const { id: imageId, revision } = request.params;
    const pinned = await brume.database.db.selectFrom('rm_tasks').select('image_revision')
      .where('image_id', '=', imageId).where('state', 'in', ['queued', 'checked-in', 'in-progress']).where('image_revision', 'is not', null).execute();
    const outcome = await brume.commands.imaging.deleteRevision(commandMetaOf(request), imageId, revision, pinned.map((p) => p.image_revision!));
    if (outcome.ok && outcome.value.capturedByTaskId) await brume.imageStore.removeRevision(imageId, outcome.value.capturedByTaskId);
    return respond(brume, reply, outcome, { expects: 'revision', status: 204 });
  });
};
