import type { Playbook } from '../domain/playbook.js';
import type { Run } from '../domain/run.js';
import { changed, nowText, type Execution, type ExecutorDeps } from './execution.js';
import { RunNotices } from './run-notices.js';
import { RunSlots } from './run-slots.js';
import { abandonRun, walkRun } from './run-walk.js';

export type { ExecutorDeps } from './execution.js';

/**
 * Carries runs through their steps: at most `maxConcurrent` at once, the rest waiting in order
 * (run-slots.ts); each run walked step by step (run-walk.ts, step-turn.ts), held at its approval
 * gates (approval-hold.ts), and announced (run-notices.ts). Every step start and end is stored,
 * with the command as it really ran (secrets redacted), before the next thing happens. A dry run
 * executes only what is safe (each step kind says what: steps/), and plans the rest.
 */
export class Executor {
  private readonly ex: Execution;

  constructor(deps: ExecutorDeps) {
    const slots: RunSlots = new RunSlots(
      deps.settings.maxConcurrent,
      (item, signal) => walkRun(this.ex, item.run, item.playbook, item.resume, signal),
      (run, err, signal) => abandonRun(this.ex, run, err, signal),
    );
    this.ex = { deps, slots, notices: new RunNotices(deps) };
  }

  /** Queues a run; resolves when it has finished, is held for approval, or was never started. */
  execute(run: Run, playbook: Playbook): Promise<void> {
    return this.ex.slots.enqueue(run, playbook, false);
  }

  /**
   * Queues a run that a person approved (the store moved it back to `running`): it goes on at the
   * gate it was held at. Resolves like execute.
   */
  resume(run: Run, playbook: Playbook): Promise<void> {
    return this.ex.slots.enqueue(run, playbook, true);
  }

  /**
   * Stops a run this executor has: one executing has its current step cancelled and ends
   * `cancelled`; one waiting for a slot (an approved run, say) is taken out of the queue and
   * cancelled at once. False when this executor does not have it.
   */
  async cancel(runId: string, reason: string): Promise<boolean> {
    const { slots, deps } = this.ex;
    const slot = slots.slot(runId);
    if (slot) {
      slot.stop ??= { to: 'cancelled', reason };
      slot.controller.abort(new Error(reason));
      return true;
    }
    const item = slots.unqueue(runId);
    if (item === null) return false;
    const from = item.resume ? 'running' : 'pending';
    const moved = await deps.store.transitionRun(runId, {
      from: [from],
      to: 'cancelled',
      reason,
      at: nowText(this.ex),
      events: [{ kind: 'run.state', data: { from, to: 'cancelled', reason } }],
    });
    item.done();
    if (moved) {
      const run = item.run;
      deps.metrics.runs.inc({ playbook: run.playbook, outcome: 'cancelled', mode: run.dryRun ? 'dry-run' : 'live' });
      changed(this.ex, runId);
      this.ex.notices.later(run, {
        kind: 'run.finished',
        text: `${run.dryRun ? '[dry run] ' : ''}${run.playbook} for ${run.alertname} (${run.targetKey}) cancelled: ${reason} [run ${runId}]`,
        runId,
        playbook: run.playbook,
        data: { state: 'cancelled', dryRun: run.dryRun },
      });
    }
    return moved;
  }

  /** Resolves when every announcement sent without holding a run (holds, dry runs' ends) is out. */
  idle(): Promise<void> {
    return this.ex.notices.idle();
  }

  /** Runs executing now. */
  get activeCount(): number {
    return this.ex.slots.activeCount;
  }

  /** The runs this executor drives (their leases are renewed; nobody else's). */
  driving(): string[] {
    return this.ex.slots.driving();
  }

  /**
   * Stops driving runs that are no longer this executor's (another replica interrupted them after
   * their lease ran out): the current step is killed, nothing more is recorded as this run's.
   */
  release(runIds: readonly string[], reason: string): void {
    for (const id of runIds) {
      const slot = this.ex.slots.slot(id);
      if (slot) {
        slot.stop ??= { to: 'interrupted', reason };
        slot.controller.abort(new Error(reason));
      } else this.ex.slots.unqueue(id)?.done();
    }
  }

  /**
   * Shutdown: starts nothing new (queued runs stay `pending` in the store and are picked up at
   * the next start), lets running steps finish within the grace period, then kills them and marks
   * their runs interrupted.
   */
  async shutdown(graceMs: number): Promise<void> {
    await this.ex.slots.shutdown(graceMs, { to: 'interrupted', reason: 'the daemon shut down while the run was running' }, (id) =>
      this.ex.deps.logger.warn(`run ${id} interrupted by shutdown`, { runId: id }),
    );
    await this.ex.notices.idle();
  }
}
