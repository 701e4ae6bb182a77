import { describeRendered } from '../domain/describe-step.js';
import { formatDuration } from '../domain/duration.js';
import { errorMessage } from '../domain/errors.js';
import type { RenderedStep } from '../domain/run.js';
import type { StepStatus } from '../domain/step-outcome.js';
import { changed, turnLabel, type Execution, type StepTurn } from './execution.js';
import { renderStep } from './render-step.js';
import { runtimeValues } from './runtime-values.js';

/**
 * Holds the run before a gate: the request (who may decide, until when, the approval step's
 * message rendered with what earlier steps found) is stored with the state change, then people
 * are told. The run leaves its executing slot; an approval queues it again through resume().
 */
export async function holdRun(ex: Execution, turn: StepTurn): Promise<'held' | StepStatus> {
  const { store, secrets } = ex.deps;
  const { run, playbook, step, phase, index, progress, log } = turn;
  const label = turnLabel(turn);
  const own = step.kind === 'approval' ? step : null;
  const timeoutMs = own?.approvalTimeoutMs ?? playbook.approval.timeoutMs;
  const approvers = own?.approvers ?? playbook.approval.approvers;
  let message: string | null = null;
  let shown: RenderedStep | null = null;
  try {
    shown = secrets.redactDeep(renderStep(step, runtimeValues(ex, run, progress.outcomes, false)).rendered);
    message = shown.kind === 'approval' ? shown.message : `next: ${describeRendered(shown, false)} (${run.reason})`;
  } catch (err) {
    message = `next: step ${step.name} (${secrets.redact(errorMessage(err))})`;
  }
  const at = ex.deps.clock();
  const approval = await store.holdForApproval(run.id, {
    at: at.toISOString(),
    expiresAt: new Date(at.getTime() + timeoutMs).toISOString(),
    phase,
    stepIndex: index,
    stepName: step.name,
    approvers,
    message,
    ...(shown && step.kind === 'approval' ? { steps: [{ phase, index, state: 'pending' as const, rendered: shown }] } : {}),
  });
  if (approval === null) {
    log.warn(`${label} not held: the run is no longer running`);
    return 'skipped';
  }
  ex.deps.metrics.approvals.inc({ playbook: run.playbook, outcome: 'requested' });
  log.info(`${label}: run ${run.id} awaits approval until ${approval.expiresAt}${approvers.length > 0 ? ` by ${approvers.join(', ')}` : ''}`, {
    step: step.name,
  });
  ex.deps.onHold?.(approval);
  changed(ex, run.id);
  // The hold a storm put on a run is told of once, by the storm (its notification and its one
  // message); an approval step of the playbook's own is asked for as always.
  if (run.stormId && own === null) return 'held';
  ex.notices.later(run, {
    kind: 'approval.requested',
    text: `${run.playbook} for ${run.alertname} (${run.targetKey}) awaits approval before step ${step.name}, for ${formatDuration(timeoutMs)}${message ? `: ${message}` : ''}. Approve: remediator approve ${run.id} [run ${run.id}]`,
    runId: run.id,
    playbook: run.playbook,
    data: { step: step.name, expiresAt: approval.expiresAt, approvers },
  });
  return 'held';
}
