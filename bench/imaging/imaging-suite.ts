import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chmod, readFile, stat } from 'node:fs/promises';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { startBrume } from '../boot/brume-process.ts';
import { withLab } from '../boot/lab.ts';
import { createImage } from './bench-machines.ts';
import { captureBench } from './capture-bench.ts';
import { addClientLinks } from './client-links.ts';
import { DEPLOY_DEFAULTS, deployBench, type DeployOptions } from './deploy-bench.ts';
import { ensureImageFile, IMAGE_BYTES, IMAGE_FILE } from './image-file.ts';
import type { ImagingFigure, ImagingMachine } from './imaging-figures.ts';

const run = promisify(execFile);

export interface ImagingOptions {
  deploy: DeployOptions;
  /** Capture runs (each a capture task and a 2 GiB PUT). */
  captures: number;
  file: string;
  bytes: number;
  /** Extra node flags for brume serve (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof). */
  nodeArgs: string[];
}

export const IMAGING_DEFAULTS: ImagingOptions = { deploy: DEPLOY_DEFAULTS, captures: 2, file: IMAGE_FILE, bytes: IMAGE_BYTES, nodeArgs: [] };

export interface ImagingSuiteResult {
  figures: ImagingFigure[];
  skipped: string[];
  notes: string[];
  machine: ImagingMachine;
}

type Log = (line: string) => void;

const TOOLS: [program: string, pkg: string][] = [['ip', 'iproute2'], ['nginx', 'nginx'], ['curl', 'curl'], ['sha256sum', 'coreutils'], ['dd', 'coreutils']];

function installed(program: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    try { accessSync(`${dir}/${program}`, constants.X_OK); return true; } catch { /* next */ }
  }
  return false;
}

