import { describe, expect, it } from 'vitest';
import type { HostEvent } from '../../../core/hosts/host.ts';
import { INVENTORY_FIELDS, reportInventory } from '../../../core/hosts/report-inventory.ts';
import { hostDeleted, hostRegistered, hosts } from '../support/fixtures.ts';

const inventory = { sysManufacturer: 'Dell Inc.', memory: 16384, disks: ['nvme0n1 512GB'], caseAsset: null };
const reported = (inv: object): HostEvent => ({ type: 'HostInventoryReported', data: { hostId: 'host-1', inventory: inv } } as HostEvent);
const report = (inv: unknown, given: HostEvent[] = [hostRegistered()]) =>
  hosts.given(given).when((state) => reportInventory({ hostId: 'host-1', inventory: inv }, state));

describe('reportInventory', () => {
  it('lists the inventory fields FOG collects', () => {
    expect(INVENTORY_FIELDS).toHaveLength(25);
    expect(INVENTORY_FIELDS).toEqual(expect.arrayContaining(['sysUuid', 'biosDate', 'mbAsset', 'cpuMaxSpeed', 'memory', 'disks', 'gpus']));
  });

  it('records text, numbers, lists of text and nulls, and keeps fields it does not know', () => {
    const { state } = report({ ...inventory, vendorExtra: 'x' }).then([reported({ ...inventory, vendorExtra: 'x' })]);
    expect(state).toMatchObject({ status: 'registered', inventory: { ...inventory, vendorExtra: 'x' } });
  });

  it('records nothing when the report is identical to the last one', () => {
    report({ ...inventory }, [hostRegistered(), reported(inventory)]).thenNothing();
  });

  it('records a changed report in full, replacing the previous one', () => {
    const { state } = report({ memory: 32768 }, [hostRegistered(), reported(inventory)]).then([reported({ memory: 32768 })]);
    expect(state).toMatchObject({ inventory: { memory: 32768 } });
  });

  it('records an empty report over an earlier one', () => {
    report({}, [hostRegistered(), reported(inventory)]).then([reported({})]);
  });

  it('accepts text of exactly 500 characters', () => {
    report({ sysSerial: 's'.repeat(500) }).then([reported({ sysSerial: 's'.repeat(500) })]);
  });

  it.each([
    ['text over 500 characters', 's'.repeat(501)],
    ['a boolean', true],
    ['a nested object', { a: 1 }],
    ['a list holding a number', ['sda', 2]],
  ])('refuses a field holding %s, naming the field', (_case, value) => {
    report({ sysSerial: value }).thenFails({
      code: 'validation', field: 'inventory.sysSerial', message: 'inventory field "sysSerial" must be text, a number or a list of text',
    });
  });

  it.each([['a list', []], ['null', null], ['text', 'Dell']])('refuses an inventory that is %s', (_case, value) => {
    report(value).thenFails({ code: 'validation', field: 'inventory', message: 'inventory must be an object' });
  });

  it('refuses an unknown host', () => {
    report(inventory, []).thenFails({ code: 'not-found', message: 'host host-1 does not exist' });
  });

  it('refuses a deleted host', () => {
    report(inventory, [hostRegistered(), hostDeleted()]).thenFails({ code: 'not-found' });
  });
});
