import type { Kysely } from 'kysely';
import type { Schema } from '../database/schema.ts';
import { parseMac } from '../../core/hosts/mac-address.ts';
import { CliError } from './cli-context.ts';

/** Lets people name things as they know them: a host by id, name or MAC; a group or image by id or name. */
export async function resolveHost(db: Kysely<Schema>, ref: string): Promise<string> {
  const mac = parseMac(ref);
  if (mac.ok) {
    const row = await db.selectFrom('rm_host_macs').select('host_id').where('mac', '=', mac.value).executeTakeFirst();
    if (row) return row.host_id;
  }
  const row = await db.selectFrom('rm_hosts').select('host_id')
    .where((eb) => eb.or([eb('host_id', '=', ref), eb(eb.fn('lower', ['name']), '=', ref.toLowerCase())])).executeTakeFirst();
  if (!row) throw new CliError(`no host has the id, name or MAC "${ref}"`);
  return row.host_id;
}

export async function resolveNamed(db: Kysely<Schema>, what: 'group' | 'image', ref: string): Promise<string> {
  const table = what === 'group' ? 'rm_groups' : 'rm_images';
  const idColumn = what === 'group' ? 'group_id' : 'image_id';
  const row = await db.selectFrom(table as 'rm_groups').select(`${idColumn} as id` as 'group_id')
    .where((eb) => eb.or([eb(idColumn as 'group_id', '=', ref), eb(eb.fn('lower', ['name']), '=', ref.toLowerCase())]))
    .executeTakeFirst() as { id: string } | undefined;
  if (!row) throw new CliError(`no ${what} has the id or name "${ref}"`);
  return row.id;
}