/** Why the imaging bench cannot run here, or null. */
function cannotRun(): string | null {
  if (process.getuid?.() !== 0) return 'needs root: it creates network namespaces and macvlan devices (removed afterwards); run it as root, e.g. "sudo npm run bench -- --only=imaging"';
  const missing = TOOLS.filter(([program]) => !installed(program));
  if (missing.length === 0) return null;
  return `needs ${missing.map(([p]) => p).join(', ')}: apt-get install ${[...new Set(missing.map(([, pkg]) => pkg))].join(' ')} (or sudo infra/test-peers/install.sh)`;
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(', ');

/** "/dev/vda (ext4)" for the file system holding `path`. */
async function fileSystemOf(path: string): Promise<string> {
  return run('df', ['--output=source,fstype', path]).then((r) => r.stdout.trim().split('\n')[1]?.trim().replace(/\s+/, ' (') + ')', () => 'unknown');
}

/**
 * Imaging throughput (issue 4): a real `brume serve` (PGlite and its image
 * store in temp directories on the same disk as the image file) in the
 * lab's brume namespace, curl as the clients in the client namespace,
 * each simulated machine with its own macvlan device; nginx in the peer
 * namespace for the deploy comparison. Capture first (it makes the
 * revision), then deploy.
 */
export async function imagingSuite(log: Log, options: ImagingOptions = IMAGING_DEFAULTS): Promise<ImagingSuiteResult> {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(await readFile('/proc/cpuinfo', 'utf8').catch(() => ''))?.[1]?.trim() ?? 'unknown';
  const nginxVersion = await run('dpkg-query', ['-W', '-f=${Version}', 'nginx']).then((r) => r.stdout.trim(), () => 'version unknown');
  const curlVersion = await run('curl', ['--version']).then((r) => r.stdout.split(' ')[1] ?? '?', () => '?');
  const machine: ImagingMachine = {
    line: `${availableParallelism()} CPUs (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB memory, Linux ${release()}, Node ${process.version}, brume on PGlite in a temp directory`,
    peers: `nginx ${nginxVersion}, curl ${curlVersion}, sha256sum (coreutils)`,
    disk: '',
    load: '',
    date: new Date().toISOString().slice(0, 10),
  };
  const loadAtStart = load();
  const result: ImagingSuiteResult = { figures: [], skipped: [], notes: [], machine };
  const reason = cannotRun();
  if (reason) {
    result.skipped.push(`imaging: ${reason}`);
    log(`imaging: skipping: ${reason}`);
    return result;
  }
  const image = await ensureImageFile(options.file, options.bytes, log);
  await withLab(async (lab) => {
    const imagesDir = await lab.tempDir('images');
    await chmod(imagesDir, 0o755);
    const filesDir = await lab.tempDir('files');
    const [fileDev, imagesDev] = [await stat(image.path), await stat(imagesDir)].map((s) => s.dev);
    machine.disk = `image file ${image.path} on ${await fileSystemOf(image.path)}; brume's data and images directories under ${dirname(imagesDir)} on `
      + `${await fileSystemOf(imagesDir)}${fileDev === imagesDev ? ', the same file system' : ', ANOTHER file system'}`;
    const clients = Math.max(...options.deploy.loads.map((l) => l.clients));
    const brumeLinks = await addClientLinks(lab.client, lab.brume, clients + options.captures, 'c', '1a');
    const nginxLinks = await addClientLinks(lab.client, lab.peer, clients, 'p', '1b');
    const started = performance.now();
    const brume = await startBrume(lab, {
      filesDir, maxWindow: 16, nodeArgs: options.nodeArgs,
      env: {
        BRUME_DHCP_MODE: 'off', BRUME_TFTP: 'off', BRUME_IMAGES_DIR: imagesDir,
        BRUME_DEFAULT_MAX_CLIENTS: String(Math.max(16, clients + 1)),
      },
    });
    log(`imaging: brume serve up in ${((performance.now() - started) / 1000).toFixed(1)} s (pid ${brume.process.pid}), images in ${imagesDir}`);
    const sending = /deploy files are (.+)$/.exec(brume.startupLines().find((l) => l.includes('deploy files are')) ?? '')?.[1] ?? 'sent as brume did not say';
    machine.line += `, deploy files ${sending}`;
    log(`imaging: brume's deploy files are ${sending}`);
    try {
      const imageId = await createImage(brume, 'bench-image');
      log(`imaging: capture, ${options.captures} x PUT of ${image.bytes.toLocaleString('en-US')} bytes, against sha256sum`);
      const capture = await captureBench(lab, brume, imageId, brumeLinks.slice(clients), image.path, image.bytes, log);
      result.figures.push(...capture.figures);
      if (!(await stat(join(imagesDir, imageId)).then(() => true, () => false))) {
        throw new Error(`brume serve did not store the capture under BRUME_IMAGES_DIR (${imagesDir})`);
      }
      log(`imaging: deploy, ${options.deploy.loads.map((l) => l.clients).join(' and ')} client(s) from brume and nginx`);
      const deploy = await deployBench(lab, brume, imagesDir, imageId, brumeLinks.slice(0, clients), nginxLinks, capture.sha256, image.bytes, log, options.deploy);
      result.figures.push(...deploy.figures);
      result.notes.push(...deploy.notes);
      if (brume.process.exitCode !== null || brume.process.signalCode !== null) {
        throw new Error(`brume serve exited during the bench (${brume.process.exitCode ?? brume.process.signalCode})`);
      }
    } finally {
      const complaints = brume.complaints();
      await brume.stop();
      if (complaints.length) {
        log(`imaging: brume printed ${complaints.length} warning/error line(s):\n    ${complaints.join('\n    ')}`);
        result.notes.push(`brume printed ${complaints.length} warning or error line(s) during the run, the first: ${complaints.slice(0, 3).map((c) => `\`${c.slice(0, 300)}\``).join('; ')}.`);
      }
    }
  });
  machine.load = `load average ${loadAtStart} at the start, ${load()} at the end (1, 5, 15 min; other work shared the machine)`;
  return result;
}
