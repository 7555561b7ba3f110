import type { BootObservation } from '../../core/boot/boot-stage.ts';

/** A registered host as the boot responders need it, answered from memory. */
export interface KnownHost {
  hostId: string;
  hostName: string;
  /** The host's registered IPv4 address, used as a DHCP reservation when it falls in the pool. */
  ip: string | null;
}

/**
 * The narrow interface every boot responder (DHCP, TFTP, HTTP boot routes)
 * has to the rest of brume: who a MAC is, and a place to report what it saw.
 * Neither call may wait on the database; `observe` queues and returns.
 */
export interface ResponderBackend {
  /** The registered host owning this MAC (lowercase, colons), or null when unknown. */
  hostFor(mac: string): KnownHost | null;
  /** The registered host whose IP this is (a DHCP reservation), or null. Optional for responders that never allocate. */
  hostForAddress?(ip: string): KnownHost | null;
  /** Records a boot stage; rate-limited and written in the background by the implementation. */
  observe(observation: BootObservation): void;
  /**
   * Records a boot stage when only the client's IPv4 address is known (TFTP,
   * HTTP): the implementation finds the MAC from recent DHCP answers or the
   * kernel's neighbour table, and drops the observation if it cannot.
   */
  observeAddress(ip: string, stage: BootObservation['stage'], detail: Record<string, string>): void;
  /** Tells the backend which MAC now uses an address (DHCP answers), so later TFTP/HTTP requests can be attributed. */
  noteAddress(ip: string, mac: string): void;
}
