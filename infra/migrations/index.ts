import type { Migration } from 'kysely/migration';
import * as eventStore from './0001-event-store.ts';
import * as accounts from './0002-accounts.ts';
import * as readModels from './0003-read-models.ts';
import * as fewerEventIndexes from './0004-fewer-event-indexes.ts';
import * as hostIpPrefix from './0005-host-ip-prefix-index.ts';
import * as bootResponders from './0006-boot-responders.ts';
import * as imaging from './0007-imaging.ts';

/** Every migration in order. Listed statically so the server needs no directory scan at start. */
export const MIGRATIONS: Record<string, Migration> = {
  '0001-event-store': eventStore,
  '0002-accounts': accounts,
  '0003-read-models': readModels,
  '0004-fewer-event-indexes': fewerEventIndexes,
  '0005-host-ip-prefix-index': hostIpPrefix,
  '0006-boot-responders': bootResponders,
  '0007-imaging': imaging,
};
