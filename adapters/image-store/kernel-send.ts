import type { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { loadNative, type NativeAddon } from '../native/load-native.ts';

/** Why a transfer by the kernel stopped short. */
export class KernelSendError extends Error {
  constructor(readonly code: string, readonly sent: number, message: string) {
    super(message);
    this.name = 'KernelSendError';
  }
}

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
  constructor(private readonly native: NativeAddon) {}

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
      const cancel = () => this.native.sendfileCancel(handle);
      const handle = this.native.sendfileStart(socketFd, fileFd, offset, length, (errno, sent) => {
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
  const native = loadNative();
  return native.ok ? { ok: true, send: new KernelSend(native.addon) } : native;
}
