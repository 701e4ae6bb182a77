import type { RunStore } from '../domain/store.js';
import type { Metrics } from '../observability/metrics.js';

/**
 * Whoever keeps people up to date on runs (Slack's one message per run) is told of every change,
 * by every stage that changes a run. Runs that end outside an executor (interrupted at start or by
 * a lease running out, cancelled at start or by a resolve) are counted here too, as the executor
 * counts the runs it ends.
 */
export class RunChanges {
  private readonly watchers: ((runId: string) => void)[] = [];

  constructor(private readonly deps: { readonly store: RunStore; readonly metrics: Metrics }) {}

  /** Adds a watcher; it is called for every change, and must return at once and never throw. */
  watch(watcher: (runId: string) => void): void {
    this.watchers.push(watcher);
  }

  /** A run changed. */
  readonly changed = (runId: string): void => {
    for (const watch of this.watchers) watch(runId);
  };

  /** Runs ended outside an executor: watchers told, runs (and cancelled requests) counted. */
  endedElsewhere(ids: readonly string[], outcome: 'interrupted' | 'cancelled'): void {
    const { store, metrics } = this.deps;
    for (const id of ids) {
      this.changed(id);
      void store.getRun(id).then(
        (run) => {
          if (!run) return;
          metrics.runs.inc({ playbook: run.playbook, outcome, mode: run.dryRun ? 'dry-run' : 'live' });
          if (outcome === 'cancelled' && run.approvals.length > 0) metrics.approvals.inc({ playbook: run.playbook, outcome: 'cancelled' });
        },
        () => undefined,
      );
    }
  }
}
