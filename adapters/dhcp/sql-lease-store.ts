import type { Kysely, Transaction } from 'kysely';
import type { Schema } from '../database/schema.ts';
import type { Lease, LeaseChange, LeaseStore } from './lease-store.ts';

interface Pending {
  change: LeaseChange;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Changes per transaction; a boot storm's ACKs share commits up to this size. */
const MAX_BATCH = 500;

/**
 * Leases in the `dhcp_leases` table, written with group commit: while one
 * transaction commits, new changes queue up and all go in the next one, so
 * a burst of ACKs costs a few commits instead of one each, and every
 * `write` resolves only after the transaction holding it has committed.
 *
 * @example
 * const store = new SqlLeaseStore(db);
 * await store.write({ kind: 'save', lease });   // durable from here on
 */
export class SqlLeaseStore implements LeaseStore {
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private closed = false;
  private readonly counts = { writes: 0, commits: 0, failedCommits: 0 };

  constructor(private readonly db: Kysely<Schema>) {}

  async load(): Promise<Lease[]> {
    const rows = await this.db.selectFrom('dhcp_leases').select(['mac', 'ip', 'host_id', 'hostname', 'expires_at']).execute();
    return rows.map((row) => ({
      mac: row.mac, ip: row.ip, hostId: row.host_id, hostname: row.hostname, expiresAt: new Date(row.expires_at),
    }));
  }

  write(change: LeaseChange): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the lease store is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ change, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  /** Changes written and transactions committed: commits well below writes means group commit is working. */
  stats(): { writes: number; commits: number; failedCommits: number } {
    return { ...this.counts };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flushing;
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        await this.db.transaction().execute(async (trx) => {
          for (const { change } of batch) await apply(trx, change);
        });
        this.counts.writes += batch.length;
        this.counts.commits++;
        for (const pending of batch) pending.resolve();
      } catch (error) {
        this.counts.failedCommits++;
        for (const pending of batch) pending.reject(error as Error);
      }
    }
    this.flushing = null;
  }
}

async function apply(trx: Transaction<Schema>, change: LeaseChange): Promise<void> {
  if (change.kind === 'remove') {
    await trx.deleteFrom('dhcp_leases').where('mac', '=', change.mac).execute();
    return;
  }
  const { mac, ip, hostId, hostname, expiresAt } = change.lease;
  // The address may still sit in another client's expired row (ip is UNIQUE): that row goes first.
  await trx.deleteFrom('dhcp_leases').where('ip', '=', ip).where('mac', '<>', mac).execute();
  const now = new Date();
  await trx.insertInto('dhcp_leases')
    .values({ mac, ip, host_id: hostId, hostname, expires_at: expiresAt, updated_at: now })
    .onConflict((conflict) => conflict.column('mac').doUpdateSet({ ip, host_id: hostId, hostname, expires_at: expiresAt, updated_at: now }))
    .execute();
}
