// Builds brume's native addon at `npm install` (adapters/native): sendfile(2)
// for deploys, and TFTP transfers on threads of their own. It is optional:
// when it cannot be built (not Linux, no C compiler or make), brume copies
// deploy files through Node and runs TFTP transfers on its event loop
// instead, and says so at start-up, so this script never fails the install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const addon = join(dirname(fileURLToPath(import.meta.url)), '../../adapters/native');

if (process.platform !== 'linux') {
  console.log(`brume: the native addon is for Linux; on ${process.platform} brume runs without it`);
  process.exit(0);
}
// npm runs install scripts with its own node-gyp named in npm_config_node_gyp; run by hand, use the one
// npm ships beside this Node, else one on the path.
const bundled = join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
const gyp = process.env.npm_config_node_gyp || (existsSync(bundled) ? bundled : undefined);
const [command, args] = gyp ? [process.execPath, [gyp]] : ['node-gyp', []];
// Build against the headers of the Node that runs this (installed beside it), never downloaded ones.
const prefix = dirname(dirname(process.execPath));
const nodedir = process.env.npm_config_nodedir || (existsSync(join(prefix, 'include/node/node_api.h')) ? prefix : undefined);
const built = spawnSync(command, [...args, 'rebuild', '--directory', addon, ...(nodedir ? [`--nodedir=${nodedir}`] : [])], { encoding: 'utf8' });
if (built.status === 0) {
  console.log('brume: built the native addon (sendfile for deploys, TFTP transfers on threads)');
} else {
  const output = `${built.stdout ?? ''}${built.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
  console.warn(`brume: could not build the native addon (${built.error?.message ?? `exit ${built.status}`}); deploy files will be copied through Node and TFTP run on the event loop, which is slower.\n${output}`);
}
