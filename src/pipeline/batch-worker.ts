import { errorMessage } from '../domain/errors.js';
import type { Store, StoredBatch } from '../domain/store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/**
 * Works through stored batches one at a time, in the order they arrived. The webhook only stores
 * and kicks; this loop does the rest after the answer. Stored batches that a previous process
 * never finished are found by the same loop at start-up. A batch whose processing fails stays
 * pending and is tried again after a pause, so a store outage loses nothing.
 */
export class BatchWorker {
  private running: Promise<void> | null = null;
  private again = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly process: (batch: StoredBatch) => Promise<void>,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly retryDelayMs = 2000,
  ) {}

  /** Asks the worker to look for pending batches; cheap to call often. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
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
    await this.idle();
  }

  private async drain(): Promise<void> {
    for (;;) {
      let batches: StoredBatch[];
      try {
        batches = await this.store.pendingBatches(50);
      } catch (err) {
        this.retryLater(`reading pending batches failed: ${errorMessage(err)}`);
        return;
      }
      if (batches.length === 0 || this.stopped) {
        this.metrics.batchesPending.set(batches.length);
        return;
      }
      try {
        this.metrics.batchesPending.set(await this.store.countPendingBatches());
      } catch {
        // The gauge is informational; the next pass tries again.
      }
      for (const batch of batches) {
        if (this.stopped) return;
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
