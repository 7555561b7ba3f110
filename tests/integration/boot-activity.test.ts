import { afterEach, describe, expect, it } from 'vitest';
import { BootActivity } from '../../adapters/boot/boot-activity.ts';
import { neighbourTable } from '../../adapters/boot/neighbour-table.ts';
import { commandMeta, openBrume, type Brume } from '../../adapters/runtime/brume.ts';
import { bootStagesOf } from '../../projections/sql/queries.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A clock the test moves by hand, so intervals and rates are exact. */
function manualClock(start = Date.parse('2026-11-22T08:00:00Z')) {
  let now = start;
  return { now: () => new Date(now), advance: (ms: number) => { now += ms; } };
}

const MAC = '52:54:00:aa:00:01';

describe('BootActivity: boot stages without flooding the log', () => {
  let brume: Brume | undefined;
  afterEach(async () => { await brume?.close(); brume = undefined; });

  async function open(options: ConstructorParameters<typeof BootActivity>[2]) {
    brume = await openBrume({});
    return new BootActivity(brume.bootIndex, brume.store, options);
  }

  async function bootEvents(b: Brume) {
    const events = await b.store.readAll({ after: null, limit: 10_000 });
    return events.filter((e) => e.type === 'BootStageObserved');
  }

  it('given one machine seen 20 times in a minute, when flushed, then one event per stage records it, and the next event counts the sightings in between', async () => {
    const clock = manualClock();
    const activity = await open({ now: clock.now, intervalMs: 60_000 });
    for (let i = 0; i < 20; i++) {
      activity.observe({ mac: MAC, stage: 'dhcp', at: clock.now(), detail: { type: 'discover' } });
      clock.advance(1000);
    }
    activity.observe({ mac: MAC, stage: 'script', at: clock.now(), detail: { answer: 'registration menu' } });
    await activity.flush();
    let events = await bootEvents(brume!);
    expect(events.map((e) => [e.type, (e.data as any).stage, (e.data as any).sightings])).toEqual([
      ['BootStageObserved', 'dhcp', 1], ['BootStageObserved', 'script', 1],
    ]);
    expect(events[0]!.streamId).toBe(`boot-${MAC}`);
    expect(events[0]!.metadata.actor).toBe('boot-client');

    clock.advance(60_000);
    activity.observe({ mac: MAC, stage: 'dhcp', at: clock.now(), detail: { type: 'request' } });
    await activity.flush();
    events = await bootEvents(brume!);
    expect(events).toHaveLength(3);
    expect(events[2]!.data).toMatchObject({ stage: 'dhcp', sightings: 20, detail: { type: 'request' } });
    expect(activity.stats()).toMatchObject({ observed: 22, recorded: 3, folded: 19 });
  });

  it('given a flood of invented MACs, when observed at once, then no more events than the global rate are written and memory stays bounded', async () => {
    const clock = manualClock();
    const activity = await open({ now: clock.now, maxEventsPerSecond: 10, maxTracked: 500 });
    for (let i = 0; i < 2000; i++) {
      const mac = `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
      activity.observe({ mac, stage: 'dhcp', at: clock.now(), detail: {} });
    }
    await activity.flush();
    expect(await bootEvents(brume!)).toHaveLength(10);
    expect(activity.stats()).toMatchObject({ recorded: 10, throttled: 1990 });
    // The oldest are forgotten; the newest are still known.
    expect(activity.latest('02:00:00:00:00:00')).toEqual([]);
    expect(activity.latest('02:00:00:00:07:cf')).toHaveLength(1);

    clock.advance(1000);
    activity.observe({ mac: MAC, stage: 'dhcp', at: clock.now(), detail: {} });
    await activity.flush();
    expect(await bootEvents(brume!)).toHaveLength(11);
  });

  it('given a registered host, when its MAC boots, then the event names the host, shows in its history and in the boot-stages read model', async () => {
    const activity = await open({});
    const registered = await brume!.commands.hosts.register(commandMeta('system'), { name: 'lab-01', macs: [MAC] });
    if (!registered.ok) throw new Error(registered.error.message);
    await brume!.settle(registered.position);
    activity.observe({ mac: MAC, stage: 'tftp', at: new Date(), detail: { file: 'ipxe.efi' } });
    await activity.flush();
    const [event] = await bootEvents(brume!);
    expect(event!.data).toMatchObject({ hostId: registered.value.hostId, stage: 'tftp' });
    await brume!.settle(event!.globalPosition);
    const stages = await bootStagesOf(brume!.database.db, [MAC]);
    expect(stages).toEqual([expect.objectContaining({ mac: MAC, stage: 'tftp', detail: { file: 'ipxe.efi' } })]);
    const subjects = await brume!.database.db.selectFrom('rm_event_subjects').select('global_position')
      .where('subject', '=', `host-${registered.value.hostId}`).execute();
    expect(subjects.map((s) => s.global_position)).toContain(event!.globalPosition);
  });

  it('given only a client address, when DHCP noted it or the neighbour table knows it, then the stage is attributed; otherwise it is counted as unattributed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'brume-arp-'));
    const arp = join(dir, 'arp');
    writeFileSync(arp, [
      'IP address       HW type     Flags       HW address            Mask     Device',
      '192.0.2.77       0x1         0x2         52:54:00:AA:00:02     *        tap0',
      '192.0.2.78       0x1         0x0         00:00:00:00:00:00     *        tap0',
    ].join('\n'));
    const activity = await open({ macOfAddress: neighbourTable(arp) });
    activity.noteAddress('192.0.2.100', MAC);
    activity.observeAddress('192.0.2.100', 'tftp', { file: 'undionly.kpxe' });
    activity.observeAddress('192.0.2.77', 'http-file', { file: 'ipxe.efi' });
    activity.observeAddress('192.0.2.78', 'tftp', { file: 'x' });
    expect(activity.latest(MAC)).toEqual([expect.objectContaining({ stage: 'tftp', detail: { file: 'undionly.kpxe', ip: '192.0.2.100' } })]);
    expect(activity.latest('52:54:00:aa:00:02')).toEqual([expect.objectContaining({ stage: 'http-file' })]);
    expect(activity.stats().unattributed).toBe(1);
  });
});
