import { fork, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

/** What the server asks a sender to do with a connection it hands over. */
export interface FileSendJob {
  id: number;
  path: string;
  /** Inclusive byte range. */
  start: number;
  end: number;
  /** The HTTP status line and headers, ending in an empty line. */
  head: string;
}

export type FileSendResult = { id: number; ok: true } | { id: number; ok: false; error: string };

interface Sender {
  child: ChildProcess;
  busy: number;
}

const CHILD = new URL('./file-sender-process.ts', import.meta.url).pathname;

/**
 * Child processes that send deploy files. Node cannot sendfile() to a
 * socket, so every byte is copied into the kernel by whoever writes it; done
 * on the server's event loop, ten deploying clients keep that one thread
 * busy and the other cores idle. The server checks the token, the range and
 * the file, then hands the connection to the least busy sender with the
 * head it prepared (`Connection: close`: the sender closes it after the
 * file). Senders start with the server (`warm`) or on first use, and are
 * replaced if one dies.
 *
 * @example
 * const senders = new FileSenders(2);
 * await senders.send(request.raw.socket, { path, start: 0, end: size - 1, head });
 */
export class FileSenders {
  private readonly senders: Sender[] = [];
  private readonly pending = new Map<number, { resolve: () => void; reject: (error: Error) => void; sender: Sender }>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly count: number) {}

  /** Whether files go through senders at all (BRUME_FILE_SENDERS=0 keeps them in the server). */
  get enabled(): boolean {
    return this.count > 0 && !this.closed;
  }

  /** Hands `socket` over; resolves when the file was sent, rejects with the sender's reason otherwise. */
  send(socket: Socket, job: Omit<FileSendJob, 'id'>): Promise<void> {
    const sender = this.leastBusy();
    const id = this.nextId++;
    sender.busy++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, sender });
      sender.child.send({ ...job, id }, socket, (error) => {
        if (error) this.settle({ id, ok: false, error: `could not hand the connection over: ${error.message}` });
      });
    });
  }

  /** Starts the senders now, so the first deploy does not wait for a process to start. */
  warm(): void {
    if (this.enabled) this.leastBusy();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const { child } of this.senders) child.kill();
    for (const [id] of this.pending) this.settle({ id, ok: false, error: 'the server is shutting down' });
  }

  private leastBusy(): Sender {
    while (this.senders.length < this.count) this.senders.push(this.start());
    return this.senders.reduce((best, s) => (s.busy < best.busy ? s : best));
  }

  private start(): Sender {
    const child = fork(CHILD, [], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const sender: Sender = { child, busy: 0 };
    child.on('message', (result: FileSendResult) => this.settle(result));
    child.on('exit', (code, signal) => {
      const at = this.senders.indexOf(sender);
      if (at >= 0) this.senders.splice(at, 1);
      for (const [id, entry] of this.pending) {
        if (entry.sender === sender) this.settle({ id, ok: false, error: `the file sender ended (${code ?? signal})` });
      }
    });
    child.unref();
    child.channel?.unref();
    return sender;
  }

  private settle(result: FileSendResult): void {
    const entry = this.pending.get(result.id);
    if (!entry) return;
    this.pending.delete(result.id);
    entry.sender.busy--;
    if (result.ok) entry.resolve();
    else entry.reject(new Error(result.error));
  }
}
