import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';

/** The native addon built from ./native/sendfile.c at `npm install` (infra/native/build.mjs). */
interface NativeSendfile {
  start(socketFd: number, fileFd: number, offset: number, length: number, done: (errno: number, sent: number) => void): object;
  cancel(handle: object): void;
}

/** Why a transfer by the kernel stopped short. */
export class KernelSendError extends Error {
  constructor(readonly code: string, readonly sent: number, message: string) {
    super(message);
    this.name = 'KernelSendError';
  }
}

const ADDON = new URL('./native/build/Release/brume_sendfile.node', import.meta.url).pathname;

/**
 * Sends a file's bytes to a connected socket with sendfile(2), on a thread
 * of its own, so the pages go from the page cache to the socket without
 * passing through Node, and each transfer can run on its own core.
 *
 * @example
 * const kernel = loadKernelSend();
 * if (kernel.ok) await kernel.send.send(socket, handle.fd, 0, size);
 */
export class KernelSend {
  constructor(private readonly native: NativeSendfile) {}

  /**
   * Sends `length` bytes of `fileFd` from `offset` to `socket`; resolves
   * once the kernel has taken the last byte. Nothing may be written to the
   * socket meanwhile. Rejects with a KernelSendError: `ECANCELED`,
   * `EPIPE` or `ECONNRESET` when the connection closed first, `ENODATA`
   * when the file ended before the range did.
   */
  send(socket: Socket, fileFd: number, offset: number, length: number): Promise<void> {
    const socketFd = socketFdOf(socket);
    if (socketFd === null) return Promise.reject(new KernelSendError('EBADF', 0, 'the connection has no descriptor to send to'));
    return new Promise((resolve, reject) => {
      const cancel = () => this.native.cancel(handle);
      const handle = this.native.start(socketFd, fileFd, offset, length, (errno, sent) => {
        socket.off('close', cancel);
        if (errno === 0 && sent === length) resolve();
        else {
          const code = errno === 0 ? 'EIO' : getSystemErrorName(-errno);
          reject(new KernelSendError(code, sent, `sendfile stopped after ${sent} of ${length} bytes: ${code}`));
        }
      });
      // Node closes its descriptor when the client goes away; the thread holds a duplicate, so tell it.
      socket.once('close', cancel);
    });
  }
}

/** The socket's descriptor (TCP and Unix sockets on POSIX systems), or null. */
export function socketFdOf(socket: Socket): number | null {
  const fd = (socket as Socket & { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : null;
}

/** The native sender, or why there is none (not Linux, or the addon was not built). */
export function loadKernelSend(): { ok: true; send: KernelSend } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: `sendfile to a socket is built for Linux only, not ${process.platform}` };
  if (!existsSync(ADDON)) return { ok: false, reason: 'the sendfile addon is not built (npm install builds it; it needs make and a C compiler)' };
  try {
    return { ok: true, send: new KernelSend(createRequire(import.meta.url)(ADDON) as NativeSendfile) };
  } catch (error) {
    return { ok: false, reason: `the sendfile addon did not load: ${(error as Error).message}` };
  }
}
