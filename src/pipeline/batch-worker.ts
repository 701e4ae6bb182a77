import { errorMessage } from '../domain/errors.js';
import type { BatchStore, StoredBatch } from '../domain/store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/** How the worker shares stored batches with other replicas. */
export interface BatchClaims {
  /** This replica's name on its claims. */
  readonly owner: string;
  /** How long a claim holds without being finished (a replica that dies mid-batch frees it then). */
  readonly claimMs: number;
  /** How often to look for batches nobody kicked this replica about (other replicas' leftovers); 0: never. */
  readonly pollMs: number;
  readonly clock: () => Date;
}

/**
 * Works through stored batches one at a time, in the order they arrived. The webhook only stores
 * and kicks; this loop does the rest after the answer. Stored batches that a previous process
 * never finished are found by the same loop at start-up. A batch whose processing fails stays
 * pending and is tried again after a pause, so a store outage loses nothing. Batches are claimed
 * before they are processed, so replicas on one database each take their own.
 */
export class BatchWorker {
  private running: Promise<void> | null = null;
  private again = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly poller: NodeJS.Timeout | null;

  constructor(
    private readonly store: BatchStore,
    private readonly process: (batch: StoredBatch) => Promise<void>,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly retryDelayMs = 2000,
    private readonly claims: BatchClaims = { owner: 'local', claimMs: 60_000, pollMs: 0, clock: () => new Date() },
  ) {
    this.poller = claims.pollMs > 0 ? setInterval(() => this.kick(), claims.pollMs) : null;
    this.poller?.unref();
  }

  /** Asks the worker to look for pending batches; cheap to call often, and returns at once. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    // The drain starts on the next turn of the event loop: a kick from a webhook must not make its
    // answer wait for the (with SQLite, synchronous) work of claiming, while idle() already waits.
    this.running = new Promise((resolve) => setImmediate(resolve))
      // A kick just before stop() must not claim batches the next start (or a replica) should take.
      .then(() => (this.stopped ? undefined : this.drain()))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves when no batch is being processed (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops taking new work and waits for the batch in hand. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.poller) clearInterval(this.poller);
    await this.idle();
  }

  private async drain(): Promise<void> {
    for (;;) {
      let batches: StoredBatch[];
      // Half-way through the claim, claim again: claimBatches takes this replica's own unfinished
      // batches again (oldest first), so the rest of the claim is renewed before another replica
      // could take it.
      let renewAt: number;
      try {
        const now = this.claims.clock();
        renewAt = now.getTime() + this.claims.claimMs / 2;
        batches = await this.store.claimBatches({
          owner: this.claims.owner,
          limit: 10,
          until: new Date(now.getTime() + this.claims.claimMs).toISOString(),
          now: now.toISOString(),
        });
      } catch (err) {
        this.retryLater(`reading pending batches failed: ${errorMessage(err)}`);
        return;
      }
      if (batches.length === 0 || this.stopped) {
        // Batches other replicas hold are pending too: count them all.
        await this.countPending();
        return;
      }
      await this.countPending();
      for (const batch of batches) {
        if (this.stopped) return;
        if (this.claims.clock().getTime() >= renewAt) break;
        // SQLite answers synchronously: without a yield a backlog would drain in one turn of the
        // event loop, and webhooks and health checks would wait for all of it.
        await new Promise((resolve) => setImmediate(resolve));
        try {
          await this.process(batch);
        } catch (err) {
          this.retryLater(`processing batch ${batch.id} failed: ${errorMessage(err)}`);
          return;
        }
      }
    }
  }

  private async countPending(): Promise<void> {
    try {
      this.metrics.batchesPending.set(await this.store.countPendingBatches());
    } catch {
      // The gauge is informational; the next pass tries again.
    }
  }

  private retryLater(message: string): void {
    this.logger.error(`${message}; retrying in ${this.retryDelayMs} ms`);
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, this.retryDelayMs);
    this.retryTimer.unref();
  }
}
