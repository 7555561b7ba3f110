import { IMAGE_TYPES } from '../../../core/images/image.ts';
import { arrayOf, choice, dateTime, integer, orNull, page, ref, shape, shared, string } from './schema-kit.ts';

export const Image = shared('Image', shape({
  id: string,
  name: string,
  description: string,
  type: { ...choice(IMAGE_TYPES), description: 'n: single disk, resizable; mps: multiple partitions, one disk; mpa: all disks; dd: raw' },
  os: string,
  compression: { ...integer, description: 'zstd level used when capturing' },
  currentRevision: orNull(integer),
  sizeBytes: { ...orNull(integer), description: 'of the current revision' },
  sha256: { ...orNull(string), description: 'of the current revision\'s manifest' },
  createdAt: dateTime,
  updatedAt: dateTime,
  version: integer,
}));

export const ImagePage = page('ImagePage', Image, false);

export const ImageRevision = shared('ImageRevision', shape({
  revision: integer,
  sizeBytes: integer,
  sha256: string,
  capturedByTaskId: orNull(string),
}));

export const ImageRevisionList = shared('ImageRevisionList', shape({
  current: { ...orNull(integer), description: 'the revision deploys use' },
  revisions: { ...arrayOf(ref(ImageRevision)), description: 'oldest first' },
}));

export const imageSchemas = [Image, ImagePage, ImageRevision, ImageRevisionList];
