import { errorMessage } from '../domain/errors.js';
import type { Lease, LeaseStore } from '../domain/store.js';
import type { Logger } from '../observability/logger.js';

/**
 * Heartbeats for the runs this replica executes, and the watch for replicas that stopped. Every
 * third of the lease it renews its own runs' leases; every half lease it marks runs whose lease
 * ran out (their replica died, or lost the database for longer than the lease) interrupted, and
 * reports them. A run is never resumed by another replica: its step may or may not have acted.
 */
export class LeaseKeeper {
  private renewTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private busy: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      readonly store: LeaseStore;
      readonly owner: string;
      readonly leaseMs: number;
      readonly clock: () => Date;
      readonly logger: Logger;
      /** Told of each run found with an expired lease, after it is marked interrupted. */
      readonly onInterrupted: (runIds: readonly string[]) => void;
    },
  ) {}

  /** The lease a run taken now gets. */
  lease(): Lease {
    return { owner: this.deps.owner, until: new Date(this.deps.clock().getTime() + this.deps.leaseMs).toISOString() };
  }

  start(): void {
    this.renewTimer = setInterval(() => this.queue(() => this.renew()), Math.max(100, Math.floor(this.deps.leaseMs / 3)));
    this.sweepTimer = setInterval(() => this.queue(() => this.sweep()), Math.max(100, Math.floor(this.deps.leaseMs / 2)));
    this.renewTimer.unref();
    this.sweepTimer.unref();
  }

  /** Stops both timers and waits for the beat in progress. */
  async stop(): Promise<void> {
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.renewTimer = this.sweepTimer = null;
    await this.busy;
  }

  /** Marks runs with an expired lease interrupted now; returns their ids (also called at start). */
  async sweep(): Promise<string[]> {
    const at = this.deps.clock().toISOString();
    const ids = await this.deps.store.interruptExpired(
      at,
      'the replica executing it stopped renewing its lease (it died or lost the database); its current step may or may not have completed',
    );
    if (ids.length > 0) {
      this.deps.logger.warn(`marked ${ids.length} run(s) interrupted: their replica's lease expired`, { runIds: ids });
      this.deps.onInterrupted(ids);
    }
    return ids;
  }

  private async renew(): Promise<void> {
    await this.deps.store.renewLeases(this.deps.owner, this.lease().until);
  }

  private queue(beat: () => Promise<unknown>): void {
    this.busy = this.busy.then(beat).then(
      () => undefined,
      (err: unknown) => {
        this.deps.logger.error(`lease upkeep failed: ${errorMessage(err)}`);
      },
    );
  }
}
