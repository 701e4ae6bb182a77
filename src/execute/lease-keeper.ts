import { errorMessage } from '../domain/errors.js';
import type { Lease, LeaseStore, RunStore } from '../domain/store.js';
import type { Logger } from '../observability/logger.js';

/**
 * Heartbeats for the runs this replica executes, and the watch for replicas that stopped. Every
 * third of the lease it renews the leases of the runs it is driving now — by name, so a run whose
 * walk stopped is not kept alive by a heartbeat nothing is behind; every half lease it marks runs
 * whose lease ran out (their replica died, or lost the database for longer than the lease)
 * interrupted, and reports them. A run is never resumed by another replica: its step may or may
 * not have acted. A run this replica drives that was not renewed was taken from it (its lease ran
 * out during an outage and another replica interrupted it): `onLost` stops it here.
 */
export class LeaseKeeper {
  private renewTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private busy: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      readonly store: LeaseStore & Pick<RunStore, 'getRun' | 'listRuns'>;
      readonly owner: string;
      readonly leaseMs: number;
      readonly clock: () => Date;
      readonly logger: Logger;
      /** Told of each run found with an expired lease, after it is marked interrupted. */
      readonly onInterrupted: (runIds: readonly string[]) => void;
      /** The runs this replica is driving now (executing, or approved and waiting for a slot). */
      readonly driving?: () => readonly string[];
      /** Told of runs it drives whose lease was no longer its own to renew. */
      readonly onLost?: (runIds: readonly string[]) => void;
      /** Stops what the steps of runs whose lease expired left running here, before they are interrupted. */
      readonly stopLeftovers?: (runIds: readonly string[]) => Promise<void>;
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

  /**
   * Marks runs with an expired lease interrupted now; returns their ids (also called at start).
   * Renews first: after an outage longer than the lease, this replica's own runs must not be
   * taken for a dead replica's by its own sweep.
   */
  async sweep(): Promise<string[]> {
    await this.renew();
    const at = this.deps.clock().toISOString();
    if (this.deps.stopLeftovers) {
      const { runs } = await this.deps.store.listRuns({ state: 'running', limit: 500 });
      const expired = runs.filter((r) => r.leaseUntil != null && r.leaseUntil < at).map((r) => r.id);
      if (expired.length > 0) await this.deps.stopLeftovers(expired);
    }
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
    const driving = this.deps.driving?.() ?? [];
    if (driving.length === 0) return;
    const renewed = new Set(await this.deps.store.renewLeases(this.deps.owner, this.lease().until, driving));
    // Not renewed: not running yet (just taken from the queue), just ended here, or interrupted by
    // another replica's sweep — only the last is lost.
    const lost: string[] = [];
    for (const id of driving.filter((d) => !renewed.has(d))) {
      if ((await this.deps.store.getRun(id))?.state === 'interrupted' && this.deps.driving?.().includes(id)) lost.push(id);
    }
    if (lost.length > 0) {
      this.deps.logger.warn(`${lost.length} run(s) this replica drives are no longer its own (interrupted or ended elsewhere): stopping them`, {
        runIds: lost,
      });
      this.deps.onLost?.(lost);
    }
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
