import type { CpuAccount } from './lab.ts';

/** What one wrk run reported. */
export interface WrkRun {
  requestsPerSecond: number;
  requests: number;
  /** Latency percentiles in ms (50, 75, 90, 99). */
  latencyMs: Record<'p50' | 'p75' | 'p90' | 'p99', number>;
  /** Answers that were not 2xx or 3xx. */
  non2xx: number;
  /** connect + read + write + timeout errors. */
  socketErrors: number;
  command: string;
}

export interface WrkOptions {
  threads: number;
  connections: number;
  seconds: number;
}

export const WRK_DEFAULTS: WrkOptions = { threads: 2, connections: 32, seconds: 10 };

/** Runs wrk in the client namespace (its CPU counted by `client`, that namespace's account) against `url` and reads its report. */
export async function wrk(client: CpuAccount, url: string, options: WrkOptions = WRK_DEFAULTS): Promise<WrkRun> {
  const args = [`-t${options.threads}`, `-c${options.connections}`, `-d${options.seconds}s`, '--latency', url];
  const { code, output } = await client.run('wrk', args, (options.seconds + 30) * 1000);
  if (code !== 0) throw new Error(`wrk ${args.join(' ')} failed (${code}):\n${output}`);
  return parseWrk(output, `wrk ${args.join(' ')}`);
}

const UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** Reads wrk's report: requests/s, the latency distribution, errors. */
export function parseWrk(text: string, command: string): WrkRun {
  const rps = /Requests\/sec:\s*([\d.]+)/.exec(text);
  if (!rps) throw new Error(`wrk printed no Requests/sec:\n${text}`);
  const percentile = (p: number) => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(text);
    return m ? Number(m[1]) * UNITS[m[2]!]! : NaN;
  };
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    requestsPerSecond: Number(rps[1]),
    requests: Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN),
    latencyMs: { p50: percentile(50), p75: percentile(75), p90: percentile(90), p99: percentile(99) },
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0),
    socketErrors: errors ? errors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
    command,
  };
}
