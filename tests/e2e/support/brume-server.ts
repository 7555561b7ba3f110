import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopProcess, waitUntil, type NetNamespace } from './netns.ts';

const REPO = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const BRUME_BIN = join(REPO, 'bin', 'brume.js');

/** The iPXE binaries machines chainload (Debian package ipxe); brume serves them over TFTP and HTTP. */
export const IPXE_BINARIES = ['ipxe.efi', 'undionly.kpxe', 'snponly.efi'];

export interface BrumeServerOptions {
  ns: NetNamespace;
  /** The server's address on the boot network; HTTP binds it too. */
  address?: string;
  httpPort?: number;
  /** The device DHCP answers on (BRUME_DHCP_INTERFACE). */
  device?: string;
  dhcpMode?: 'full' | 'proxy' | 'off';
  /** first-last, e.g. 192.0.2.100-192.0.2.150 (full DHCP only). */
  pool?: string;
  tftp?: boolean;
  /** More (or overriding) environment variables. */
  env?: Record<string, string>;
  startTimeoutMs?: number;
  /** Reuse this data directory (a restart after kill()); the caller removes it. */
  dataDir?: string;
  /** The admin's password when reusing a data directory (the first start's `adminPassword`). */
  adminPassword?: string;
}

/** One line the server printed, with when the test saw it. */
export interface ServerLine {
  at: number;
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
  text: string;
}

/** One HTTP request from fastify's request log (BRUME_LOG_LEVEL info or finer). */
export interface ServerRequest {
  at: number;
  method: string;
  url: string;
  from: string;
  /** Absent while the answer is not logged yet. */
  status?: number;
}

export interface BrumeServer {
  /** http://<address>:<port>, reachable only inside the namespace. */
  readonly url: string;
  readonly address: string;
  readonly dataDir: string;
  readonly bootFilesDir: string;
  readonly adminPassword: string;
  readonly process: ChildProcess;
  /** Everything the server printed so far, timestamped. */
  lines(): ServerLine[];
  output(): string;
  /** The HTTP requests the server logged, oldest first: what a booting machine asked for and the status it got. */
  requests(): ServerRequest[];
  /** Calls the API as admin (bearer token) from inside the namespace. */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>>;
  /** An unauthenticated GET from inside the namespace, as a booting machine would send it. */
  get(path: string): Promise<ApiAnswer<string>>;
  /** SIGTERM (brume shuts down cleanly), then removes its temp dirs. */
  stop(): Promise<void>;
  /** SIGKILL, as a power cut or an OOM kill would: nothing is cleaned up, the data directory stays for a restart. */
  kill(): Promise<void>;
}

/**
 * Runs `curl` inside the namespace: the test process lives in the root
 * namespace and cannot reach the server's address. Returns the status and
 * the body; HTTP errors are answers, not exceptions.
 */
async function curl(ns: NetNamespace, method: string, url: string, headers: Record<string, string>, body?: unknown): Promise<ApiAnswer> {
  const args = ['-sS', '--max-time', '20', '-X', method, '-w', '\n%{http_code}'];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
  args.push(url);
  const out = await ns.exec('curl', args, 30_000);
  const cut = out.lastIndexOf('\n');
  const text = out.slice(0, cut);
  const status = Number(out.slice(cut + 1));
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON: keep the text */ }
  return { status, body: parsed, text };
}

/** Joins fastify's "incoming request" and "request completed" lines by request id. */
function requestsOf(lines: ServerLine[]): ServerRequest[] {
  const byId = new Map<string, ServerRequest>();
  for (const line of lines) {
    if (!line.text.startsWith('{')) continue;
    let entry: { reqId?: string; req?: { method: string; url: string; remoteAddress: string }; res?: { statusCode: number } };
    try { entry = JSON.parse(line.text); } catch { continue; }
    if (!entry.reqId) continue;
    if (entry.req) byId.set(entry.reqId, { at: line.at, method: entry.req.method, url: entry.req.url, from: entry.req.remoteAddress });
    const known = byId.get(entry.reqId);
    if (entry.res && known) known.status = entry.res.statusCode;
  }
  return [...byId.values()];
}

/**
 * Starts the real `brume serve` inside a namespace with a fresh embedded
 * database, its boot responders bound to `device`/`address`, and an admin
 * API token; resolves once it says it is listening. brume reads the
 * device's address from iproute2, so a tap no VM holds open yet will do.
 *
 * @example
 * const brume = await startBrume({ ns });
 * const host = await brume.api('POST', '/api/hosts', { name: 'vm1', macs: ['52:54:00:12:34:56'] });
 */
