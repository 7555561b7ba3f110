import { readdir, readFile } from 'node:fs/promises';

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

/** CPU time in seconds: user (utime) and system (stime). */
export interface CpuTime {
  user: number;
  system: number;
}

/** utime and stime of one process (all its threads), in seconds; zeros when it is gone. */
export async function processCpu(pid: number): Promise<CpuTime> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (!stat) return { user: 0, system: 0 };
  // Fields after "(comm) ": state is field 3; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11] ?? 0) / CLOCK_TICKS, system: Number(fields[12] ?? 0) / CLOCK_TICKS };
}

/** utime + stime of one process, in seconds. */
export async function processCpuSeconds(pid: number): Promise<number> {
  const { user, system } = await processCpu(pid);
  return user + system;
}

/** The pids whose parent is `pid` (nginx's workers under its master). */
export async function childPids(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const task of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const text = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
    children.push(...text.split(/\s+/).filter(Boolean).map(Number));
  }
  return children;
}

/** utime and stime summed over `pids`. */
export async function cpuOf(pids: readonly number[]): Promise<CpuTime> {
  const sum = { user: 0, system: 0 };
  for (const pid of pids) {
    const { user, system } = await processCpu(pid);
    sum.user += user;
    sum.system += system;
  }
  return sum;
}

/** CPU seconds of each thread of `pid`, summed by thread name; the main thread (the pid's own) as `main`. */
export async function threadCpu(pid: number): Promise<Map<string, number>> {
  const byName = new Map<string, number>();
  for (const task of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const stat = await readFile(`/proc/${pid}/task/${task}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const key = `${Number(task) === pid ? 'main' : name}`;
    byName.set(key, (byName.get(key) ?? 0) + (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
  }
  return byName;
}
