import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiHarness, type ApiHarness } from '../../adapters/http/testing.ts';
import { imagingConfigFromEnv } from '../../adapters/imaging/imaging-config.ts';
import { BACKENDS, freshDatabase } from '../support/databases.ts';

describe.each(BACKENDS)('registration from the boot menu on $backend', ({ backend, skip }) => {
  let api: ApiHarness;
  const anonymous = () => api.as('anonymous');

  beforeAll(async () => {
    if (skip) return;
    api = await openApiHarness({
      ...(backend === 'postgres' ? await freshDatabase('postgres') : {}),
      imaging: imagingConfigFromEnv({}, '/tmp/brume-unused'),
    });
  });
  afterAll(() => api?.close());

  it.skipIf(skip)('given an unknown machine, when it registers with its inventory, then it becomes a host named after its MAC, by boot-client', async () => {
    const answer = await anonymous().post('/api/client/v1/register', { mac: '52-54-00-AB-00-01', inventory: { sysManufacturer: 'QEMU', memory: '1 GiB' } });
    expect(answer.status, answer.text).toBe(201);
    expect(answer.body.name).toBe('pc-525400ab0001');
    await api.brume.readModels.catchUp();
    const host = (await api.as('auditor').get(`/api/hosts/${answer.body.hostId}`)).body;
    expect(host).toMatchObject({ name: 'pc-525400ab0001', primaryMac: '52:54:00:ab:00:01', inventory: { sysManufacturer: 'QEMU', memory: '1 GiB' } });
    const { events } = await api.brume.store.readStream(`host-${answer.body.hostId}`);
    expect(events.map((e) => [e.type, e.metadata.actor])).toEqual([['HostRegistered', 'boot-client'], ['HostInventoryReported', 'boot-client']]);
    expect(events[0]!.metadata.reason).toMatch(/registered from the boot menu \(from /);
  });

  it.skipIf(skip)('given a registered machine, when it registers again, then 409 names the host; its inventory report updates it', async () => {
    await api.brume.readModels.catchUp();
    const again = await anonymous().post('/api/client/v1/register', { mac: '52:54:00:ab:00:01' });
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/already registered as pc-525400ab0001/);
    const inventory = await anonymous().post('/api/client/v1/inventory', { mac: '52:54:00:ab:00:01', inventory: { sysManufacturer: 'QEMU', memory: '2 GiB' } });
    expect(inventory.status, inventory.text).toBe(200);
    const unknown = await anonymous().post('/api/client/v1/inventory', { mac: '52:54:00:ab:00:99', inventory: {} });
    expect(unknown.status).toBe(404);
  });

  it.skipIf(skip)('refuses a bad MAC, a name that breaks the rules, and more than 10 calls a minute from one address', async () => {
    expect((await anonymous().post('/api/client/v1/register', { mac: 'not-a-mac' })).status).toBe(400);
    const badName = await anonymous().post('/api/client/v1/register', { mac: '52:54:00:ab:00:02', name: 'no spaces allowed' });
    expect(badName.status).toBe(400);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await anonymous().post('/api/client/v1/register', { mac: 'bad' })).status);
    expect(statuses).toContain(429);
  });
});