export async function startBrume(options: BrumeServerOptions): Promise<BrumeServer> {
  const address = options.address ?? '192.0.2.1';
  const port = options.httpPort ?? 8080;
  const url = `http://${address}:${port}`;
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? await mkdtemp(join(tmpdir(), 'brume-e2e-data-'));
  const bootFilesDir = await mkdtemp(join(tmpdir(), 'brume-e2e-boot-'));
  for (const file of IPXE_BINARIES) await copyFile(join('/usr/lib/ipxe', file), join(bootFilesDir, file));
  const adminPassword = options.adminPassword ?? randomBytes(12).toString('hex');
  const env: Record<string, string> = {
    ...process.env as Record<string, string>,
    BRUME_DATA_DIR: dataDir,
    BRUME_ADMIN_PASSWORD: adminPassword,
    BRUME_HTTP_HOST: address,
    BRUME_HTTP_PORT: String(port),
    BRUME_DHCP_MODE: options.dhcpMode ?? 'full',
    BRUME_DHCP_INTERFACE: options.device ?? 'tap0',
    BRUME_DHCP_POOL: options.pool ?? '192.0.2.100-192.0.2.150',
    BRUME_BOOT_SERVER_ADDRESS: address,
    BRUME_BOOT_FILES_DIR: bootFilesDir,
    BRUME_TFTP: options.tftp === false ? 'off' : 'on',
    // Every API answer the suites receive is checked against its documented schema (a mismatch is a logged 500).
    BRUME_STRICT_RESPONSES: 'true',
    ...options.env,
  };
  // The embedded database, always: a DATABASE_URL from the caller's shell points outside the namespace.
  if (!options.env?.DATABASE_URL) delete env.DATABASE_URL;

  const child = options.ns.spawn('node', [BRUME_BIN, 'serve'], { env, cwd: REPO });
  const lines: ServerLine[] = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    let partial = '';
    child[stream]?.on('data', (chunk: Buffer) => {
      partial += chunk.toString('utf8');
      const complete = partial.split('\n');
      partial = complete.pop() ?? '';
      for (const text of complete) lines.push({ at: Date.now(), stream, text });
    });
  }
  const output = () => lines.map((l) => l.text).join('\n');
  const cleanup = async () => {
    await stopProcess(child, 10_000);
    if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
    await rm(bootFilesDir, { recursive: true, force: true });
  };

  const exited = () => child.exitCode !== null || child.signalCode !== null;
  try {
    await waitUntil('brume serve to say it is listening', () => exited() || lines.some((l) => l.text.includes('brume: listening on')), options.startTimeoutMs ?? 60_000);
  } catch (error) {
    await cleanup();
    throw new Error(`${(error as Error).message}; it printed:\n${output()}`);
  }
  if (exited()) {
    await cleanup();
    throw new Error(`brume serve exited (${child.exitCode ?? child.signalCode}) before listening; it printed:\n${output()}`);
  }

  let token = '';
  try {
    // A session cookie from the password, traded for a bearer token so each later call is one curl.
    const jar = join(dataDir, '..', `${dataDir.split('/').pop()}.cookies`);
    const login = await options.ns.exec('curl', ['-sS', '--max-time', '20', '-c', jar, '-H', 'content-type: application/json',
      '--data-binary', JSON.stringify({ username: 'admin', password: adminPassword }), `${url}/api/auth/login`]);
    if (!login.includes('"username"')) throw new Error(`login failed: ${login}`);
    const issued = await options.ns.exec('curl', ['-sS', '--max-time', '20', '-b', jar, '-H', 'content-type: application/json',
      '--data-binary', JSON.stringify({ name: 'e2e', expiresInDays: 1 }), `${url}/api/tokens`]);
    await rm(jar, { force: true });
    token = (JSON.parse(issued) as { token?: string }).token ?? '';
    if (!token) throw new Error(`no token in ${issued}`);
  } catch (error) {
    await cleanup();
    throw new Error(`cannot sign in to brume: ${(error as Error).message}\n${output()}`);
  }

  return {
    url, address, dataDir, bootFilesDir, adminPassword, process: child,
    lines: () => [...lines],
    output,
    requests: () => requestsOf(lines),
    api: async <T>(method: string, path: string, body?: unknown) =>
      await curl(options.ns, method, `${url}${path}`, { authorization: `Bearer ${token}` }, body) as ApiAnswer<T>,
    get: async (path: string) => {
      const answer = await curl(options.ns, 'GET', `${url}${path}`, {});
      return { ...answer, body: answer.text };
    },
    stop: cleanup,
    async kill() {
      if (exited()) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      // `ip netns exec` execs node in place, so this pid is brume's own.
      child.kill('SIGKILL');
      await gone;
      await rm(bootFilesDir, { recursive: true, force: true });
    },
  };
}

/** One direction of one TCP connection, its payload reassembled in sequence order. */
export interface TcpFlow {
  /** address:port */
  from: string;
  to: string;
  data: Buffer;
}

