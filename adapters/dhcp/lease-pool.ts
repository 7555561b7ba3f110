import { intToIp, ipToInt, isIpv4, type Subnet } from '../../core/shared/ipv4.ts';
import type { Lease } from './lease-store.ts';

export interface LeasePoolOptions {
  /** First and last address handed out dynamically (inclusive). */
  first: string;
  last: string;
  subnet: Subnet;
  /** Addresses never handed out: brume's own, the router's. */
  excluded: readonly string[];
  /** How long an offered address stays held for the client it was offered to. */
  offerHoldMs?: number;
  /** How long a declined address (someone else answered ARP for it) is kept out of use. */
  quarantineMs?: number;
  /**
   * Whether `ip` is the registered address of a host that `mac` does not
   * belong to (mac '' = any client). Such an address is never handed out
   * dynamically, so a registered host that is switched off keeps its address.
   */
  reservedForOther?: (ip: string, mac: string) => boolean;
}

interface Offer { ip: number; until: number }

/** What the client prefers, strongest first after its own lease: its reservation, then what it asked for. */
export interface Wishes {
  reserved: string | null;
  requested: string | null;
}

/**
 * The full-mode address pool in memory: leases by MAC and by address,
 * offers held briefly, quarantined addresses. It decides; it does no I/O.
 * The caller persists the leases it returns.
 *
 * @example
 * const pool = new LeasePool({ first: '192.0.2.100', last: '192.0.2.199', subnet, excluded: ['192.0.2.1'] });
 * const ip = pool.offer(mac, { reserved: null, requested: null }, Date.now());
 * const lease = pool.bind(mac, ip!, Date.now(), 3600, { hostId: null, hostname: null });
 */
export class LeasePool {
  private readonly leases = new Map<string, Lease>();
  private readonly leaseAt = new Map<number, string>();
  private readonly offers = new Map<string, Offer>();
  private readonly offerAt = new Map<number, string>();
  private readonly quarantined = new Map<number, number>();
  private readonly excluded: ReadonlySet<number>;
  private readonly first: number;
  private readonly last: number;
  private readonly subnet: Subnet;
  private readonly offerHoldMs: number;
  private readonly quarantineMs: number;
  private readonly reservedForOther: (ip: string, mac: string) => boolean;
  private cursor: number;
  private prunedAt = 0;

  constructor(options: LeasePoolOptions) {
    this.first = ipToInt(options.first);
    this.last = ipToInt(options.last);
    this.subnet = options.subnet;
    this.excluded = new Set(options.excluded.filter(isIpv4).map(ipToInt));
    this.offerHoldMs = options.offerHoldMs ?? 30_000;
    this.quarantineMs = options.quarantineMs ?? 10 * 60_000;
    this.reservedForOther = options.reservedForOther ?? (() => false);
    this.cursor = this.first;
  }

  /** Fills memory from the store at start. A row for an address no longer on the subnet is kept but never confirmed. */
  load(leases: readonly Lease[]): void {
    for (const lease of leases) {
      if (!isIpv4(lease.ip)) continue;
      this.forget(lease.mac);
      this.leases.set(lease.mac, { ...lease });
      this.leaseAt.set(ipToInt(lease.ip), lease.mac);
    }
  }

  leaseOf(mac: string): Lease | undefined {
    return this.leases.get(mac);
  }

  /** Whether `ip` is in the dynamic range. */
  inPool(ip: string): boolean {
    if (!isIpv4(ip)) return false;
    const n = ipToInt(ip);
    return n >= this.first && n <= this.last;
  }

  /**
   * Whether `mac` may hold `ip` now: a host address on the subnet, not
   * brume's or the router's, not leased to or offered to another client,
   * not quarantined. Pool membership is the caller's rule (reservations may
   * lie outside it).
   */
  available(mac: string, ip: string, now: number): boolean {
    if (!isIpv4(ip) || !this.subnet.isHost(ip)) return false;
    const n = ipToInt(ip);
    return !this.excluded.has(n) && !this.heldByOther(n, mac, now) && !this.reservedForOther(ip, mac);
  }

  /**
   * Chooses an address to offer and holds it for `offerHoldMs`: the
   * reservation, then the client's previous address, then the one it asked
   * for, then a never-used one, then the longest-expired one. Null when the
   * pool is exhausted.
   */
  offer(mac: string, wishes: Wishes, now: number): string | null {
    this.prune(now);
    const previous = this.leases.get(mac)?.ip ?? null;
    const current = this.offers.get(mac);
    const candidates = [
      wishes.reserved,
      current && current.until > now ? intToIp(current.ip) : null,
      previous && (this.inPool(previous) || previous === wishes.reserved) ? previous : null,
      wishes.requested && this.inPool(wishes.requested) ? wishes.requested : null,
    ];
    let chosen: number | null = null;
    for (const candidate of candidates) {
      if (candidate && this.available(mac, candidate, now)) { chosen = ipToInt(candidate); break; }
    }
    chosen ??= this.allocate(now);
    if (chosen === null) return null;
    this.hold(mac, chosen, now);
    return intToIp(chosen);
  }

