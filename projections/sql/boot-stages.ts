import { dataOf, type SqlProjection } from './projection.ts';

/**
 * The last recorded sighting of each boot stage per MAC. Keyed by MAC, not
 * host, so a machine's boots before it was registered show on its host page
 * once it is.
 */
export const bootStagesProjection: SqlProjection = {
  name: 'boot-stages',
  tables: [{ table: 'rm_boot_stages', key: ['mac', 'stage'], json: ['detail'] }],
  async apply(rows, event) {
    if (event.type !== 'BootStageObserved') return;
    const d = dataOf(event);
    rows.put('rm_boot_stages', { mac: d.mac, stage: d.stage, host_id: d.hostId, at: new Date(d.at), detail: d.detail });
  },
};