export interface TcpCapture {
  /** Ends tcpdump and returns every flow it saw, in the order each began. */
  stop(): Promise<TcpFlow[]>;
}

/**
 * Records the TCP traffic to and from `port` on `device` (tcpdump, pcap on
 * its stdout): what the server actually sent a booting machine, which the
 * server's own log does not show (the boot script, with its token).
 * Resolves once tcpdump is listening.
 *
 * @example
 * const wire = await captureTcp(ns, 'tap0', 8080);
 * const flows = await wire.stop();
 * const script = flows.filter((f) => f.from === '192.0.2.1:8080').map((f) => f.data.toString()).join('');
 */
export async function captureTcp(ns: NetNamespace, device: string, port: number): Promise<TcpCapture> {
  // -U: each packet is written as it comes, so stopping loses nothing; pcap on stdout needs no file tcpdump's own user can write.
  const child = ns.spawn('tcpdump', ['-i', device, '-n', '-s0', '-U', '-w', '-', 'tcp', 'port', String(port)]);
  const chunks: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let said = '';
  child.stderr?.on('data', (chunk: Buffer) => { said += chunk.toString('utf8'); });
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  try {
    await waitUntil(`tcpdump to listen on ${device}`, () => exited() || said.includes('listening on'), 10_000, 50);
  } catch (error) {
    await stopProcess(child);
    throw new Error(`${(error as Error).message}; it printed: ${said}`);
  }
  if (exited()) throw new Error(`tcpdump exited at once: ${said}`);
  let flows: Promise<TcpFlow[]> | undefined;
  return {
    stop() {
      flows ??= stopProcess(child).then(() => closed).then(() => tcpFlowsOf(Buffer.concat(chunks)));
      return flows;
    },
  };
}

/** Reads a pcap (Ethernet, IPv4) and reassembles each TCP direction: retransmissions and overlaps count once. */
export function tcpFlowsOf(pcap: Buffer): TcpFlow[] {
  if (pcap.length < 24) return [];
  const magic = pcap.readUInt32LE(0);
  const littleEndian = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!littleEndian && pcap.readUInt32BE(0) !== 0xa1b2c3d4 && pcap.readUInt32BE(0) !== 0xa1b23c4d) throw new Error('not a pcap stream');
  const u32 = (at: number) => (littleEndian ? pcap.readUInt32LE(at) : pcap.readUInt32BE(at));
  if (u32(20) !== 1) throw new Error(`pcap link type ${u32(20)}, not Ethernet`);
  const segments = new Map<string, { from: string; to: string; parts: { seq: number; data: Buffer }[] }>();
  for (let at = 24; at + 16 <= pcap.length;) {
    const length = u32(at + 8);
    const frame = pcap.subarray(at + 16, at + 16 + length);
    at += 16 + length;
    if (frame.length < 14 + 20 || frame.readUInt16BE(12) !== 0x0800) continue;
    const ip = frame.subarray(14);
    const ipHeader = (ip[0]! & 0x0f) * 4;
    if (ip[9] !== 6) continue;
    // The IP length, not the frame's: short frames carry Ethernet padding.
    const ipLength = Math.min(ip.readUInt16BE(2), ip.length);
    const tcp = ip.subarray(ipHeader, ipLength);
    if (tcp.length < 20) continue;
    const tcpHeader = (tcp[12]! >> 4) * 4;
    const data = tcp.subarray(tcpHeader);
    const address = (offset: number) => [...ip.subarray(offset, offset + 4)].join('.');
    const from = `${address(12)}:${tcp.readUInt16BE(0)}`;
    const to = `${address(16)}:${tcp.readUInt16BE(2)}`;
    const key = `${from}>${to}`;
    const flow = segments.get(key) ?? { from, to, parts: [] };
    segments.set(key, flow);
    // A SYN's sequence number is the one before the first byte: record it as an empty part so offsets start there.
    const seq = tcp.readUInt32BE(4) + ((tcp[13]! & 0x02) ? 1 : 0);
    flow.parts.push({ seq, data: Buffer.from(data) });
  }
  return [...segments.values()].map(({ from, to, parts }) => {
    const base = parts[0]?.seq ?? 0;
    const ordered = parts.map((p) => ({ offset: (p.seq - base) >>> 0, data: p.data })).sort((a, b) => a.offset - b.offset);
    const pieces: Buffer[] = [];
    let length = 0;
    for (const { offset, data } of ordered) {
      if (offset + data.length <= length) continue; // already have these bytes
      pieces.push(data.subarray(Math.max(0, length - offset)));
      length = offset + data.length;
    }
    return { from, to, data: Buffer.concat(pieces) };
  });
}
