import { waitUntil, type NetNamespace } from '../../tests/e2e/support/netns.ts';
import type { BrumeProcess } from '../boot/brume-process.ts';
import type { ClientLink } from './client-links.ts';

/** A registered host with a task, booted as a real one is: its token from its iPXE script. */
export interface BenchMachine {
  link: ClientLink;
  hostId: string;
  taskId: string;
  token: string;
  /** The headers every client call carries (docs/client-protocol.md). */
  headers: string[];
  /** Base of its client API: .../api/client/v1/tasks/<task id>. */
  base: string;
}

async function created(brume: BrumeProcess, path: string, body: unknown): Promise<Record<string, string>> {
  const answer = await brume.api('POST', path, body);
  if (answer.status !== 201) throw new Error(`POST ${path} answered ${answer.status}: ${answer.text}`);
  return JSON.parse(answer.text) as Record<string, string>;
}

export async function createImage(brume: BrumeProcess, name: string): Promise<string> {
  return (await created(brume, '/api/images', { name })).id!;
}

/**
 * Registers a host with `link`'s MAC, gives it a task of `type`, and fetches
 * its iPXE script from its own device until the script carries the task's
 * boot token (the boot index follows the log a moment after the task is
 * created).
 */
export async function bootMachine(client: NetNamespace, brume: BrumeProcess, link: ClientLink, name: string, type: 'capture' | 'deploy', imageId: string): Promise<BenchMachine> {
  const host = await created(brume, '/api/hosts', { name, macs: [link.mac], imageId });
  const task = await created(brume, '/api/tasks', { type, hostId: host.id, options: { afterTask: 'stay' } });
  const taskId = task.id ?? task.taskId!;
  const scriptUrl = `${brume.baseUrl}/boot/ipxe?mac=${link.mac}&arch=x86_64&platform=efi`;
  let token: string | undefined;
  let script = '';
  await waitUntil(`brume to answer ${name} with its ${type} script`, async () => {
    script = await client.exec('curl', ['-sS', '--max-time', '10', '--interface', `if!${link.device}`, scriptUrl]).catch((e: Error) => e.message);
    token = /brume\.token=(\S+)/.exec(script)?.[1];
    return token !== undefined;
  }, 30_000, 200).catch((error: Error) => {
    throw new Error(`${error.message}; last answer:\n${script}`);
  });
  return {
    link, hostId: host.id!, taskId, token: token!,
    headers: [`authorization: Bearer ${token}`, `x-brume-mac: ${link.mac}`],
    base: `${brume.baseUrl}/api/client/v1/tasks/${taskId}`,
  };
}

/** One JSON call of the client protocol, from the machine's own device. */
export async function clientCall(client: NetNamespace, machine: BenchMachine, method: string, path: string, body: unknown = {}): Promise<{ status: number; json: any; text: string }> {
  const args = ['-sS', '--max-time', '60', '--interface', `if!${machine.link.device}`, '-X', method, '-w', '\n%{http_code}',
    ...machine.headers.flatMap((h) => ['-H', h]), '-H', 'content-type: application/json', '--data-binary', JSON.stringify(body), `${machine.base}${path}`];
  const out = await client.exec('curl', args, 90_000);
  const cut = out.lastIndexOf('\n');
  const text = out.slice(0, cut);
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: Number(out.slice(cut + 1)), json, text };
}

/** Checks in until told to go; fails on anything else than go or wait. */
export async function checkInUntilGo(client: NetNamespace, machine: BenchMachine): Promise<any> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const answer = await clientCall(client, machine, 'POST', '/check-in');
    if (answer.status === 200 && answer.json?.action === 'go') return answer.json;
    if (answer.status !== 200 || answer.json?.action !== 'wait') throw new Error(`check-in of task ${machine.taskId} answered ${answer.status}: ${answer.text}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`task ${machine.taskId} was never told to go: raise BRUME_DEFAULT_MAX_CLIENTS`);
}
