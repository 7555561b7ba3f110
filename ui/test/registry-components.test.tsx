import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../src/api.ts';
import { ConfirmButton } from '../src/components/confirm-button.tsx';
import { ErrorMessage } from '../src/components/error-message.tsx';
import { ProgressBar } from '../src/components/progress-bar.tsx';
import { summariseEvent, type EventNames } from '../src/components/subject-history.tsx';
import { formatBytes } from '../src/components/format-bytes.ts';
import type { HistoryEvent } from '../src/components/registry-types.ts';
import { byText, click, mount, settle } from './registry-test-kit.tsx';
import { render } from 'preact';

afterEach(() => { vi.unstubAllGlobals(); });

const names: EventNames = { images: new Map([['i1', 'win11']]), groups: new Map([['g1', 'lab']]), nodes: new Map(), taskTypes: new Map([[1, 'Deploy']]) };
const event = (type: string, data: Record<string, unknown>): HistoryEvent => ({
  position: 1, type, streamId: 'host-h1', streamType: 'host', version: 1, data, actor: 'u-1', correlationId: 'c', causationId: null, occurredAt: '2025-01-01T00:00:00Z',
});
const text = (node: unknown) => {
  const div = document.createElement('div');
  render(node as never, div);
  return div.textContent;
};

describe('summariseEvent', () => {
  it('says what changed, with names instead of ids', () => {
    expect(text(summariseEvent(event('HostUpdated', { changes: { imageId: 'i1', ip: '192.0.2.9' }, previous: { imageId: null, ip: null } }), names)))
      .toBe('changed imageId from none to win11; ip from none to 192.0.2.9');
  });

  it('tells a membership from the host\'s side and from the group\'s', () => {
    const added = event('GroupMembersAdded', { id: 'g1', hostIds: ['h1'] });
    expect(text(summariseEvent(added, names, 'host-h1'))).toBe('added to group lab');
    expect(text(summariseEvent(added, names, 'group-g1'))).toBe('added host h1');
  });

  it('names the task type of a new task', () => {
    expect(text(summariseEvent(event('TaskCreated', { taskId: 't1', typeId: 1, imageId: 'i1' }), names))).toBe('Deploy task created with image win11');
  });
});

describe('ErrorMessage', () => {
  it('leaves an error that names a shown field to that field', async () => {
    const root = await mount(<ErrorMessage error={new ApiError(400, 'validation', 'bad', 'macs[0]')} shownByFields={['macs']} />);
    expect(root.textContent).toBe('');
  });

  it('shows other errors as an alert', async () => {
    const root = await mount(<ErrorMessage error={new ApiError(403, 'forbidden', 'your role may not do this')} />);
    expect(root.querySelector('[role=alert]')?.textContent).toContain('your role may not do this');
  });
});

describe('ConfirmButton', () => {
  it('asks before acting, focuses the confirmation, and Escape backs out', async () => {
    const onConfirm = vi.fn();
    const root = await mount(<ConfirmButton label="Delete" confirmLabel="Delete for good" question="Delete lab-01?" onConfirm={onConfirm} />);
    await click(byText(root, 'button', 'Delete'));
    expect(document.activeElement?.textContent).toBe('Delete for good');
    document.activeElement!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    await settle();
    expect(byText(root, 'button', 'Delete for good')).toBeUndefined();
    await click(byText(root, 'button', 'Delete'));
    await click(byText(root, 'button', 'Delete for good'));
    expect(onConfirm).toHaveBeenCalledOnce();
  });
});

describe('formatBytes', () => {
  it('uses binary units', () => {
    expect(formatBytes(27)).toBe('27 B');
    expect(formatBytes(31457280)).toBe('30.0 MiB');
    expect(formatBytes(null)).toBe('—');
  });
});

describe('ProgressBar', () => {
  const figures = { percent: 25, bytesDone: 250_000_000, bytesTotal: 1_000_000_000, rateBytesPerSecond: 50_000_000, etaSeconds: null, partition: 'part2' };
  const bar = (node: unknown) => {
    const div = document.createElement('div');
    render(node as never, div);
    return div.querySelector('[role=progressbar]')!;
  };

  it('reads out the figures of a running task, working out the time left from the rate when the client sent none', () => {
    const running = bar(<ProgressBar label="deploy on lab-01" figures={figures} />);
    expect(running.getAttribute('aria-valuenow')).toBe('25');
    expect(running.getAttribute('aria-valuetext')).toMatch(/^25\.0%, .*\/s, 15 s left, partition part2, /);
  });

  it('says "when it ended" for a stopped task, and has no value before the first report', () => {
    expect(bar(<ProgressBar label="x" figures={figures} ended />).getAttribute('aria-valuetext')).toMatch(/^25\.0% when it ended, /);
    const idle = bar(<ProgressBar label="x" figures={null} waiting="waiting for a slot" />);
    expect(idle.getAttribute('aria-valuenow')).toBeNull();
    expect(idle.getAttribute('aria-valuetext')).toBe('waiting for a slot');
  });
});
