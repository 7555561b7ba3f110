import { listStorageNodes } from '../../../projections/sql/queries.ts';
import { catalogRoutes } from './catalog.ts';
import { boolean, integer, nullable, text } from '../schemas.ts';
import { StorageNode, StorageNodePage } from '../response-schemas/storage-node.ts';

export const storageNodeRoutes = catalogRoutes({
  path: '/api/storage-nodes',
  tag: 'storage nodes',
  what: 'storage node',
  fields: {
    name: text(200),
    address: text(300, 'host name or IP, optionally :port'),
    maxClients: integer(1, 1000, 'imaging clients served at once'),
    master: boolean('the master of its site captures and multicasts'),
    site: nullable(100),
    enabled: boolean(),
  },
  required: ['name', 'address'],
  commands: (brume) => brume.commands.storageNodes,
  list: (db) => listStorageNodes(db),
  get: async (db, id) => (await listStorageNodes(db, id))[0],
  answers: { list: StorageNodePage, one: StorageNode },
});
