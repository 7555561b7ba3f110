import { createHash } from 'node:crypto';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureTcp, startBrume, type BrumeServer, type ServerRequest, type TcpCapture, type TcpFlow } from './support/brume-server.ts';
import { NetNamespace, waitUntil } from './support/netns.ts';
import { bootVm, type Firmware, type Vm } from './support/qemu.ts';

/**
 * The issue's proof: a real PXE client (QEMU under TCG, SeaBIOS with the
 * iPXE ROM, or OVMF) boots from the real `brume serve` inside a network
 * namespace, over its DHCP, TFTP and HTTP, and what it did shows in the
 * history and in the host's boot stages. What the server sent (the script,
 * its kernel line and token) is read off the tap with tcpdump, because the
 * server logs only a digest of the token.
 */

const TAP = 'tap0';
const SERVER = '192.0.2.1';
const PORT = 8080;
const POOL_FIRST = 100;
const POOL_LAST = 150;
const UNREGISTERED_MAC = '52:54:00:e2:e0:21';
const REGISTERED_MAC = '52:54:00:e2:e0:22';

/** TCG is slow: SeaBIOS+iPXE fetches its script ~18 s after start, OVMF ~32 s (TFTP, then iPXE's own DHCP). */
const SCRIPT_TIMEOUT_MS = 120_000;
const SCENARIO_TIMEOUT_MS = 200_000;

interface EventView {
  position: number;
  type: string;
  streamId: string;
  actor: string;
  data: Record<string, unknown> & { stage?: string; detail?: Record<string, string>; hostId?: string | null };
}

