import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopProcess, waitUntil, type NetNamespace } from '../../tests/e2e/support/netns.ts';
import type { BootLab } from './lab.ts';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export const BRUME_HTTP_PORT = 8080;

export interface BrumeOptions {
  /** Boot files directory (the 1 MB test file lives there). */
  filesDir: string;
  /** BRUME_TFTP_MAX_WINDOW. */
  maxWindow: number;
  /** Extra node flags, e.g. --cpu-prof to see where brume spends its time under load. */
  nodeArgs?: string[];
  /** Environment over the defaults below (e.g. BRUME_DHCP_MODE=off, BRUME_IMAGES_DIR for the imaging bench). */
  env?: Record<string, string>;
}

/** What GET /api/boot/status reports: the responders' own counters (the parts the bench reads). */
export interface BootStatus {
  dhcp?: { received: number; answered: Record<string, number>; ignored: Record<string, number>; dropped: Record<string, number> };
  tftp?: Record<string, number>;
  activity?: Record<string, number>;
}

/** The real `brume serve`, running in the lab's brume namespace. */
export interface BrumeProcess {
  readonly process: ChildProcess;
  readonly baseUrl: string;
  /** BRUME_DATA_DIR: the embedded database (and, by default, the image store under images/). */
  readonly dataDir: string;
  /** Lines brume printed that are warnings or errors (capped), and how many lines in all. */
  complaints(): string[];
  linesPrinted(): number;
  /** What brume printed up to `listening on` (its start-up summary). */
  startupLines(): string[];
  /** Calls the API with the admin's bearer token, from the client namespace. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }>;
  /** The responders' counters, or null when the route is missing or fails. */
  status(): Promise<BootStatus | null>;
  stop(): Promise<void>;
}

const MAX_COMPLAINTS = 50;

/**
 * Starts `node bin/brume.js serve` with a fresh embedded database (PGlite
 * in a temp directory), full DHCP on the lab link, TFTP and HTTP on the
 * brume address; resolves once it is listening and an API token is issued.
 */
export async function startBrume(lab: BootLab, options: BrumeOptions): Promise<BrumeProcess> {
  const side = lab.brume;
  const dataDir = await lab.tempDir('brume-data');
  const password = randomBytes(12).toString('hex');
  const baseUrl = `http://${side.address}:${BRUME_HTTP_PORT}`;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    BRUME_DATA_DIR: dataDir,
    BRUME_ADMIN_PASSWORD: password,
    BRUME_HTTP_HOST: side.address,
    BRUME_HTTP_PORT: String(BRUME_HTTP_PORT),
    BRUME_LOG_LEVEL: 'warn',
    BRUME_DHCP_MODE: 'full',
    BRUME_DHCP_INTERFACE: side.device,
    BRUME_DHCP_POOL: `${side.pool.first}-${side.pool.last}`,
    BRUME_DHCP_LEASE_SECONDS: '3600',
    BRUME_TFTP: 'on',
    BRUME_TFTP_HOST: side.address,
    BRUME_TFTP_PORT: '69',
    BRUME_TFTP_MAX_WINDOW: String(options.maxWindow),
    BRUME_BOOT_FILES_DIR: options.filesDir,
    BRUME_BOOT_SERVER_ADDRESS: side.address,
    ...options.env,
  };
  // The embedded database, always: a DATABASE_URL from the caller's shell would point outside the namespace.
  delete env.DATABASE_URL;
  const child = side.ns.spawn('node', [...(options.nodeArgs ?? []), join(REPO, 'bin', 'brume.js'), 'serve'], { env, cwd: REPO });

  let printed = 0;
  let listening = false;
  const complaints: string[] = [];
  const startup: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    // Always drained: a full pipe would block brume's writes (stderr to a pipe is synchronous).
    stream?.on('data', (chunk: Buffer) => {
      partial += chunk.toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        printed++;
        if (!listening) startup.push(line);
        if (line.includes('brume: listening on')) listening = true;
        if (/^\[(warn|error|fatal)\]|error|Error/.test(line) && complaints.length < MAX_COMPLAINTS) complaints.push(line);
      }
    });
  }
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  await waitUntil('brume serve to listen', () => listening || exited(), 90_000).catch(() => {});
  if (!listening) {
    await stopProcess(child);
    throw new Error(`brume serve did not start; it printed:\n${startup.join('\n')}`);
  }

  const token = await issueToken(lab.client, baseUrl, password, dataDir);
  const api = async (method: string, path: string, body?: unknown) => {
    const args = ['-sS', '--max-time', '20', '-X', method, '-w', '\n%{http_code}', '-H', `authorization: Bearer ${token}`];
    if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
    const out = await lab.client.exec('curl', [...args, `${baseUrl}${path}`]);
    const cut = out.lastIndexOf('\n');
    return { status: Number(out.slice(cut + 1)), text: out.slice(0, cut) };
  };
  const status = async () => {
    const answer = await api('GET', '/api/boot/status').catch(() => null);
    if (!answer || answer.status !== 200) return null;
    try { return JSON.parse(answer.text) as BootStatus; } catch { return null; }
  };
  return {
    process: child, baseUrl, dataDir, api, status,
    complaints: () => [...complaints],
    linesPrinted: () => printed,
    startupLines: () => [...startup],
    // brume closes its database on SIGTERM; give it time before SIGKILL.
    stop: () => stopProcess(child, 15_000),
  };
}

/** Signs in as admin (session cookie) and trades the session for a bearer token. */
async function issueToken(client: NetNamespace, baseUrl: string, password: string, dataDir: string): Promise<string> {
  const jar = join(dataDir, 'bench.cookies');
  const login = await client.exec('curl', ['-sS', '--max-time', '20', '-c', jar, '-H', 'content-type: application/json',
    '--data-binary', JSON.stringify({ username: 'admin', password }), `${baseUrl}/api/auth/login`]);
  if (!login.includes('"username"')) throw new Error(`cannot sign in to brume: ${login}`);
  const issued = await client.exec('curl', ['-sS', '--max-time', '20', '-b', jar, '-H', 'content-type: application/json',
    '--data-binary', JSON.stringify({ name: 'bench', expiresInDays: 1 }), `${baseUrl}/api/tokens`]);
  const token = (JSON.parse(issued) as { token?: string }).token;
  if (!token) throw new Error(`brume issued no API token: ${issued}`);
  return token;
}