  /** Forgets the address offered to `mac` (the client chose another server). */
  forgetOffer(mac: string): void {
    const offer = this.offers.get(mac);
    if (!offer) return;
    this.offers.delete(mac);
    if (this.offerAt.get(offer.ip) === mac) this.offerAt.delete(offer.ip);
  }

  /**
   * Grants `ip` to `mac` for `seconds`. The caller checked `available`; an
   * expired lease of another client on that address is dropped (the store
   * drops its row in the same write).
   */
  bind(mac: string, ip: string, now: number, seconds: number, host: { hostId: string | null; hostname: string | null }): Lease {
    const n = ipToInt(ip);
    const other = this.leaseAt.get(n);
    if (other !== undefined && other !== mac) this.leases.delete(other);
    const previous = this.leases.get(mac);
    if (previous && previous.ip !== ip) this.leaseAt.delete(ipToInt(previous.ip));
    this.forgetOffer(mac);
    const lease: Lease = { mac, ip, hostId: host.hostId, hostname: host.hostname, expiresAt: new Date(now + seconds * 1000) };
    this.leases.set(mac, lease);
    this.leaseAt.set(n, mac);
    return { ...lease };
  }

  /** The client gave its address back: the lease ends now but is remembered. Null when `ip` is not its lease. */
  release(mac: string, ip: string, now: number): Lease | null {
    const lease = this.leases.get(mac);
    if (!lease || lease.ip !== ip) return null;
    lease.expiresAt = new Date(Math.min(lease.expiresAt.getTime(), now));
    return { ...lease };
  }

  /**
   * The client found `ip` in use by another machine: its lease ends and the
   * address is kept out of use for a while. Only the client that held or was
   * offered the address can decline it.
   */
  decline(mac: string, ip: string, now: number): boolean {
    if (!isIpv4(ip)) return false;
    const n = ipToInt(ip);
    const leased = this.leases.get(mac)?.ip === ip;
    const offered = this.offers.get(mac)?.ip === n;
    if (!leased && !offered) return false;
    if (leased) this.forget(mac);
    this.forgetOffer(mac);
    this.quarantined.set(n, now + this.quarantineMs);
    return true;
  }

  /** Leases (active and remembered), offers held and addresses quarantined, for stats. */
  counts(now: number): { leases: number; active: number; offers: number; quarantined: number } {
    let active = 0;
    for (const lease of this.leases.values()) if (lease.expiresAt.getTime() > now) active++;
    let offers = 0;
    for (const offer of this.offers.values()) if (offer.until > now) offers++;
    let quarantined = 0;
    for (const until of this.quarantined.values()) if (until > now) quarantined++;
    return { leases: this.leases.size, active, offers, quarantined };
  }

  private forget(mac: string): void {
    const lease = this.leases.get(mac);
    if (!lease) return;
    this.leases.delete(mac);
    const n = ipToInt(lease.ip);
    if (this.leaseAt.get(n) === mac) this.leaseAt.delete(n);
  }

  private hold(mac: string, ip: number, now: number): void {
    this.forgetOffer(mac);
    this.offers.set(mac, { ip, until: now + this.offerHoldMs });
    this.offerAt.set(ip, mac);
  }

  private heldByOther(ip: number, mac: string, now: number): boolean {
    const leaseHolder = this.leaseAt.get(ip);
    if (leaseHolder !== undefined && leaseHolder !== mac && this.leases.get(leaseHolder)!.expiresAt.getTime() > now) return true;
    const offerHolder = this.offerAt.get(ip);
    if (offerHolder !== undefined && offerHolder !== mac && (this.offers.get(offerHolder)?.until ?? 0) > now) return true;
    return (this.quarantined.get(ip) ?? 0) > now;
  }

  /** A never-leased free address after the cursor (spreading reuse), else the longest-expired one. */
  private allocate(now: number): number | null {
    const size = this.last - this.first + 1;
    for (let k = 0; k < size; k++) {
      const n = this.first + ((this.cursor - this.first + k) % size);
      if (this.excluded.has(n) || !this.subnet.isHost(n) || this.leaseAt.has(n) || this.heldByOther(n, '', now)) continue;
      if (this.reservedForOther(intToIp(n), '')) continue;
      this.cursor = n + 1 > this.last ? this.first : n + 1;
      return n;
    }
    let oldest: Lease | null = null;
    for (const lease of this.leases.values()) {
      if (lease.expiresAt.getTime() > now || !this.inPool(lease.ip)) continue;
      const n = ipToInt(lease.ip);
      if (this.excluded.has(n) || this.heldByOther(n, lease.mac, now) || this.reservedForOther(lease.ip, '')) continue;
      if (!oldest || lease.expiresAt < oldest.expiresAt) oldest = lease;
    }
    return oldest ? ipToInt(oldest.ip) : null;
  }

  /** Drops expired offers and quarantines so the maps stay as small as the live state. */
  private prune(now: number): void {
    // At most once a second: under a flood of DISCOVERs the sweep would otherwise run per packet.
    if (now - this.prunedAt < 1000) return;
    this.prunedAt = now;
    for (const [mac, offer] of this.offers) if (offer.until <= now) this.forgetOffer(mac);
    for (const [ip, until] of this.quarantined) if (until <= now) this.quarantined.delete(ip);
  }
}
