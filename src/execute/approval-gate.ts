import type { Approval } from '../domain/approval.js';
import type { Playbook, Step } from '../domain/playbook.js';
import type { Run, RunDetail } from '../domain/run.js';
import type { StepStatus, StepVars } from '../domain/step-outcome.js';
import { kindOf } from './steps/step-kinds.js';

type Phase = 'main' | 'onFailure';

/** Where a run stands: the next step to take, how earlier ones ended, what was approved. */
export interface Progress {
  readonly phase: Phase;
  readonly index: number;
  readonly outcomes: Map<string, { status: StepStatus; vars: StepVars }>;
  /** The main step that failed the run, if one has. */
  failure: string | null;
  /** A person approved this run at least once: the approve-mode gate is passed. */
  approvedOnce: boolean;
  /** Approved requests by gate ("phase:index"). */
  readonly granted: Map<string, Approval>;
}

/** A run's progress before its first step. */
export function freshProgress(): Progress {
  return { phase: 'main', index: 0, outcomes: new Map(), failure: null, approvedOnce: false, granted: new Map() };
}

/** The key of a gate in `granted`. */
export function gateKey(phase: Phase, index: number): string {
  return `${phase}:${index}`;
}

/**
 * Whether a step must wait for a person. Dry runs never wait: they act on nothing. An approval
 * step always waits until its own request is approved; in a run that needs approval (mode
 * approve, or the circuit was open) the first step that changes something waits, and once a
 * person has approved, the rest of the run goes on without asking again.
 */
export function gateOf(step: Step, run: Run, progress: Progress, phase: Phase, index: number): 'hold' | 'granted' | null {
  if (run.dryRun) return null;
  if (step.kind === 'approval') return progress.granted.has(gateKey(phase, index)) ? 'granted' : 'hold';
  if (run.needsApproval && !progress.approvedOnce && changesSomething(step)) return 'hold';
  return null;
}

/**
 * A step not marked readOnly that can change something (its kind says: a run or http step, or a
 * verify step that polls with a method other than GET or HEAD). These are the steps an approval
 * is about.
 */
export function changesSomething(step: Step): boolean {
  return !step.readOnly && kindOf(step).changesSomething(step);
}

/**
 * Whether an approved request also passes the playbook's own gate (mode approve): only when it
 * was asked of no one the playbook's approvers would not include. An approval step open to
 * anyone must not stand in for the leads a playbook names.
 */
export function coversPlaybookGate(request: Approval, playbook: Playbook): boolean {
  const required = playbook.approval.approvers;
  if (required.length === 0) return true;
  return request.approvers.length > 0 && request.approvers.every((a) => required.includes(a));
}

/**
 * Where an approved run goes on: at the gate of its last approved request, with the outcomes of
 * the steps before it as stored, so `{{ steps.X.* }}` and `when` read exactly what they would have
 * read without the wait, even across a restart.
 */
export function resumePoint(detail: RunDetail, playbook: Playbook): Progress | null {
  const approved = detail.approvals.filter((a) => a.decision === 'approved');
  const last = approved[approved.length - 1];
  if (!last) return null;
  const outcomes = new Map<string, { status: StepStatus; vars: StepVars }>();
  let failure: string | null = null;
  for (const s of detail.steps) {
    if (s.phase === last.phase && s.index >= last.stepIndex) continue;
    if (s.phase === 'onFailure' && last.phase === 'main') continue;
    if (s.state !== 'succeeded' && s.state !== 'failed' && s.state !== 'skipped' && s.state !== 'planned') continue;
    outcomes.set(s.name, { status: s.state, vars: s.vars ?? {} });
    const spec = s.phase === 'main' ? playbook.steps[s.index] : undefined;
    if (s.phase === 'main' && s.state === 'failed' && spec && !spec.continueOnError && failure === null) failure = s.name;
  }
  return {
    phase: last.phase,
    index: last.stepIndex,
    outcomes,
    failure,
    approvedOnce: approved.some((a) => coversPlaybookGate(a, playbook)),
    granted: new Map(approved.map((a) => [gateKey(a.phase, a.stepIndex), a])),
  };
}
