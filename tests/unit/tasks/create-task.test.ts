import { describe, it } from 'vitest';
import type { HostEvent } from '../../../core/hosts/host.ts';
import { createTask, resolveTaskType, validateTaskOptions, type CreateTask, type CreateTaskContext } from '../../../core/tasks/create-task.ts';
import { TASK_TYPES, needsImage } from '../../../core/tasks/task-types.ts';
import { expectResult } from '../support/given-when-then.ts';
import { hostDeleted, hostRegistered, hosts, imageCreated, imageDeleted, imagesById, taskCreated } from '../support/fixtures.ts';

/** Three live images and one deleted one. */
const IMAGES = imagesById(
  [imageCreated({ id: 'image-host', name: 'host-image' })],
  [imageCreated({ id: 'image-group', name: 'group-image' })],
  [imageCreated({ id: 'image-explicit', name: 'explicit-image' })],
  [imageCreated({ id: 'image-gone', name: 'gone' }), imageDeleted('image-gone', 'gone')],
);

const withHostImage = [hostRegistered({ imageId: 'image-host', storageNodeId: 'node-1' })];
const withoutImage = [hostRegistered()];

function create(
  command: Partial<CreateTask> = {},
  { given = withHostImage, ...context }: Partial<Omit<CreateTaskContext, 'host'>> & { given?: HostEvent[] } = {},
) {
  return hosts.given(given).when((host) =>
    createTask({ taskId: 'task-1', hostId: 'host-1', type: 'deploy', ...command }, { host, via: 'host', images: IMAGES, ...context }),
  );
}

