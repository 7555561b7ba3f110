import { readFileSync } from 'node:fs';
import type { Socket } from 'node:dgram';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const sockopt = require('sockopt') as {
  setsockopt(socket: { _handle: { fd: number } }, level: number, name: number, value: number): void;
  getsockopt(socket: { _handle: { fd: number } }, level: number, name: number): number;
};

const SOL_SOCKET = 1;
/** Linux 5.0+: like SO_BINDTODEVICE, but takes the interface index as an int, which is all `sockopt` can pass. */
const SO_BINDTOIFINDEX = 62;

/** The kernel's index of a network interface, from /sys. */
export function interfaceIndex(name: string): number {
  let text: string;
  try {
    text = readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8');
  } catch {
    throw new Error(`there is no network interface "${name}" (nothing in /sys/class/net/${name})`);
  }
  const index = Number(text.trim());
  if (!Number.isInteger(index) || index <= 0) throw new Error(`cannot read the index of interface "${name}"`);
  return index;
}

/**
 * The socket's file descriptor. `socket._handle` works but its getter emits
 * Node's DEP0112 deprecation warning, so the handle is read from the
 * socket's internal state (the symbol described as 'state symbol'), with
 * `_handle` only as a fallback for a Node that moves it.
 */
function descriptor(socket: Socket): number {
  const symbol = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = symbol ? (socket as unknown as Record<symbol, { handle?: { fd?: number } } | undefined>)[symbol] : undefined;
  const fd = state?.handle?.fd ?? (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('the socket has no file descriptor (bind it first)');
  return fd;
}

/**
 * Restricts a bound UDP socket to one interface (SO_BINDTOIFINDEX): it then
 * receives only that interface's packets, and its broadcasts leave through
 * it. Needs CAP_NET_RAW on kernels before 5.7.
 *
 * @example
 * socket.bind(67, '0.0.0.0', () => bindToInterface(socket, 'eth1'));
 */
export function bindToInterface(socket: Socket, name: string): void {
  const index = interfaceIndex(name);
  const handle = { _handle: { fd: descriptor(socket) } };
  try {
    sockopt.setsockopt(handle, SOL_SOCKET, SO_BINDTOIFINDEX, index);
  } catch (error) {
    throw new Error(`cannot bind the socket to interface ${name}: ${(error as Error).message}`);
  }
  // Read it back: some kernels accept an index without checking it.
  const bound = sockopt.getsockopt(handle, SOL_SOCKET, SO_BINDTOIFINDEX);
  if (bound !== index) throw new Error(`cannot bind the socket to interface ${name}: the kernel kept index ${bound}, not ${index}`);
}