interface BootStageView {
  mac: string;
  stage: string;
  at: string;
  detail: Record<string, string>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const exited = (child: { exitCode: number | null; signalCode: NodeJS.Signals | null }) => child.exitCode !== null || child.signalCode !== null;

function inPool(ip: string | undefined): boolean {
  const match = /^192\.0\.2\.(\d+)$/.exec(ip ?? '');
  return match !== null && Number(match[1]) >= POOL_FIRST && Number(match[1]) <= POOL_LAST;
}

/** The MAC a /boot/ipxe request asked for, as iPXE sent it. */
const macOf = (request: ServerRequest): string | null => new URL(request.url, 'http://x').searchParams.get('mac');

describe('PXE boot from brume (QEMU under TCG, in a network namespace)', () => {
  let ns: NetNamespace;
  let brume: BrumeServer;
  let shots: string;

  beforeAll(async () => {
    shots = process.env.BRUME_E2E_SCREENSHOTS ?? await mkdtemp(join(tmpdir(), 'brume-pxe-screens-'));
    await mkdir(shots, { recursive: true });
    ns = await NetNamespace.create('pxe');
    try {
      // No VM holds the tap yet: brume reads the address from iproute2, carrier or not.
      await ns.addTap(TAP, `${SERVER}/24`);
      brume = await startBrume({
        ns, address: SERVER, httpPort: PORT, device: TAP, dhcpMode: 'full', pool: `192.0.2.${POOL_FIRST}-192.0.2.${POOL_LAST}`,
        // The registration menu stays up (instead of booting the missing local disk after 5 s) until the screenshot.
        env: { BRUME_BOOT_MENU_TIMEOUT: '120' },
      });
    } catch (error) {
      await ns.destroy();
      throw error;
    }
  });

  afterAll(async () => {
    await brume?.stop();
    await ns?.destroy();
  });

  /** The first /boot/ipxe request for `mac` that has been answered. */
  const scriptRequest = (mac: string) => brume.requests().find((r) => r.url.startsWith('/boot/ipxe?') && macOf(r) === mac && r.status !== undefined);

  const events = async (query: string): Promise<EventView[]> => {
    const answer = await brume.api<{ events: EventView[] }>('GET', `/api/events?${query}&limit=500`);
    if (answer.status !== 200) throw new Error(`GET /api/events?${query}: ${answer.status} ${answer.text}`);
    return answer.body.events;
  };

  /** Boot events reach the log in the background (batched every 250 ms): poll until `ready` holds. */
  const eventsWhen = async (query: string, ready: (found: EventView[]) => boolean): Promise<EventView[]> => {
    let found: EventView[] = [];
    try {
      await waitUntil(`events (${query}) to be recorded`, async () => ready(found = await events(query)), 15_000, 250);
    } catch (error) {
      throw new Error(`${(error as Error).message}; last answer: ${JSON.stringify(found.map((e) => ({ type: e.type, data: e.data })))}`);
    }
    return found;
  };

  const stageEvent = (found: EventView[], stage: string) => found.find((e) => e.type === 'BootStageObserved' && e.data.stage === stage);

  /**
   * Boots one VM with a tcpdump on the tap, runs `body`, and always stops
   * both. A failure carries what brume printed since, the serial console
   * (OVMF and iPXE under UEFI print there), QEMU's output and a screenshot.
   */
  async function withVm(label: string, mac: string, firmware: Firmware, body: (vm: Vm, wire: TcpCapture) => Promise<void>): Promise<void> {
    const linesBefore = brume.lines().length;
    const started = Date.now();
    const wire = await captureTcp(ns, TAP, PORT);
    let vm: Vm | undefined;
    try {
      vm = await bootVm({ ns, tap: TAP, mac, firmware, maxLifetimeSeconds: Math.ceil(SCENARIO_TIMEOUT_MS / 1000) });
      await body(vm, wire);
      console.log(`${label}: passed ${((Date.now() - started) / 1000).toFixed(1)} s after QEMU started`);
    } catch (error) {
      const shot = vm && !exited(vm.process)
        ? await vm.screenshot(join(shots, `${label}-failure.png`)).catch((e: Error) => `none (${e.message})`)
        : 'none (QEMU is not running)';
      const tail = (text: string, n: number) => text.trim().split('\n').slice(-n).map((l) => l.slice(0, 400)).join('\n') || '(nothing)';
      const brumeSince = brume.lines().slice(linesBefore).map((l) => `${((l.at - started) / 1000).toFixed(1)}s ${l.stream} ${l.text}`).join('\n');
      // brume logs HTTP requests but not DHCP or TFTP: the boot stream says how far the machine got.
      const stagesSeen = await events(`stream=${encodeURIComponent(`boot-${mac}`)}`)
        .then((found) => found.map((e) => `${e.type} ${e.data.stage ?? ''} ${JSON.stringify(e.data.detail ?? {})}`).join('\n'))
        .catch((e: Error) => `(cannot read them: ${e.message})`);
      const failure = error instanceof Error ? error : new Error(String(error));
      failure.message += `\n\n--- ${label}: ${((Date.now() - started) / 1000).toFixed(1)} s after QEMU started; screenshot: ${shot}`
        + `\n--- boot events recorded for ${mac} ---\n${stagesSeen || '(none)'}`
        + `\n--- brume output since the VM started (last 60 lines) ---\n${tail(brumeSince, 60)}`
        + `\n--- VM serial console (last 30 lines) ---\n${vm ? tail(vm.serial(), 30) : '(no VM)'}`
        + `\n--- QEMU output ---\n${vm ? tail(vm.output(), 20) : '(no VM)'}`
        + `${brume.process.exitCode !== null || brume.process.signalCode !== null ? '\n--- brume has EXITED' : ''}`;
      throw failure;
    } finally {
      await vm?.stop();
      await wire.stop();
    }
  }

  /** Waits for a VM milestone; gives up at once if QEMU or brume is gone. */
  async function waitForVm(vm: Vm, what: string, predicate: () => boolean, timeoutMs = SCRIPT_TIMEOUT_MS): Promise<void> {
    await waitUntil(what, () => {
      if (exited(vm.process)) throw new Error(`QEMU exited (${vm.process.exitCode ?? vm.process.signalCode}) before ${what}`);
      if (exited(brume.process)) throw new Error(`brume exited (${brume.process.exitCode ?? brume.process.signalCode}) before ${what}`);
      return predicate();
    }, timeoutMs, 250);
  }

  /** What the server sent to `client` over HTTP, all connections joined. */
  const sentTo = (flows: TcpFlow[], client: string) =>
    flows.filter((f) => f.from === `${SERVER}:${PORT}` && f.to.startsWith(`${client}:`)).map((f) => f.data.toString('latin1')).join('\n');

  it('an unregistered machine (BIOS, iPXE ROM) gets an address from the pool and the registration menu', async () => {
    const mac = UNREGISTERED_MAC;
    await withVm('bios-unregistered', mac, 'bios', async (vm, wire) => {
      await waitForVm(vm, `the VM to fetch its boot script (GET /boot/ipxe?mac=${mac})`, () => scriptRequest(mac) !== undefined);
      const script = scriptRequest(mac)!;
      console.log(`bios-unregistered: script fetched ${((script.at - vm.startedAt) / 1000).toFixed(1)} s after QEMU started`);
      // iPXE draws the menu to VGA only (nothing on serial under BIOS): give it a moment, then look.
      await sleep(3000);
      const shot = await vm.screenshot(join(shots, 'bios-unregistered.png'));
      console.log(`bios-unregistered: screenshot ${shot}`);
      const flows = await wire.stop();

      // The VM asked from an address brume leased it, and got the registration menu for its MAC.
      expect(script.status).toBe(200);
      expect(inPool(script.from), `script requested from ${script.from}, not from the pool`).toBe(true);
      const sent = sentTo(flows, script.from);
      expect(sent).toContain('#!ipxe');
      expect(sent).toContain(`# brume: registration menu for ${mac}`);
      expect(sent).toContain(`menu brume: unregistered machine ${mac}`);
      expect(sent).not.toContain('brume.token=');

      // The history: the machine's boot stream has its DHCP exchange and its script, with no host.
      const history = await eventsWhen(`stream=${encodeURIComponent(`boot-${mac}`)}`, (found) => !!stageEvent(found, 'dhcp') && !!stageEvent(found, 'script'));
      const dhcp = stageEvent(history, 'dhcp')!;
      expect(dhcp.actor).toBe('boot-client');
      expect(dhcp.data.hostId).toBeNull();
      expect(dhcp.data.detail).toMatchObject({ ip: script.from, client: 'iPXE' });
      expect(['DHCPOFFER', 'DHCPACK']).toContain(dhcp.data.detail?.reply);
      // iPXE (user class) is sent straight to its script URL: no TFTP step on this path.
      expect(dhcp.data.detail?.url).toMatch(new RegExp(`^http://${SERVER.replace(/\./g, '\\.')}:${PORT}/boot/ipxe\\?`));
      expect(stageEvent(history, 'script')!.data.detail).toMatchObject({ answer: 'registration menu', ip: script.from, platform: 'pcbios' });

      // Registered afterwards, the machine's boot stages show on its host: the lease acknowledged, the menu served.
      const host = await brume.api<{ id: string }>('POST', '/api/hosts', { name: 'pxe-bios', macs: [mac] });
      expect(host.status, host.text).toBe(201);
      const detail = await brume.api<{ bootStages: BootStageView[] }>('GET', `/api/hosts/${host.body.id}`);
      expect(detail.status, detail.text).toBe(200);
      const stages = new Map(detail.body.bootStages.map((s) => [s.stage, s]));
      expect(stages.get('dhcp')?.detail, JSON.stringify(detail.body.bootStages)).toMatchObject({ reply: 'DHCPACK', ip: script.from });
      expect(stages.get('script')?.detail).toMatchObject({ answer: 'registration menu' });
    });
  }, SCENARIO_TIMEOUT_MS);

  it('a registered machine with a deploy task (UEFI: DHCP, TFTP ipxe.efi, HTTP) gets the kernel line with its task token', async () => {
    const mac = REGISTERED_MAC;
    const image = await brume.api<{ id: string }>('POST', '/api/images', { name: 'debian-12', type: 'n', os: 'debian-12' });
    expect(image.status, image.text).toBe(201);
    const host = await brume.api<{ id: string }>('POST', '/api/hosts', { name: 'pxe-uefi', macs: [mac], imageId: image.body.id });
    expect(host.status, host.text).toBe(201);
    const hostId = host.body.id;
    const task = await brume.api<{ id: string }>('POST', '/api/tasks', { type: 'deploy', hostId });
    expect(task.status, task.text).toBe(201);
    const taskId = task.body.id;

    await withVm('uefi-deploy', mac, 'uefi', async (vm, wire) => {
      const kernelRequest = () => {
        const script = scriptRequest(mac);
        return script && brume.requests().find((r) => r.url === '/boot/env/vmlinuz' && r.from === script.from && r.at >= script.at && r.status !== undefined);
      };
      await waitForVm(vm, 'the VM to fetch its script and then its kernel (GET /boot/env/vmlinuz)', () => kernelRequest() !== undefined);
      const script = scriptRequest(mac)!;
      const kernel = kernelRequest()!;
      const at = (r: ServerRequest) => `${((r.at - vm.startedAt) / 1000).toFixed(1)} s`;
      console.log(`uefi-deploy: script at ${at(script)}, kernel requested at ${at(kernel)} (answer ${kernel.status}) after QEMU started`);
      await sleep(1500);
      const shot = await vm.screenshot(join(shots, 'uefi-deploy.png'));
      console.log(`uefi-deploy: screenshot ${shot}`);
      const flows = await wire.stop();

      expect(script.status).toBe(200);
      expect(inPool(script.from), `script requested from ${script.from}, not from the pool`).toBe(true);

      // The host's boot stages: every step of a UEFI network boot, from the address the VM was given.
      const detail = await brume.api<{ bootStages: BootStageView[] }>('GET', `/api/hosts/${hostId}`);
      expect(detail.status, detail.text).toBe(200);
      const stages = new Map(detail.body.bootStages.filter((s) => s.mac === mac).map((s) => [s.stage, s]));
      const shown = JSON.stringify(detail.body.bootStages);
      expect(stages.get('dhcp')?.detail, shown).toMatchObject({ reply: 'DHCPACK', ip: script.from });
      expect(stages.get('tftp')?.detail, shown).toMatchObject({ file: 'ipxe.efi', ip: script.from });
      expect(stages.get('script')?.detail, shown).toMatchObject({ answer: 'task deploy', ip: script.from, platform: 'efi' });
      expect(stages.get('http-file')?.detail, shown).toMatchObject({ file: 'env/vmlinuz', ip: script.from });

      // The host's history: the stages it went through and the token it was handed (as a digest).
      const history = await eventsWhen(`subject=host-${hostId}`, (found) =>
        ['dhcp', 'tftp', 'script', 'http-file'].every((stage) => stageEvent(found, stage))
        && found.some((e) => e.type === 'BootTokenIssued' && e.data.taskId === taskId));
      for (const stage of ['dhcp', 'tftp', 'script', 'http-file']) {
        expect(stageEvent(history, stage)!.data).toMatchObject({ mac, hostId, stage });
      }
      // The firmware's own DHCP (OVMF, no iPXE yet) was sent to TFTP for iPXE.
      expect(history.some((e) => e.type === 'BootStageObserved' && e.data.stage === 'dhcp' && e.data.detail?.bootFile === 'ipxe.efi'),
        JSON.stringify(history.filter((e) => e.data.stage === 'dhcp').map((e) => e.data))).toBe(true);
      const issued = history.filter((e) => e.type === 'BootTokenIssued' && e.data.taskId === taskId);
      const newest = issued.at(-1)!;
      expect(newest.data).toMatchObject({ taskId, hostId, mac });

      // The kernel line the VM received carries the task and a token whose digest is the recorded one.
      const sent = sentTo(flows, script.from);
      const kernelLines = sent.split('\n').filter((line) => /^kernel\s/.test(line));
      expect(kernelLines.length, `no kernel line in what brume sent:\n${sent}`).toBeGreaterThan(0);
      for (const line of kernelLines) {
        expect(line).toContain(`kernel http://${SERVER}:${PORT}/boot/env/vmlinuz `);
        expect(line).toContain(` brume.task=${taskId} `);
        expect(line).toContain(` brume.mac=${mac} `);
        expect(line).toContain(' brume.mode=task ');
        expect(line).toContain(' brume.action=deploy');
      }
      const tokens = new Set(kernelLines.map((line) => /\sbrume\.token=(\S+)/.exec(line)?.[1]));
      expect(tokens.size, kernelLines.join('\n')).toBe(1);
      const token = [...tokens][0];
      expect(token, kernelLines.join('\n')).toBeTruthy();
      expect(createHash('sha256').update(token!).digest('hex')).toBe(newest.data.tokenDigest);
      // Only the digest is kept: the token itself is in neither the history nor the server's log.
      expect(JSON.stringify(await events(`subject=host-${hostId}`))).not.toContain(token);
      expect(brume.output()).not.toContain(token);

      // And the VM went on to fetch the kernel that line names (brume's boot environment is not built yet: 404).
      expect(kernel.from).toBe(script.from);
      expect(kernel.at).toBeGreaterThanOrEqual(script.at);
    });
  }, SCENARIO_TIMEOUT_MS);
});
