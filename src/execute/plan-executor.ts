import type { Run } from '../domain/run.js';
import type { Store } from '../domain/store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { RunExecutor } from './executor.js';
import { describeRendered } from './render-step.js';

/**
 * The dry-run executor: it walks the stored plan, logs each step exactly as it would run, and
 * ends the run `succeeded` with dry-run marked. Nothing is executed. Live runs are refused here
 * rather than silently planned, so a live configuration can never look like it acted.
 */
export class PlanExecutor implements RunExecutor {
  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly clock: () => Date,
  ) {}

  async execute(run: Run): Promise<void> {
    const log = this.logger.child({ runId: run.id, playbook: run.playbook, fingerprint: run.fingerprint });
    const started = await this.store.transitionRun(run.id, {
      from: ['pending'],
      to: 'running',
      at: this.clock().toISOString(),
      events: [{ kind: 'run.state', data: { from: 'pending', to: 'running' } }],
    });
    if (!started) return;
    const detail = await this.store.getRun(run.id);
    const steps = detail?.steps ?? [];
    if (!run.dryRun) {
      await this.finish(run, 'failed', 'live execution is not available in this build: set execution: dry-run', log);
      return;
    }
    log.info(`dry run of ${run.playbook} for ${run.alertname}: ${steps.length} step(s)`, { dryRun: true, params: run.params });
    for (const step of steps) {
      log.info(`dry-run ${step.phase === 'main' ? 'step' : 'onFailure step'} ${step.index + 1} ${step.name}: ${describeRendered(step.rendered, true)}`, {
        step: step.name,
        kind: step.kind,
        rendered: step.rendered,
        deferred: step.deferred,
      });
    }
    await this.finish(run, 'succeeded', 'dry run: plan recorded, nothing executed', log);
  }

  private async finish(run: Run, to: 'succeeded' | 'failed', reason: string, log: Logger): Promise<void> {
    await this.store.transitionRun(run.id, {
      from: ['running'],
      to,
      reason,
      at: this.clock().toISOString(),
      events: [{ kind: 'run.state', data: { from: 'running', to, reason } }],
    });
    this.metrics.runs.inc({ playbook: run.playbook, outcome: to, mode: run.dryRun ? 'dry-run' : 'live' });
    log.info(`run ${run.id} ${to}: ${reason}`, { state: to });
  }
}
