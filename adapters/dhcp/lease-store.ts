/** A full-mode DHCP lease as memory and the `dhcp_leases` table hold it. */
export interface Lease {
  /** Lowercase, colons. */
  mac: string;
  ip: string;
  /** The registered host that held the MAC when the lease was granted, if any. */
  hostId: string | null;
  hostname: string | null;
  /** A released lease keeps its row with expiresAt = release time, so the client gets the same address next time. */
  expiresAt: Date;
}

/** One change to the persisted leases, applied in order. */
export type LeaseChange = { kind: 'save'; lease: Lease } | { kind: 'remove'; mac: string };

/**
 * Where leases survive restarts. Memory (the LeasePool) is the authority
 * while the server runs; the store is loaded once at start and told every
 * change. `write` resolves once the change is durable, which is when an ACK
 * may go out.
 */
export interface LeaseStore {
  load(): Promise<Lease[]>;
  write(change: LeaseChange): Promise<void>;
  /** Waits for pending writes; later writes are refused. */
  close(): Promise<void>;
}
