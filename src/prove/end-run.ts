import type { Playbook } from '../domain/playbook.js';
import type { RunState, RunStep } from '../domain/run.js';
import type { StepChange, Store } from '../domain/store.js';
import { changesSomething } from '../execute/approval-gate.js';
import { dryRunAction, stepOf } from '../execute/plan.js';

/**
 * Ends a run created in a sandbox the way a test (or the recorded history) says it ended, through
 * the store's own transitions: so the guards that read runs — the active key, the lock, cooldown,
 * maxRuns, the budget, and whatever they come to read — see it as they would see a run the
 * executor walked. No step executes: the steps are marked as the walk would have left them.
 */

/** How a run ends: its state, and whether it got as far as a step that changes something. */
export interface RunEnding {
  readonly state: RunState;
  /**
   * Whether a step that changes something started (the budget and the report count such runs).
   * Default: true for succeeded, failed and interrupted live runs, false otherwise.
   */
  readonly acted?: boolean;
}

/** The identity that ends runs in a sandbox, as the records name it. */
const BY = { id: 'remediator-test', via: 'cli' } as const;

/** Moves the run of `playbook` (with its plan `steps`) to `ending.state` at `at`. */
export async function endRun(
  store: Store,
  run: { id: string; dryRun: boolean },
  playbook: Playbook,
  steps: readonly RunStep[],
  ending: RunEnding,
  at: Date,
): Promise<void> {
  const iso = at.toISOString();
  const { state } = ending;
  if (state === 'pending') return;
  const start = () =>
    store.transitionRun(run.id, {
      from: ['pending'],
      to: 'running',
      at: iso,
      events: [{ kind: 'run.state', data: { from: 'pending', to: 'running', by: BY.id } }],
    });
  if (state === 'running') {
    await start();
    return;
  }
  if (state === 'awaiting_approval') {
    await start();
    const gate = steps.findIndex((s) => s.phase === 'main' && acting(playbook, s));
    const index = Math.max(gate, 0);
    const step = steps[index];
    await store.holdForApproval(run.id, {
      at: iso,
      expiresAt: new Date(at.getTime() + playbook.approval.timeoutMs).toISOString(),
      phase: 'main',
      stepIndex: index,
      stepName: step?.name ?? '',
      approvers: playbook.approval.approvers,
      message: null,
    });
    return;
  }
  const acted = ending.acted ?? (!run.dryRun && (state === 'succeeded' || state === 'failed' || state === 'interrupted'));
  await store.transitionRun(run.id, {
    from: ['pending', 'running', 'awaiting_approval'],
    to: state,
    at: iso,
    reason: `ended ${state} as the test says`,
    steps: stepChanges(playbook, run.dryRun, steps, state, acted, iso),
    events: [{ kind: 'run.state', data: { to: state, by: BY.id } }],
  });
}

/**
 * The steps as the walk would have left them: every main step of a run that succeeded (only
 * those a dry run executes, for a dry run); up to the first step that changes something for one
 * that failed or was interrupted there; the first such step for a run that acted before it was
 * cancelled, rejected or expired; none for one that never acted.
 */
function stepChanges(playbook: Playbook, dryRun: boolean, steps: readonly RunStep[], state: RunState, acted: boolean, at: string): StepChange[] {
  const main = steps.filter((s) => s.phase === 'main');
  const runs = (s: RunStep) => !dryRun || stepRunsInDryRun(playbook, s);
  const change = (s: RunStep, to: StepChange['state']): StepChange => ({ phase: s.phase, index: s.index, state: to, startedAt: at, finishedAt: at });
  if (state === 'succeeded') return main.filter(runs).map((s) => change(s, 'succeeded'));
  const first = main.findIndex((s) => (dryRun ? runs(s) : acting(playbook, s)));
  const stop = first >= 0 ? first : 0;
  if (state === 'failed' || state === 'interrupted') {
    return main
      .slice(0, stop + 1)
      .filter(runs)
      .map((s, i, list) => change(s, i === list.length - 1 ? (state === 'failed' ? 'failed' : 'interrupted') : 'succeeded'));
  }
  if (!acted || first < 0) return [];
  return main.slice(0, first + 1).map((s) => change(s, 'succeeded'));
}

function acting(playbook: Playbook, s: RunStep): boolean {
  const step = stepOf(playbook, s);
  return step !== undefined && changesSomething(step);
}

function stepRunsInDryRun(playbook: Playbook, s: RunStep): boolean {
  const step = stepOf(playbook, s);
  return step !== undefined && dryRunAction(step, s.rendered, s.phase).action === 'execute';
}
