import { AFTER_TASK } from '../../../core/tasks/create-task.ts';
import {
  arrayOf, boolean, choice, constant, integer, orNull, ref, shape, shared, string, type Schema,
} from './schema-kit.ts';

/** The booted client's API (routes/client-tasks.ts, client-registration.ts; docs/client-protocol.md). */

export const ClientHost = shared('ClientHost', shape({ hostId: string, name: string }), 'The host a machine registered as, or reported for');

const file = shape({ name: string, sizeBytes: integer, sha256: string });

/** core/images/image-manifest.ts ImageManifest, with the revision it belongs to. */
export const DeployManifest = shared('DeployManifest', shape({
  format: constant('brume-image/1'),
  imageType: string,
  disk: shape({ sizeBytes: integer, sectorSize: integer, label: string }),
  partitionTable: { ...string, description: 'the file holding the partition table' },
  partitions: arrayOf(shape({
    number: integer, device: string, startSector: integer, sizeSectors: integer, filesystem: string, tool: string, file: string,
    imageBytes: orNull(integer), minSizeBytes: orNull(integer), resizable: boolean,
  })),
  files: arrayOf(file),
  revision: integer,
  imageId: string,
  capturedByTaskId: string,
}), 'The manifest of the image revision a deploy is pinned to');

const stop: Schema = shape({ action: constant('stop'), reason: string });
const afterTask = choice(AFTER_TASK);

export const CheckInAnswer = shared('CheckInAnswer', {
  anyOf: [
    shape({
      action: constant('go'),
      resumed: { ...boolean, description: 'the task was already in progress: start its job again' },
      task: shape({
        taskId: string, type: string, direction: choice(['down', 'up', null]), debug: boolean,
        imageId: orNull(string), imageName: orNull(string), imageType: orNull(string), compression: orNull(integer),
        imageRevision: orNull(integer), afterTask,
      }),
      image: { ...orNull(ref(DeployManifest)), description: 'deploys: what to write' },
      progressSeconds: integer,
    }),
    shape({ action: constant('wait'), ahead: integer, message: string, pollSeconds: integer }),
    stop,
  ],
}, 'go (with the task and, for a deploy, its manifest), wait (and poll again), or stop');

export const CaptureFileReceived = shared('CaptureFileReceived', file, 'The size and digest the server computed');

export const ProgressAnswer = shared('ProgressAnswer', { anyOf: [shape({ action: constant('continue') }), stop] });

export const AfterTaskAnswer = shared('AfterTaskAnswer', shape({ afterTask }), 'What the machine does now');

/** POST .../inventory answers an empty object. */
export const Empty = shared('Empty', shape({}));

export const clientSchemas = [ClientHost, DeployManifest, CheckInAnswer, CaptureFileReceived, ProgressAnswer, AfterTaskAnswer, Empty];
