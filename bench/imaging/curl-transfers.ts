import type { CpuAccount } from '../boot/lab.ts';

/** What one curl reported about its transfer. */
export interface Transfer {
  status: number;
  /** Bytes downloaded (GET) or uploaded (PUT). */
  bytes: number;
  /** curl's time_total: connect to the last byte of the answer. */
  seconds: number;
  /** The answer's body when it was not thrown away (PUT). */
  body: string;
}

/** Several transfers started together; the aggregate rate is their bytes over the time until the last one ended. */
export interface TransferRun {
  transfers: Transfer[];
  /** From starting the first curl to the end of the last one, measured here. */
  wallSeconds: number;
  totalBytes: number;
}

const TIMEOUT_MS = 600_000;

/**
 * Runs curl with `args` in the client namespace, its CPU counted by that
 * namespace's account from its first instruction; `-w` adds status, size
 * and time after a newline.
 */
async function curl(client: CpuAccount, args: string[], upload: boolean): Promise<Transfer> {
  const { code, output } = await client.run('curl', ['-sS', ...args, '-w', `\n%{http_code} %{${upload ? 'size_upload' : 'size_download'}} %{time_total}`], TIMEOUT_MS);
  if (code !== 0) throw new Error(`curl ${args.join(' ')} failed (${code}): ${output.slice(-2000)}`);
  const out = output.trimEnd();
  const cut = out.lastIndexOf('\n');
  const [status, bytes, seconds] = out.slice(cut + 1).trim().split(' ').map(Number);
  return { status: status!, bytes: bytes!, seconds: seconds!, body: out.slice(0, cut) };
}

/** GETs `url` once per client at the same time, each through its own device and headers; the bytes go to /dev/null. */
export async function parallelDownloads(client: CpuAccount, clients: { device: string; url: string; headers: string[] }[]): Promise<TransferRun> {
  const started = performance.now();
  const transfers = await Promise.all(clients.map((c) =>
    curl(client, ['--interface', `if!${c.device}`, ...c.headers.flatMap((h) => ['-H', h]), '-o', '/dev/null', c.url], false)));
  const wallSeconds = (performance.now() - started) / 1000;
  for (const t of transfers) if (t.status !== 200) throw new Error(`a download answered ${t.status} after ${t.bytes} bytes`);
  return { transfers, wallSeconds, totalBytes: transfers.reduce((sum, t) => sum + t.bytes, 0) };
}

/** PUTs `file` to `url` as application/octet-stream (curl -T: streamed from the file, never held in memory). */
export async function upload(client: CpuAccount, device: string, url: string, file: string, headers: string[]): Promise<Transfer> {
  return curl(client, ['--interface', `if!${device}`, '-T', file, '-H', 'content-type: application/octet-stream', ...headers.flatMap((h) => ['-H', h]), url], true);
}
