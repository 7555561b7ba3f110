import { invalid, notFound, ok, type Result } from '../shared/result.ts';
import type { HostEvent, HostState, Inventory } from './host.ts';

export interface ReportInventory {
  hostId: string;
  inventory: unknown;
}

/** Inventory fields FOG collects; others are kept too, these are the ones the UI shows. */
export const INVENTORY_FIELDS = [
  'sysManufacturer', 'sysProduct', 'sysVersion', 'sysSerial', 'sysUuid', 'sysType',
  'biosVendor', 'biosVersion', 'biosDate',
  'mbManufacturer', 'mbProduct', 'mbVersion', 'mbSerial', 'mbAsset',
  'cpuManufacturer', 'cpuVersion', 'cpuCurrentSpeed', 'cpuMaxSpeed',
  'memory', 'disks', 'caseManufacturer', 'caseVersion', 'caseSerial', 'caseAsset', 'gpus',
] as const;

/** Records the hardware a booted client reported; an identical report adds nothing. */
export function reportInventory(command: ReportInventory, state: HostState): Result<HostEvent[]> {
  if (state.status !== 'registered') return notFound(`host ${command.hostId} does not exist`);
  const raw = command.inventory;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return invalid('inventory must be an object', 'inventory');
  const inventory: Inventory = {};
  // Keys sorted so the same inventory in another order is recognised as unchanged.
  for (const [key, value] of Object.entries(raw).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const okValue =
      value === null ||
      typeof value === 'number' ||
      (typeof value === 'string' && value.length <= 500) ||
      (Array.isArray(value) && value.every((v) => typeof v === 'string'));
    if (!okValue) return invalid(`inventory field "${key}" must be text, a number or a list of text`, `inventory.${key}`);
    inventory[key] = value as Inventory[string];
  }
  const previous = state.inventory ? Object.fromEntries(Object.entries(state.inventory).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : null;
  if (JSON.stringify(inventory) === JSON.stringify(previous)) return ok([]);
  return ok([{ type: 'HostInventoryReported', data: { hostId: command.hostId, inventory } }]);
}
