import { errorMessage } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';

/** The longest the timer sleeps between looks at the store (another replica may add requests). */
const MAX_SLEEP_MS = 30_000;
/** After a failed sweep. */
const RETRY_MS = 2000;

/**
 * Expires approval requests on time. One timer, set for the earliest open request read from the
 * store, so it is rebuilt from the store after a restart and needs no per-request state; a new
 * request (poke) re-reads the earliest. A request decided in the meantime costs one empty sweep.
 */
export class ExpiryTimer {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly deps: {
      readonly nextExpiry: () => Promise<string | null>;
      readonly expireDue: () => Promise<unknown>;
      readonly clock: () => Date;
      readonly logger: Logger;
    },
  ) {}

  /** Starts (or re-arms) the timer: call at start and whenever a request is made. */
  poke(): void {
    if (this.stopped) return;
    this.running = this.running
      .then(() => this.arm())
      .catch((err: unknown) => {
        this.deps.logger.error(`approval expiry: ${errorMessage(err)}`);
      });
  }

  /** Waits for the sweep in progress, if any (tests, shutdown). */
  idle(): Promise<void> {
    return this.running;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async arm(): Promise<void> {
    if (this.stopped) return;
    let wait = MAX_SLEEP_MS;
    try {
      await this.deps.expireDue();
      const next = await this.deps.nextExpiry();
      if (next !== null) wait = Math.min(MAX_SLEEP_MS, Math.max(0, Date.parse(next) - this.deps.clock().getTime()) + 5);
    } catch (err) {
      // The store failed: look again soon rather than never (a sweep must not be the last one).
      this.deps.logger.error(`approval expiry: ${errorMessage(err)}; trying again in ${RETRY_MS} ms`);
      wait = RETRY_MS;
    } finally {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      if (!this.stopped) {
        this.timer = setTimeout(() => this.poke(), wait);
        this.timer.unref();
      }
    }
  }
}
