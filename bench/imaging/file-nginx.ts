import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BootLab } from '../boot/lab.ts';
import { listening, nginxMain, nginxTempPaths, peer, type Peer } from '../boot/peers.ts';

/** Where nginx serves the image's files: /image/files/<name>. */
export const NGINX_FILES_PATH = '/image/files';

/**
 * nginx serving `dir` (the revision brume stored: the very same file on the
 * same disk) in the peer namespace, with Debian's stock settings for
 * static files: `worker_processes auto` (one worker per CPU), `sendfile
 * on`, `tcp_nopush on`, keep-alive. No access log (brume writes none per
 * request). `dir` and its parents must be readable by nobody, the workers'
 * user.
 */
export async function startFileNginx(lab: BootLab, port: number, dir: string): Promise<Peer & { masterPid: number }> {
  const side = lab.peer;
  const prefix = await lab.tempDir('nginx-files');
  await chmod(prefix, 0o755);
  const config = `
${nginxMain(prefix, 'auto')}
http {
  sendfile on;
  tcp_nopush on;
  types_hash_max_size 2048;
  default_type application/octet-stream;
  access_log off;
  keepalive_timeout 65;
  ${nginxTempPaths(prefix)}
  server {
    listen ${side.address}:${port};
    location ${NGINX_FILES_PATH}/ {
      alias ${dir}/;
    }
  }
}
`;
  const configFile = join(prefix, 'nginx.conf');
  await writeFile(configFile, config);
  const child = side.ns.spawn('nginx', ['-e', 'stderr', '-p', prefix, '-c', configFile]);
  const started = peer(child);
  await listening(side.ns, 'tcp', port, child, started.output, 'nginx');
  // `ip netns exec` execs nginx in place: the child's pid is nginx's master.
  return { ...started, masterPid: child.pid! };
}
