import { errorMessage } from '../domain/errors.js';
import type { Notification, Notifier } from '../domain/notifier.js';
import type { NewEvent, Run } from '../domain/run.js';
import type { AuditLog } from '../domain/store.js';
import { deliver } from '../notify/deliver.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { SecretStore } from './secrets.js';

/** What telling people about runs needs. */
export interface RunNoticesDeps {
  readonly notifiers: readonly Notifier[];
  readonly secrets: SecretStore;
  readonly store: AuditLog;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/**
 * The executor's fan-out to the notifiers: each notification redacted, sent through every
 * notifier that takes its kind, and each outcome recorded on the run. A failed notification is
 * recorded and never fails the step or the run.
 */
export class RunNotices {
  private readonly telling = new Set<Promise<void>>();

  constructor(private readonly deps: RunNoticesDeps) {}

  /** Sends through every notifier and records the outcomes; resolves with a line per notifier. */
  async send(run: Run, n: Notification): Promise<string[]> {
    const { secrets } = this.deps;
    const lines: string[] = [];
    const events: NewEvent[] = [];
    for (const notifier of this.deps.notifiers) {
      const outcome = await deliver(notifier, { ...n, text: secrets.redact(n.text) }, this.deps);
      if (outcome === null) continue;
      const { line, event } = outcome;
      lines.push(secrets.redact(line));
      events.push({ ...event, runId: run.id, playbook: run.playbook, fingerprint: run.fingerprint, data: secrets.redactDeep(event.data) });
    }
    if (events.length > 0) await this.deps.store.appendEvents(events);
    return lines;
  }

  /**
   * Sends without holding the caller (a hold's announcement: the run is waiting, and a slow
   * webhook must not keep other runs from executing); idle() waits for these.
   */
  later(run: Run, n: Notification): void {
    const p: Promise<void> = this.send(run, n)
      .then(
        () => undefined,
        (err: unknown) => {
          this.deps.logger.warn(`notifying about run ${run.id} failed: ${errorMessage(err)}`, { runId: run.id });
        },
      )
      .finally(() => this.telling.delete(p));
    this.telling.add(p);
  }

  /** Resolves when every notification sent with later() has gone out or failed. */
  async idle(): Promise<void> {
    while (this.telling.size > 0) await Promise.all([...this.telling]);
  }
}
