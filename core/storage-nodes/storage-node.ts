import { defineCatalogEntity, type CatalogEvent, type CatalogState } from '../shared/catalog-entity.ts';
import { invalid, ok, type Result } from '../shared/result.ts';
import { validateBoolean, validateInteger, validateName, validateOptionalId } from '../shared/validate.ts';

export interface StorageNodeFields {
  name: string;
  /** Host name or IP and optional port that clients stream images from. */
  address: string;
  /** Queue slots: imaging clients served at once (FOG's default is 10). */
  maxClients: number;
  /** The master of its site captures and multicasts; one per site. */
  master: boolean;
  site: string | null;
  enabled: boolean;
}

export const STORAGE_NODE_STREAM = 'storage-node';
export const DEFAULT_MAX_CLIENTS = 10;

const ADDRESS = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:\d{1,5})?$|^\[[0-9a-f:]+\](:\d{1,5})?$/i;

function validateAddress(input: unknown): Result<string> {
  const text = typeof input === 'string' ? input.trim() : '';
  if (!ADDRESS.test(text)) return invalid('address must be a host name or IP address, optionally with :port', 'address');
  const port = /:(\d+)$/.exec(text);
  if (port && (Number(port[1]) < 1 || Number(port[1]) > 65535)) return invalid(`port ${port[1]} is not between 1 and 65535`, 'address');
  return ok(text);
}

export const storageNode = defineCatalogEntity<'StorageNode', StorageNodeFields>({
  prefix: 'StorageNode',
  what: 'storage node',
  validators: {
    name: (v) => validateName(v, 'storage node'),
    address: (v) => validateAddress(v),
    maxClients: (v) => validateInteger(v, 'maxClients', 1, 1000),
    master: (v) => validateBoolean(v, 'master'),
    site: (v) => validateOptionalId(v, 'site'),
    enabled: (v) => validateBoolean(v, 'enabled'),
  },
  defaults: { maxClients: DEFAULT_MAX_CLIENTS, master: false, site: null, enabled: true },
  // The one-master-per-site claim needs both, whichever of them changed.
  alwaysInPrevious: ['master', 'site'],
});

export type StorageNodeEvent = CatalogEvent<'StorageNode', StorageNodeFields>;
export type StorageNodeState = CatalogState<StorageNodeFields>;
