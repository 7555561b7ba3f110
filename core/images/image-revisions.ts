import { conflict, invalid, notFound, ok, type Result } from '../shared/result.ts';
import { image, type ImageEvent, type ImageRevisionCommitted, type ImageRevisionDeleted, type ImageState } from './image.ts';

export interface ImageRevision {
  revision: number;
  sizeBytes: number;
  sha256: string;
  capturedByTaskId: string | null;
}

/** An image with its captured revisions, newest last. */
export interface ImageWithRevisions {
  image: ImageState;
  revisions: ImageRevision[];
}

export const initialImageWithRevisions = (): ImageWithRevisions => ({ image: image.initialState(), revisions: [] });

export function evolveImageWithRevisions(state: ImageWithRevisions, event: ImageEvent): ImageWithRevisions {
  if (event.type === 'ImageRevisionDeleted') return { ...state, revisions: state.revisions.filter((r) => r.revision !== event.data.revision) };
  if (event.type !== 'ImageRevisionCommitted') return { ...state, image: image.evolve(state.image, event) };
  const { revision, sizeBytes, sha256, capturedByTaskId } = event.data;
  return { ...state, revisions: [...state.revisions, { revision, sizeBytes, sha256, capturedByTaskId }] };
}

/** The image's current revision: the newest committed one. */
export const currentRevision = (state: ImageWithRevisions): ImageRevision | null => state.revisions.at(-1) ?? null;

export const revisionOf = (state: ImageWithRevisions, revision: number): ImageRevision | null =>
  state.revisions.find((r) => r.revision === revision) ?? null;

/**
 * Makes a verified capture the image's current revision. The previous
 * revision stays in the store; only this event moves "current".
 *
 * @example
 * commitImageRevision({ imageId, taskId, sizeBytes: 31457280, sha256 }, state)
 * // ok([{ type: 'ImageRevisionCommitted', data: { id: imageId, revision: 3, ... } }])
 */
export function commitImageRevision(
  command: { imageId: string; taskId: string; sizeBytes: number; sha256: string; files: number },
  state: ImageWithRevisions,
): Result<ImageRevisionCommitted[]> {
  if (state.image.status !== 'active') return notFound(`image ${command.imageId} does not exist`, 'imageId');
  if (!/^[0-9a-f]{64}$/.test(command.sha256)) return invalid('sha256 must be 64 hex digits', 'sha256');
  if (!Number.isSafeInteger(command.sizeBytes) || command.sizeBytes < 0) return invalid('sizeBytes must be a whole number >= 0', 'sizeBytes');
  if (state.revisions.some((r) => r.capturedByTaskId === command.taskId)) {
    return conflict(`task ${command.taskId} already committed a revision of image ${command.imageId}`);
  }
  const revision = (currentRevision(state)?.revision ?? 0) + 1;
  return ok([{
    type: 'ImageRevisionCommitted',
    data: { id: command.imageId, revision, sizeBytes: command.sizeBytes, sha256: command.sha256, capturedByTaskId: command.taskId, files: command.files },
  }]);
}

/**
 * Removes an old revision to free space. The current revision stays (capture
 * a new one first), and so does any revision a deploy in progress is pinned to.
 *
 * @example
 * deleteImageRevision({ imageId, revision: 1, pinned: [] }, state)
 * // ok([{ type: 'ImageRevisionDeleted', data: { id: imageId, revision: 1, capturedByTaskId } }])
 */
export function deleteImageRevision(
  command: { imageId: string; revision: unknown; pinned: readonly number[] },
  state: ImageWithRevisions,
): Result<ImageRevisionDeleted[]> {
  if (state.image.status !== 'active') return notFound(`image ${command.imageId} does not exist`);
  const number = Number(command.revision);
  const found = Number.isInteger(number) ? revisionOf(state, number) : null;
  if (!found) return notFound(`image ${state.image.name} has no revision ${String(command.revision)}`, 'revision');
  if (currentRevision(state)?.revision === number) {
    return conflict(`revision ${number} is image ${state.image.name}'s current one; capture a newer one before deleting it`, 'revision');
  }
  if (command.pinned.includes(number)) return conflict(`revision ${number} is being deployed; delete it once those deploys end`, 'revision');
  return ok([{ type: 'ImageRevisionDeleted', data: { id: command.imageId, revision: number, capturedByTaskId: found.capturedByTaskId } }]);
}
