/**
 * Wakes one host the way the server does, from inside a test's network
 * namespace: reads the BRUME_WOL_* configuration from the environment, picks
 * the targets for the host and sends. Prints `{ plan, report }` as JSON.
 *
 *   BRUME_WOL_SUBNETS=192.0.2.0/24 node --import tsx tests/e2e/support/wol-runner.ts <host-ip|-> <mac>[,<mac>...] [bind-address]
 *
 * `-` stands for a host without an IP.
 */
import { wolConfigFromEnv } from '../../../adapters/wake-on-lan/wol-config.ts';
import { sendWakeOnLan, type WolSendReport } from '../../../adapters/wake-on-lan/wol-sender.ts';
import { wakeTargets } from '../../../core/wake-on-lan/wake-targets.ts';

const [ipArg, macsArg, bindAddress] = process.argv.slice(2);
if (!ipArg || !macsArg) {
  console.error('usage: wol-runner.ts <host-ip|-> <mac>[,<mac>...] [bind-address]');
  process.exit(2);
}
const config = wolConfigFromEnv(process.env);
const macs = macsArg.split(',').map((mac, i) => ({ mac, role: i === 0 ? 'primary' as const : 'additional' as const, ignoreForImaging: false }));
const plan = wakeTargets({ ip: ipArg === '-' ? null : ipArg, macs }, config);
let report: WolSendReport | null = null;
if (plan.ok) {
  report = await sendWakeOnLan({ macs: plan.macs, addresses: plan.addresses, port: config.port }, bindAddress ? { bindAddress } : {});
}
console.log(JSON.stringify({ plan, report }));
