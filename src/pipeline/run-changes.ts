import { errorMessage } from '../domain/errors.js';
import type { Notification } from '../domain/notifier.js';
import type { RunDetail } from '../domain/run.js';
import type { RunStore } from '../domain/store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/**
 * Whoever keeps people up to date on runs (Slack's one message per run) is told of every change,
 * by every stage that changes a run. Runs that end outside an executor (interrupted at start or by
 * a lease running out, cancelled at start or by a resolve) are counted and announced here, as the
 * executor counts and announces the runs it ends: every end state is told.
 */
export class RunChanges {
  private readonly watchers: ((runId: string) => void)[] = [];
  private readonly telling = new Set<Promise<void>>();

  constructor(
    private readonly deps: {
      readonly store: RunStore;
      readonly metrics: Metrics;
      readonly logger: Logger;
      /** Sends a notification about a run through every notifier, recording the outcomes. */
      readonly announce?: (run: RunDetail, n: Notification) => Promise<unknown>;
    },
  ) {}

  /** Adds a watcher; it is called for every change, and must return at once and never throw. */
  watch(watcher: (runId: string) => void): void {
    this.watchers.push(watcher);
  }

  /** A run changed. */
  readonly changed = (runId: string): void => {
    for (const watch of this.watchers) watch(runId);
  };

  /** Runs ended outside an executor: watchers told, runs (and cancelled requests) counted, people told. */
  endedElsewhere(ids: readonly string[], outcome: 'interrupted' | 'cancelled'): void {
    for (const id of ids) {
      this.changed(id);
      const p: Promise<void> = this.ended(id, outcome)
        .catch((err: unknown) => {
          this.deps.logger.warn(`announcing the end of run ${id} failed: ${errorMessage(err)}`, { runId: id });
        })
        .finally(() => this.telling.delete(p));
      this.telling.add(p);
    }
  }

  /** Resolves when every end announced so far has been counted and told. */
  async idle(): Promise<void> {
    while (this.telling.size > 0) await Promise.all([...this.telling]);
  }

  private async ended(id: string, outcome: 'interrupted' | 'cancelled'): Promise<void> {
    const { store, metrics, announce } = this.deps;
    const run = await store.getRun(id);
    if (!run) return;
    metrics.runs.inc({ playbook: run.playbook, outcome, mode: run.dryRun ? 'dry-run' : 'live' });
    if (outcome === 'cancelled' && run.approvals.length > 0) metrics.approvals.inc({ playbook: run.playbook, outcome: 'cancelled' });
    await announce?.(run, { kind: 'run.finished', text: endText(run), runId: run.id, playbook: run.playbook, data: { state: run.state, dryRun: run.dryRun } });
  }
}

/**
 * What people are told of a run that ended outside an executor. An interrupted run names the step
 * that was running: its command may still be running, or have done its work.
 */
export function endText(run: RunDetail): string {
  const step = run.steps.find((s) => s.state === 'interrupted');
  const running = step
    ? `; ${step.phase === 'main' ? 'step' : 'onFailure step'} ${step.index + 1} ${step.name} was running: its command may still be running, or may have done its work`
    : '';
  return `${run.dryRun ? '[dry run] ' : ''}${run.playbook} for ${run.alertname} (${run.targetKey}) ${run.state}: ${run.reason}${running} [run ${run.id}]`;
}
