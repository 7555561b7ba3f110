import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiHarness, type ApiClient, type ApiHarness } from '../../adapters/http/testing.ts';
import { BACKENDS, freshDatabase } from '../support/databases.ts';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A moment strictly between two commands: the clock moves on before and after it is read. */
async function momentBetween(): Promise<string> {
  await pause(15);
  const at = new Date().toISOString();
  await pause(15);
  return at;
}

describe.each(BACKENDS)('GET /api/hosts/:id/as-of (time travel) on $backend', ({ backend, skip }) => {
  let api: ApiHarness;
  let operator: ApiClient;
  let auditor: ApiClient;
  let hostId: string;
  const moments: Record<'before' | 'registered' | 'renamed' | 'remacced' | 'deleted', string> = {} as never;
  let eventTimes: { type: string; version: number; occurredAt: string }[] = [];

  beforeAll(async () => {
    if (skip) return;
    api = await openApiHarness(backend === 'postgres' ? await freshDatabase('postgres') : {});
    operator = api.as('operator');
    auditor = api.as('auditor');

    moments.before = await momentBetween();
    const registered = await operator.post('/api/hosts', { name: 'lab-01', macs: ['52:54:00:aa:00:01'], ip: '192.0.2.10', description: 'first' });
    expect(registered.status, registered.text).toBe(201);
    hostId = registered.body.id;
    moments.registered = await momentBetween();
    const renamed = await operator.patch(`/api/hosts/${hostId}`, { name: 'lab-01b' });
    expect(renamed.status, renamed.text).toBe(200);
    moments.renamed = await momentBetween();
    const remacced = await operator.patch(`/api/hosts/${hostId}`, { macs: ['52:54:00:aa:00:02', { mac: '52:54:00:aa:00:03', role: 'additional' }] });
    expect(remacced.status, remacced.text).toBe(200);
    moments.remacced = await momentBetween();
    const deleted = await operator.delete(`/api/hosts/${hostId}`);
    expect(deleted.status, deleted.text).toBe(204);
    moments.deleted = await momentBetween();

    const events = await auditor.get('/api/events', { stream: `host-${hostId}` });
    expect(events.status, events.text).toBe(200);
    eventTimes = events.body.events.map((e: { type: string; version: number; occurredAt: string }) => ({ type: e.type, version: e.version, occurredAt: e.occurredAt }));
  });
  afterAll(() => api?.close());

  const asOf = (at: string, who: ApiClient = auditor, id = hostId) => who.get(`/api/hosts/${id}/as-of`, { at });

  it.skipIf(skip)('records one event per change, in order', () => {
    expect(eventTimes.map((e) => e.type)).toEqual(['HostRegistered', 'HostUpdated', 'HostUpdated', 'HostDeleted']);
  });

  it.skipIf(skip)('answers 404 for a moment before the host was registered, saying when it was', async () => {
    const response = await asOf(moments.before);
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ error: 'not-found', message: expect.stringContaining(`registered at ${eventTimes[0]!.occurredAt}`) });
  });

  it.skipIf(skip)('answers the host as registered, then renamed, then with its new MACs, then deleted', async () => {
    const registered = await asOf(moments.registered);
    expect(registered.status, registered.text).toBe(200);
    expect(registered.body).toMatchObject({
      hostId, at: moments.registered, status: 'registered', name: 'lab-01', description: 'first', ip: '192.0.2.10',
      macs: [{ mac: '52:54:00:aa:00:01', role: 'primary', ignoreForImaging: false }],
      version: 1, lastEventType: 'HostRegistered', lastEventAt: eventTimes[0]!.occurredAt, currentVersion: 4,
    });

    const renamed = await asOf(moments.renamed);
    expect(renamed.body).toMatchObject({
      status: 'registered', name: 'lab-01b', description: 'first', version: 2, lastEventType: 'HostUpdated', lastEventAt: eventTimes[1]!.occurredAt,
      macs: [{ mac: '52:54:00:aa:00:01', role: 'primary' }],
    });

    const remacced = await asOf(moments.remacced);
    expect(remacced.body).toMatchObject({
      status: 'registered', name: 'lab-01b', version: 3, lastEventAt: eventTimes[2]!.occurredAt,
      macs: [{ mac: '52:54:00:aa:00:02', role: 'primary' }, { mac: '52:54:00:aa:00:03', role: 'additional' }],
    });

    const deleted = await asOf(moments.deleted);
    expect(deleted.body).toMatchObject({ status: 'deleted', name: 'lab-01b', version: 4, lastEventType: 'HostDeleted' });
  });

  it.skipIf(skip)('includes an event that occurred exactly at the moment asked, and none after it', async () => {
    for (const [index, event] of eventTimes.entries()) {
      const exactly = await asOf(event.occurredAt);
      expect(exactly.body.version, `at ${event.type} v${event.version}`).toBe(event.version);
      const justBefore = await asOf(new Date(new Date(event.occurredAt).getTime() - 1).toISOString());
      if (index === 0) expect(justBefore.status).toBe(404);
      else expect(justBefore.body.version).toBe(event.version - 1);
    }
  });

  it.skipIf(skip)('answers the current state for a moment in the future', async () => {
    const later = await asOf(new Date(Date.now() + 86_400_000).toISOString(), operator);
    expect(later.body).toMatchObject({ status: 'deleted', version: 4, currentVersion: 4 });
  });

  it.skipIf(skip)('refuses a missing or malformed moment with a 400 naming at, and an unknown host with a 404', async () => {
    expect(await auditor.get(`/api/hosts/${hostId}/as-of`)).toMatchObject({ status: 400, body: { field: 'at' } });
    const malformed = await asOf('yesterday-ish');
    expect(malformed).toMatchObject({ status: 400, body: { error: 'validation', field: 'at' } });
    const unknown = await asOf(moments.remacced, auditor, 'no-such-host');
    expect(unknown).toMatchObject({ status: 404, body: { error: 'not-found', message: 'host no-such-host does not exist' } });
  });

  it.skipIf(skip)('is readable by every role and refused to anonymous callers', async () => {
    for (const who of ['auditor', 'operator', 'admin'] as const) expect((await asOf(moments.renamed, api.as(who))).status).toBe(200);
    expect((await asOf(moments.renamed, api.as('anonymous'))).status).toBe(401);
  });
});
