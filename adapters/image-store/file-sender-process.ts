import { open } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { ImageFileReader } from './image-store.ts';
import type { FileSendJob, FileSendResult } from './file-senders.ts';

/**
 * A child process that sends image files to sockets handed to it by the
 * server: the HTTP head the server prepared, then the bytes, then it closes
 * the connection. Sending a 2 GB file costs one copy into the kernel per
 * byte; in these processes that work runs on the other cores instead of the
 * server's one event loop.
 */
// The server went away (stopped, or killed): so does its sender, cutting what it was sending (clients resume with Range).
process.on('disconnect', () => process.exit(0));

process.on('message', (job: FileSendJob, socket?: Socket) => {
  void send(job, socket).then((result) => process.send?.(result));
});

async function send(job: FileSendJob, socket: Socket | undefined): Promise<FileSendResult> {
  if (!socket) return { id: job.id, ok: false, error: 'no connection came with the file to send' };
  let reader: ImageFileReader | undefined;
  // As the HTTP server had it: each write goes out at once, not held back for more.
  socket.setNoDelay(true);
  try {
    const handle = await open(job.path, 'r');
    reader = new ImageFileReader(handle, { name: job.path, sizeBytes: job.end + 1, sha256: '' }, job.path, job.start, job.end);
    await reader.writeTo(socket, () => socket.write(job.head, 'latin1'));
    return { id: job.id, ok: true };
  } catch (error) {
    socket.destroy();
    return { id: job.id, ok: false, error: (error as Error).message };
  } finally {
    await reader?.close();
  }
}
