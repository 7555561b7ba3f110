import type { ComponentChildren } from 'preact';
import { apiGet } from '../api.ts';
import { messageOf } from '../components/error-message.tsx';
import { PageHeading } from '../components/page-heading.tsx';
import { ProgressBar } from '../components/progress-bar.tsx';
import type { BootSighting } from '../components/registry-types.ts';
import { RelativeTime } from '../components/relative-time.tsx';
import { TaskStateBadge } from '../components/task-state.tsx';
import { useResource, type Resource } from '../components/use-resource.ts';
import { useLive, useLiveRefresh, type LiveEvent, type LiveState } from '../live.ts';
import { href } from '../router.ts';
import type { PageProps } from './index.ts';

const ACTIVE_LIMIT = 100;
const DAY_MS = 86_400_000;
const STATE_ORDER: Record<string, number> = { 'in-progress': 0, 'checked-in': 1, queued: 2 };

const isTaskEvent = (e: LiveEvent) => e.streamType === 'task' || e.streamType === 'host';
const isQueueEvent = (e: LiveEvent) => e.streamType === 'slot-queue' || e.streamType === 'storage-node' || e.streamType === 'host';

/**
 * What is happening now: running tasks with their live progress, who holds
 * and who waits for each storage node's slots, what failed in the last day
 * and which machines booted in the last hour. Each section loads on its
 * own, says its own errors, and reloads when the live feed brings an event
 * that concerns it.
 */
export function DashboardPage(_props: PageProps) {
  const live = useLive();
  return (
    <section class="dashboard">
      <PageHeading title="Dashboard" actions={<LiveStatusBadge live={live} />} />
      {live.status === 'offline' && (
        <div class="error-box" role="alert">
          <p>Live updates are off: {live.error}</p>
          <p class="hint">The sections below still show what they last loaded; they follow again once the feed is back.</p>
        </div>
      )}
      <div class="dash-grid">
        <ActiveTasks progress={live.progress} />
        <Queues />
        <RecentFailures />
        <BootActivity />
      </div>
    </section>
  );
}

function LiveStatusBadge({ live }: { live: LiveState }) {
  const text = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline' }[live.status];
  return (
    <span class={`dash-live dash-live-${live.status}`} role="status" title={live.error ?? undefined}>
      <span class="dash-live-dot" aria-hidden="true" />{text}
    </span>
  );
}

/** A dashboard section: its heading (with a count), its error with a retry, and a body that keeps its height while loading. */
function Panel({ id, title, count, resource, wide = false, children }: {
  id: string;
  title: string;
  count?: string | undefined;
  resource: Resource<unknown>;
  wide?: boolean;
  children: ComponentChildren;
}) {
  const first = resource.data === undefined;
  return (
    <section class={`panel dash-panel${wide ? ' dash-wide' : ''}`} aria-labelledby={id} aria-busy={resource.loading}>
      <div class="dash-panel-head">
        <h2 id={id}>{title}</h2>
        <span class="dash-count num muted">{count ?? ''}</span>
      </div>
      {resource.error !== undefined && (
        <div class="error-box" role="alert">
          <p>{messageOf(resource.error)}</p>
          <button type="button" class="secondary" onClick={() => void resource.reload()}>Try again</button>
        </div>
      )}
      <div class="dash-panel-body">
        {first ? (resource.error === undefined && <p class="muted dash-loading">Loading…</p>) : children}
      </div>
    </section>
  );
}

function HostLink({ id, name }: { id: string | null; name: string | null }) {
  if (!id) return <span class="muted">{name ?? 'unknown host'}</span>;
  return <a href={href('hosts', id)}>{name ?? id}</a>;
}

const waitingText: Record<string, string> = {
  queued: 'waiting for the machine to boot',
  'checked-in': 'checked in, waiting for a slot',
  'in-progress': 'started, no report yet',
};

