import type { ChildProcess } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { captureOutput, stopProcess, waitUntil, type NetNamespace } from '../../tests/e2e/support/netns.ts';
import type { BootLab } from './lab.ts';

/** A peer server started by the bench in the peer namespace. */
export interface Peer {
  readonly process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Waits until something in `ns` listens on `port` (UDP or TCP); fails with what the process printed. */
export async function listening(ns: NetNamespace, proto: 'udp' | 'tcp', port: number, child: ChildProcess, output: () => string, what: string): Promise<void> {
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  try {
    await waitUntil(`${what} to listen on ${proto} port ${port}`, async () => {
      if (exited()) return true;
      const sockets = await ns.exec('ss', ['-Hln', proto === 'udp' ? '-u' : '-t']).catch(() => '');
      return sockets.split('\n').some((line) => line.split(/\s+/).some((field) => field.endsWith(`:${port}`)));
    }, 15_000, 100);
  } catch (error) {
    await stopProcess(child);
    throw new Error(`${(error as Error).message}; it printed:\n${output()}`);
  }
  if (exited()) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) at start; it printed:\n${output()}`);
}

export function peer(child: ChildProcess): Peer {
  const out = captureOutput(child);
  return { process: child, output: out.text, stop: () => stopProcess(child) };
}

/**
 * dnsmasq as a DHCP server only (DNS off: --port=0) on the peer link, with
 * a pool and lease time like brume's and a PXE boot file for every client.
 * --no-ping: without it dnsmasq pings each new address for up to 3 s
 * before offering it, and the bench would measure the ping.
 */
export async function startDnsmasq(lab: BootLab): Promise<Peer> {
  const side = lab.peer;
  const dir = await lab.tempDir('dnsmasq');
  const child = side.ns.spawn('dnsmasq', [
    '--keep-in-foreground', '--port=0', '--no-ping', '--conf-file=/dev/null', '--quiet-dhcp', '--log-facility=-',
    `--pid-file=${join(dir, 'dnsmasq.pid')}`, `--dhcp-leasefile=${join(dir, 'leases')}`,
    `--interface=${side.device}`,
    `--dhcp-range=${side.pool.first},${side.pool.last},${side.pool.netmask},1h`,
    '--dhcp-lease-max=200000',
    `--dhcp-boot=undionly.kpxe,boot,${side.address}`,
  ]);
  const started = peer(child);
  await listening(side.ns, 'udp', 67, child, started.output, 'dnsmasq');
  return started;
}

/**
 * tftpd-hpa's in.tftpd in the foreground (-L), serving `filesDir` (chrooted
 * there, -s) on the peer address, port 69. It forks one process per
 * transfer; it supports blksize and tsize but not windowsize.
 */
export async function startTftpdHpa(lab: BootLab, filesDir: string): Promise<Peer> {
  const side = lab.peer;
  // in.tftpd chroots into the directory, then drops to user tftp: it must be able to read it.
  await chmod(filesDir, 0o755);
  const child = side.ns.spawn('in.tftpd', ['-L', '-s', filesDir, '-a', `${side.address}:69`]);
  const started = peer(child);
  await listening(side.ns, 'udp', 69, child, started.output, 'in.tftpd');
  return started;
}

/**
 * nginx with its own prefix and configuration: one worker (brume is one
 * process), no access log (brume writes none per request), keep-alive
 * connections that are never closed after N requests (as brume's), and
 * `body` at the same path as brume's script: /boot/ipxe.
 */
export async function startNginx(lab: BootLab, port: number, body: string): Promise<Peer> {
  const side = lab.peer;
  const prefix = await lab.tempDir('nginx');
  await chmod(prefix, 0o755); // workers run as nobody
  await mkdir(join(prefix, 'www'), { mode: 0o755 });
  const script = join(prefix, 'www', 'script.ipxe');
  await writeFile(script, body, { mode: 0o644 });
  const config = `
${nginxMain(prefix, '1')}
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  ${nginxTempPaths(prefix)}
  server {
    listen ${side.address}:${port};
    location = /boot/ipxe {
      default_type "text/plain; charset=utf-8";
      add_header Cache-Control no-store;
      alias ${script};
    }
  }
}
`;
  const configFile = join(prefix, 'nginx.conf');
  await writeFile(configFile, config);
  const child = side.ns.spawn('nginx', ['-e', 'stderr', '-p', prefix, '-c', configFile]);
  const started = peer(child);
  await listening(side.ns, 'tcp', port, child, started.output, 'nginx');
  return started;
}

/** The top of an nginx.conf for a bench peer: in the foreground, its pid and temp files under `prefix`, errors on stderr. */
export const nginxMain = (prefix: string, workers: string): string => `worker_processes ${workers};
daemon off;
master_process on;
pid ${join(prefix, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 1024; }`;

/** nginx's temp directories under `prefix`, so a bench's nginx writes nothing outside its own directory. */
export const nginxTempPaths = (prefix: string): string =>
  ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((what) => `${what}_temp_path ${join(prefix, what)};`).join('\n  ');