describe('createTask', () => {
  it("records a deploy with the host's image and storage node and the default options", () => {
    create().then([taskCreated({ imageId: 'image-host', storageNodeId: 'node-1' })]);
  });

  it('passes the group run and the replayed task through', () => {
    create({ groupRunId: 'run-1', replayOf: 'task-0' }, { via: 'group' })
      .then([taskCreated({ imageId: 'image-host', storageNodeId: 'node-1', groupRunId: 'run-1', replayOf: 'task-0' })]);
  });

  it.each([[2, 2], ['2', 2], ['Capture', 2], ['memtest', 4]])('resolves the type %j to FOG id %d', (type, typeId) => {
    create({ type }).thenMatches([{ data: { typeId } }]);
  });

  it('refuses an unknown type', () => {
    create({ type: 'reimage' }).thenFails({
      code: 'validation', field: 'type', message: 'unknown task type "reimage"; use a FOG id (1-24) or a name such as "deploy"',
    });
    expectResult(resolveTaskType(9)).thenFails({ code: 'validation', field: 'type', message: /unknown task type "9"/ });
  });

  it.each([
    ['never registered', []],
    ['deleted', [hostRegistered(), hostDeleted()]],
  ])('refuses a host that was %s before looking at the type', (_case, given) => {
    create({ type: 'nonsense' }, { given }).thenFails({ code: 'not-found', field: 'hostId', message: 'host host-1 does not exist' });
  });

  describe('access rules', () => {
    const cases = TASK_TYPES.flatMap((type) => (['host', 'group'] as const).map((via) => ({ ...type, via, allowed: type.access === 'both' || type.access === via })));

    it.each(cases.filter((c) => c.allowed))('lets $name ($id) run via a $via', ({ id, via }) => {
      create({ type: id }, { via }).thenMatches([{ type: 'TaskCreated', data: { typeId: id } }]);
    });

    it.each(cases.filter((c) => !c.allowed && c.via === 'group'))('refuses $name ($id) via a group', ({ id, name }) => {
      create({ type: id }, { via: 'group' }).thenFails({ code: 'validation', field: 'type', message: `${name} tasks run on a single host, not on a group` });
    });

    it.each(cases.filter((c) => !c.allowed && c.via === 'host'))('refuses $name ($id) on a single host', ({ id, name }) => {
      create({ type: id }, { via: 'host' }).thenFails({ code: 'validation', field: 'type', message: `${name} tasks run on a group, not on a single host` });
    });
  });

  describe('image resolution', () => {
    it('prefers an explicit image to the group image and the host image', () => {
      create({ imageId: 'image-explicit' }, { via: 'group', groupImageId: 'image-group' }).thenMatches([{ data: { imageId: 'image-explicit' } }]);
    });

    it("prefers the group's image to the host's in a group task", () => {
      create({}, { via: 'group', groupImageId: 'image-group' }).thenMatches([{ data: { imageId: 'image-group' } }]);
    });

    it("falls back to the host's image when the group has none", () => {
      create({ type: 'multicast' }, { via: 'group', groupImageId: null }).thenMatches([{ data: { typeId: 8, imageId: 'image-host' } }]);
    });

    it("uses the explicit image over the host's for a capture", () => {
      create({ type: 'capture', imageId: 'image-explicit' }).thenMatches([{ data: { typeId: 2, imageId: 'image-explicit' } }]);
    });

    it('treats an empty or null explicit image as not given', () => {
      create({ imageId: '' }).thenMatches([{ data: { imageId: 'image-host' } }]);
      create({ imageId: null }).thenMatches([{ data: { imageId: 'image-host' } }]);
    });

    it('refuses an imaging task when no image is set anywhere', () => {
      create({}, { given: withoutImage }).thenFails({
        code: 'validation', field: 'imageId', message: 'host lab-01 has no image; set one on the host or pass imageId',
      });
      create({}, { given: withoutImage, via: 'group', groupImageId: null }).thenFails({
        code: 'validation', field: 'imageId', message: 'host lab-01 has no image; set one on the host or the group or pass imageId',
      });
    });

    it.each([
      ['an unknown image', 'image-nowhere'],
      ['a deleted image', 'image-gone'],
    ])('refuses %s', (_case, imageId) => {
      create({ imageId }).thenFails({ code: 'not-found', field: 'imageId', message: `image ${imageId} does not exist` });
    });

    it("refuses when the host's own image was deleted", () => {
      create({}, { given: [hostRegistered({ imageId: 'image-gone' })] })
        .thenFails({ code: 'not-found', field: 'imageId', message: 'image image-gone does not exist' });
    });

    it('refuses an image id that is not a string', () => {
      create({ imageId: 7 }).thenFails({ code: 'validation', field: 'imageId', message: 'imageId must be an image id' });
    });

    it.each(TASK_TYPES.filter((t) => !needsImage(t) && t.access !== 'group').map((t) => [t.name, t.id]))(
      'records no image for %s, even when the host or the command names one', (_name, type) => {
        create({ type, imageId: 'image-nowhere' }).thenMatches([{ data: { imageId: null } }]);
        create({ type }, { given: withoutImage }).thenMatches([{ data: { imageId: null } }]);
      },
    );
  });

  describe('options', () => {
    it('defaults to reboot after the task and no wake-up', () => {
      expectResult(validateTaskOptions(undefined)).then({ afterTask: 'reboot', wakeBefore: false });
      expectResult(validateTaskOptions(null)).then({ afterTask: 'reboot', wakeBefore: false });
      expectResult(validateTaskOptions({})).then({ afterTask: 'reboot', wakeBefore: false });
    });

    it('records the options given', () => {
      create({ options: { afterTask: 'shutdown', wakeBefore: true } })
        .thenMatches([{ data: { options: { afterTask: 'shutdown', wakeBefore: true } } }]);
      expectResult(validateTaskOptions({ afterTask: 'stay' })).then({ afterTask: 'stay', wakeBefore: false });
    });

    it.each([
      ['options', 'reboot', 'options must be an object'],
      ['options', ['shutdown'], 'options must be an object'],
      ['options.afterTask', { afterTask: 'hibernate' }, 'options.afterTask must be one of reboot, shutdown, stay'],
      ['options.wakeBefore', { wakeBefore: 'yes' }, 'options.wakeBefore must be true or false'],
      ['options.colour', { colour: 'red' }, 'unknown task option "colour"; known options are afterTask and wakeBefore'],
    ])('refuses bad options, naming %s', (field, options, message) => {
      create({ options }).thenFails({ code: 'validation', field, message });
    });

    it('checks options before the image', () => {
      create({ options: { colour: 'red' } }, { given: withoutImage }).thenFails({ code: 'validation', field: 'options.colour' });
    });
  });
});
