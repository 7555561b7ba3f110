import { defineCatalogEntity, type CatalogEvent, type CatalogState } from '../shared/catalog-entity.ts';
import type { DomainEvent } from '../shared/event.ts';
import { ok } from '../shared/result.ts';
import { validateChoice, validateInteger, validateName, validateText } from '../shared/validate.ts';

/** FOG image types: single disk resizable, multiple partitions one disk, all disks, raw. */
export const IMAGE_TYPES = ['n', 'mps', 'mpa', 'dd'] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];

export interface ImageFields {
  name: string;
  description: string;
  type: ImageType;
  /** Operating system label, e.g. "windows-11" or "debian-12"; informational. */
  os: string;
  /** zstd level used when capturing (FOG's default is 6). */
  compression: number;
}

export const IMAGE_STREAM = 'image';

export const image = defineCatalogEntity<'Image', ImageFields>({
  prefix: 'Image',
  what: 'image',
  validators: {
    name: (v) => validateName(v, 'image'),
    description: (v) => validateText(v, 'description'),
    type: (v) => validateChoice(v, 'type', IMAGE_TYPES),
    os: (v) => (v === undefined || v === null ? ok('') : validateText(v, 'os', 60)),
    compression: (v) => validateInteger(v, 'compression', 0, 22),
  },
  defaults: { description: '', type: 'n', os: '', compression: 6 },
});

/**
 * A captured revision that passed its checksums and became the image's
 * current one. `sha256` is the digest of its manifest, which lists every
 * file with its own digest; `capturedByTaskId` names the capture (and the
 * directory the image store keeps it in); `files` counts them.
 */
export type ImageRevisionCommitted = DomainEvent<
  'ImageRevisionCommitted',
  { id: string; revision: number; sizeBytes: number; sha256: string; capturedByTaskId: string | null; files?: number }
>;

/** An old revision removed by an admin to free space; its files go with it. Never the current one. */
export type ImageRevisionDeleted = DomainEvent<'ImageRevisionDeleted', { id: string; revision: number; capturedByTaskId: string | null }>;

export type ImageEvent = CatalogEvent<'Image', ImageFields> | ImageRevisionCommitted | ImageRevisionDeleted;
export type ImageState = CatalogState<ImageFields>;
