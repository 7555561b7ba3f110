import { IMAGE_TYPES } from '../../../core/images/image.ts';
import { getImage, listImages } from '../../../projections/sql/queries.ts';
import { catalogRoutes } from './catalog.ts';
import { integer, nullable, text } from '../schemas.ts';
import { Image, ImagePage } from '../response-schemas/image.ts';

export const imageRoutes = catalogRoutes({
  path: '/api/images',
  tag: 'images',
  what: 'image',
  fields: {
    name: text(200),
    description: nullable(1000),
    type: { type: 'string', enum: [...IMAGE_TYPES], description: 'n: single disk, resizable; mps: multiple partitions, one disk; mpa: all disks; dd: raw' },
    os: nullable(60, 'e.g. windows-11, debian-12'),
    compression: integer(0, 22, 'zstd level used when capturing'),
  },
  required: ['name'],
  commands: (brume) => brume.commands.images,
  list: listImages,
  get: getImage,
  answers: { list: ImagePage, one: Image },
});
