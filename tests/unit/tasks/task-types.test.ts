import { describe, expect, it } from 'vitest';
import { TASK_TYPES, needsImage, needsPxeBoot, taskTypeFor } from '../../../core/tasks/task-types.ts';

/** FOG's catalogue (fog-behaviour.md): id, name, access. */
const FOG: [number, string, 'host' | 'group' | 'both'][] = [
  [1, 'Deploy', 'both'], [2, 'Capture', 'host'], [3, 'Debug', 'host'], [4, 'Memory Test', 'both'],
  [5, 'Test Disk', 'both'], [6, 'Disk Surface Test', 'both'], [7, 'File Recovery', 'both'], [8, 'Multicast', 'group'],
  [10, 'Hardware Inventory', 'both'], [11, 'Password Reset', 'both'], [12, 'Deploy All Snapins', 'both'],
  [13, 'Deploy Single Snapin', 'both'], [14, 'Wake-Up', 'both'], [15, 'Deploy - Debug', 'host'], [16, 'Capture - Debug', 'host'],
  [17, 'Deploy - Without Snapins', 'both'], [18, 'Fast Wipe', 'both'], [19, 'Normal Wipe', 'both'], [20, 'Full Wipe', 'both'],
  [21, 'Virus Scan', 'both'], [22, 'Virus Scan - Quarantine', 'both'], [23, 'Donate', 'both'], [24, 'Torrent-Cast', 'both'],
];

const byId = (id: number) => TASK_TYPES.find((t) => t.id === id)!;

describe('task types', () => {
  it("has FOG's 23 ids (1-24 without 9), each once, in order", () => {
    expect(TASK_TYPES.map((t) => t.id)).toEqual(FOG.map(([id]) => id));
    expect(new Set(TASK_TYPES.map((t) => t.slug)).size).toBe(23);
  });

  it.each(FOG)('type %d is %s with %s access', (id, name, access) => {
    expect(byId(id)).toMatchObject({ id, name, access });
  });

  it('limits capture, debug, deploy-debug and capture-debug to single hosts and multicast to groups', () => {
    expect(TASK_TYPES.filter((t) => t.access === 'host').map((t) => t.slug)).toEqual(['capture', 'debug', 'deploy-debug', 'capture-debug']);
    expect(TASK_TYPES.filter((t) => t.access === 'group').map((t) => t.slug)).toEqual(['multicast']);
  });

  it('marks only deploy, capture and multicast as basic', () => {
    expect(TASK_TYPES.filter((t) => t.basic).map((t) => t.id)).toEqual([1, 2, 8]);
  });

  it('gives each imaging type its direction and only imaging types one', () => {
    const directions = Object.fromEntries(TASK_TYPES.filter((t) => t.direction).map((t) => [t.id, t.direction]));
    expect(directions).toEqual({ 1: 'down', 2: 'up', 8: 'down', 15: 'down', 16: 'up', 17: 'down', 24: 'down' });
    expect(TASK_TYPES.filter((t) => t.kind === 'imaging').map((t) => t.id)).toEqual([1, 2, 8, 15, 16, 17, 24]);
  });

  it('marks multicast as the only multicast type and the debug variants as debug', () => {
    expect(TASK_TYPES.filter((t) => t.multicast).map((t) => t.id)).toEqual([8]);
    expect(TASK_TYPES.filter((t) => t.debug).map((t) => t.id)).toEqual([3, 15, 16]);
  });

  it('needs an image exactly for the types that move one', () => {
    expect(TASK_TYPES.filter(needsImage).map((t) => t.id)).toEqual([1, 2, 8, 15, 16, 17, 24]);
  });

  it('PXE-boots every type except the snapin and wake-up ones', () => {
    expect(TASK_TYPES.filter((t) => !needsPxeBoot(t)).map((t) => t.id)).toEqual([12, 13, 14]);
    expect(needsPxeBoot(byId(4))).toBe(true);
  });
});

describe('taskTypeFor', () => {
  it.each([
    ['a FOG id', 2, 2],
    ['a numeric string', '8', 8],
    ['a numeric string with spaces', ' 17 ', 17],
    ['a slug', 'capture', 2],
    ['a slug in upper case', 'MEMTEST', 4],
    ['a name', 'Memory Test', 4],
    ['a name in lower case', 'hardware inventory', 10],
    ['a name with punctuation', 'Deploy - Debug', 15],
    ['a name with spaces for the slug dashes', 'virus scan quarantine', 22],
    ['a slug written with underscores', 'deploy_all_snapins', 12],
    ['a hyphenated name', 'Wake-Up', 14],
  ])('finds a type by %s', (_case, ref, id) => {
    expect(taskTypeFor(ref)?.id).toBe(id);
  });

  it.each([
    ['id 9, which FOG skips', 9],
    ['id 0', 0],
    ['id 25', 25],
    ['a fractional id', 1.5],
    ['a negative numeric string', '-1'],
    ['an unknown name', 'reimage'],
    ['an empty string', ''],
    ['null', null],
    ['a boolean', true],
    ['an object', { id: 1 }],
  ])('finds nothing for %s', (_case, ref) => {
    expect(taskTypeFor(ref)).toBeUndefined();
  });
});