function ActiveTasks({ progress }: { progress: LiveState['progress'] }) {
  const tasks = useResource(() => apiGet('/api/tasks', { query: { state: 'active', limit: ACTIVE_LIMIT } }), 'active');
  useLiveRefresh(isTaskEvent, tasks.reload);
  const items = [...(tasks.data?.items ?? [])].sort((a, b) =>
    (STATE_ORDER[a.state] ?? 9) - (STATE_ORDER[b.state] ?? 9) || a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  const total = tasks.data?.total ?? items.length;
  return (
    <Panel id="dash-active" title="Active tasks" count={tasks.data ? String(total) : undefined} resource={tasks} wide>
      {items.length === 0 ? <p class="muted dash-empty">No active task.</p> : (
        <ul class="dash-tasks plain">
          {items.map((task) => {
            const figures = task.state === 'in-progress' ? progress.get(task.id) ?? task.progress : null;
            return (
              <li key={task.id} class="dash-task">
                <div class="dash-task-head">
                  <span class="dash-task-name">
                    <a href={href('tasks', task.id)}>{task.typeName}</a> on <HostLink id={task.hostId} name={task.hostName} />
                  </span>
                  <TaskStateBadge state={task.state} />
                </div>
                <ProgressBar label={`${task.typeName} on ${task.hostName}`} figures={figures} waiting={waitingText[task.state] ?? task.state} />
              </li>
            );
          })}
        </ul>
      )}
      {total > items.length && <p class="hint">Showing {items.length} of {total}; <a href={href('tasks')}>all tasks</a>.</p>}
    </Panel>
  );
}

function Queues() {
  const queues = useResource(() => apiGet('/api/queues'), 'queues');
  useLiveRefresh(isQueueEvent, queues.reload);
  const items = queues.data?.items ?? [];
  const waiting = items.reduce((n, q) => n + q.waiting.length, 0);
  return (
    <Panel id="dash-queues" title="Queues" count={queues.data ? `${waiting} waiting` : undefined} resource={queues}>
      <ul class="dash-queues plain">
        {items.map((queue) => (
          <li key={queue.queueId} class="dash-queue">
            <div class="dash-queue-head">
              <h3>{queue.queueId === 'default' ? 'brume (hosts without a storage node)' : queue.name}</h3>
              <span class="num muted">{queue.active.length} of {queue.maxClients} slots</span>
              {!queue.enabled && <span class="tag">disabled</span>}
            </div>
            {queue.active.length === 0 && queue.waiting.length === 0 ? <p class="muted dash-queue-idle">Idle</p> : (
              <>
                <ul class="dash-queue-list plain" aria-label={`holding a slot on ${queue.name}`}>
                  {queue.active.map((entry) => (
                    <li key={entry.taskId}>
                      <span class="dash-slot" aria-hidden="true">●</span> <HostLink id={entry.hostId} name={entry.hostName} />
                      <span class="muted"> imaging since <RelativeTime value={entry.since} /></span>
                    </li>
                  ))}
                </ul>
                {queue.waiting.length > 0 && (
                  <ol class="dash-queue-list" aria-label={`waiting for ${queue.name}, in order`}>
                    {queue.waiting.map((entry) => (
                      <li key={entry.taskId}>
                        <span class="dash-position num" aria-hidden="true">{entry.position}.</span> <HostLink id={entry.hostId} name={entry.hostName} />
                        <span class="muted"> checked in <RelativeTime value={entry.checkedInAt} /></span>
                      </li>
                    ))}
                  </ol>
                )}
              </>
            )}
          </li>
        ))}
      </ul>
    </Panel>
  );
}

function RecentFailures() {
  const failed = useResource(() => apiGet('/api/tasks', { query: { state: 'failed', limit: 50 } }), 'failed', { refreshMs: 60_000 });
  useLiveRefresh(['TaskFailed'], failed.reload);
  const since = Date.now() - DAY_MS;
  const items = (failed.data?.items ?? []).filter((t) => t.finishedAt !== null && Date.parse(t.finishedAt) >= since)
    .sort((a, b) => (b.finishedAt ?? '').localeCompare(a.finishedAt ?? ''));
  return (
    <Panel id="dash-failures" title="Failed in the last 24 hours" count={failed.data ? String(items.length) : undefined} resource={failed}>
      {items.length === 0 ? <p class="muted dash-empty">Nothing failed.</p> : (
        <ul class="dash-failures plain">
          {items.map((task) => (
            <li key={task.id} class="dash-failure">
              <div class="dash-failure-head">
                <span><a href={href('tasks', task.id)}>{task.typeName}</a> on <HostLink id={task.hostId} name={task.hostName} /></span>
                <span class="muted"><RelativeTime value={task.finishedAt} /></span>
              </div>
              <p class="dash-reason" title={task.reason ?? undefined}>{task.reason ?? 'no reason given'}</p>
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}

interface Machine {
  mac: string;
  host: BootSighting['host'];
  last: BootSighting;
  stages: string[];
}

/** The order a network boot goes through its stages (core/boot/boot-stage.ts), for sightings in the same instant. */
const BOOT_SEQUENCE = ['dhcp', 'proxy-dhcp', 'tftp', 'http-file', 'script'];
const inBootOrder = (a: BootSighting, b: BootSighting) => a.at.localeCompare(b.at) || BOOT_SEQUENCE.indexOf(a.stage) - BOOT_SEQUENCE.indexOf(b.stage);

/** One line per machine, most recently seen first: its latest sighting and the stages it reached, in boot order. */
function machinesOf(sightings: BootSighting[]): Machine[] {
  const byMac = new Map<string, BootSighting[]>();
  for (const sighting of sightings) byMac.set(sighting.mac, [...(byMac.get(sighting.mac) ?? []), sighting]);
  const machines = [...byMac].map(([mac, seen]) => {
    const ordered = [...seen].sort(inBootOrder);
    const last = ordered[ordered.length - 1]!;
    return { mac, host: last.host, last, stages: [...new Set(ordered.map((s) => s.stage))] };
  });
  return machines.sort((a, b) => inBootOrder(b.last, a.last) || a.mac.localeCompare(b.mac));
}

function BootActivity() {
  const activity = useResource(() => apiGet('/api/boot/activity', { query: { limit: 500 } }), 'boot', { refreshMs: 30_000 });
  useLiveRefresh((e) => e.type === 'BootStageObserved', activity.reload, 2000);
  const machines = machinesOf(activity.data?.items ?? []);
  return (
    <Panel id="dash-boot" title="Booted in the last hour" count={activity.data ? `${machines.length} ${machines.length === 1 ? "machine" : "machines"}` : undefined} resource={activity} wide>
      {machines.length === 0 ? <p class="muted dash-empty">No machine booted from brume in the last hour.</p> : (
        <ul class="dash-boot plain">
          {machines.map((machine) => (
            <li key={machine.mac} class="dash-machine">
              <span class="dash-machine-name">
                {machine.host
                  ? <><a href={href('hosts', machine.host.id)}>{machine.host.name}</a> <span class="mono muted">{machine.mac}</span></>
                  : <><span class="mono">{machine.mac}</span> <span class="muted">not registered</span></>}
              </span>
              <span class="dash-stages">{machine.stages.join(' → ')}</span>
              <span class="muted dash-machine-when"><RelativeTime value={machine.last.at} /></span>
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}
