import cron, { type ScheduledTask } from 'node-cron';
import { formatDuration } from '../domain/duration.js';
import { errorMessage } from '../domain/errors.js';
import type { RetentionStore } from '../domain/store.js';
import type { Logger } from '../observability/logger.js';

/** What a retention pass removed in all. */
export interface RetentionSummary {
  readonly before: string;
  readonly events: number;
  readonly runs: number;
  readonly batches: number;
  readonly cut: { readonly id: number; readonly hash: string } | null;
}

/**
 * Removes what is older than the retention period, on a cron schedule: events (keeping the chain
 * verifiable from the cut), finished runs and processed batches. It works in chunks, one short
 * transaction each with a yield between them, so a first pass over years of history never holds
 * the database (or, with SQLite, the event loop) for long.
 */
export class RetentionJob {
  private task: ScheduledTask | null = null;
  private running: Promise<RetentionSummary> | null = null;

  constructor(
    private readonly deps: {
      readonly store: RetentionStore;
      readonly keepMs: number;
      /** Five fields (or six, with seconds first), read in `timezone` (default UTC). */
      readonly schedule: string;
      readonly timezone?: string;
      readonly clock: () => Date;
      readonly logger: Logger;
      readonly chunk?: number;
    },
  ) {}

  /** Starts the schedule. */
  start(): void {
    this.task = cron.schedule(
      this.deps.schedule,
      async () => {
        try {
          await this.runNow();
        } catch (err) {
          this.deps.logger.error(`retention failed: ${errorMessage(err)}; the next scheduled pass tries again`);
        }
      },
      { timezone: this.deps.timezone ?? 'UTC', noOverlap: true, name: 'retention' },
    );
  }

  /** Stops the schedule and waits for a pass in progress. */
  async stop(): Promise<void> {
    await this.task?.stop();
    await this.task?.destroy();
    this.task = null;
    await this.running?.catch(() => undefined);
  }

  /** One whole pass now (a second call during a pass joins it). */
  runNow(): Promise<RetentionSummary> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(): Promise<RetentionSummary> {
    const now = this.deps.clock();
    const before = new Date(now.getTime() - this.deps.keepMs).toISOString();
    const total = { events: 0, runs: 0, batches: 0 };
    let cut: RetentionSummary['cut'] = null;
    for (;;) {
      const r = await this.deps.store.prune({ before, at: this.deps.clock().toISOString(), limit: this.deps.chunk ?? 5000 });
      total.events += r.events;
      total.runs += r.runs;
      total.batches += r.batches;
      cut = r.cut ?? cut;
      if (!r.more) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const summary = { before, ...total, cut };
    if (total.events + total.runs + total.batches > 0) {
      this.deps.logger.info(
        `retention: removed ${total.events} event(s), ${total.runs} run(s), ${total.batches} batch(es) older than ${formatDuration(this.deps.keepMs)} (before ${before})${cut ? `; the audit chain now starts after event ${cut.id}, hash ${cut.hash}` : ''}`,
        { ...summary },
      );
    }
    return summary;
  }
}
