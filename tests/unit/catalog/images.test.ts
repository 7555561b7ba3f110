import { describe, expect, it } from 'vitest';
import { IMAGE_TYPES, image } from '../../../core/images/image.ts';
import { imageCreated, images } from '../support/fixtures.ts';

const create = (fields: Record<string, unknown>) =>
  images.given([]).when((s) => image.create({ id: 'image-1', name: 'win11', ...fields }, s));
const change = (changes: Record<string, unknown>) =>
  images.given([imageCreated()]).when((s) => image.update({ id: 'image-1', changes }, s));

describe('image', () => {
  it("knows FOG's four image types", () => {
    expect(IMAGE_TYPES).toEqual(['n', 'mps', 'mpa', 'dd']);
  });

  it('records every field given', () => {
    create({ description: 'Golden image', type: 'mpa', os: 'windows-11', compression: 19 })
      .then([imageCreated({ description: 'Golden image', type: 'mpa', os: 'windows-11', compression: 19 })]);
  });

  it('defaults to a resizable single-disk image at zstd level 6', () => {
    create({}).then([imageCreated()]);
  });

  it.each(IMAGE_TYPES)('accepts type %s', (type) => {
    create({ type }).thenMatches([{ data: { type } }]);
  });

  it.each(['raw', 'N', ''])('refuses type %j', (type) => {
    create({ type }).thenFails({ code: 'validation', field: 'type', message: 'type must be one of n, mps, mpa, dd' });
  });

  it.each([0, 22])('accepts compression %d', (compression) => {
    create({ compression }).thenMatches([{ data: { compression } }]);
  });

  it.each([-1, 23, 5.5, '6'])('refuses compression %j', (compression) => {
    create({ compression }).thenFails({ code: 'validation', field: 'compression', message: 'compression must be a whole number from 0 to 22' });
  });

  it('treats a null os as empty and refuses one over 60 characters', () => {
    create({ os: null }).thenMatches([{ data: { os: '' } }]);
    create({ os: 'o'.repeat(60) }).thenMatches([{ data: { os: 'o'.repeat(60) } }]);
    create({ os: 'o'.repeat(61) }).thenFails({ code: 'validation', field: 'os', message: 'os is longer than 60 characters' });
  });

  it('refuses a description that is not text', () => {
    create({ description: 42 }).thenFails({ code: 'validation', field: 'description', message: 'description must be text' });
  });

  it('records a type change with the previous type', () => {
    change({ type: 'dd' }).then([{ type: 'ImageUpdated', data: { id: 'image-1', changes: { type: 'dd' }, previous: { type: 'n' } } }]);
  });

  it('validates changed values like new ones', () => {
    change({ compression: 40 }).thenFails({ code: 'validation', field: 'compression' });
  });
});
