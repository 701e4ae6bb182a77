import type { Step } from '../../domain/playbook.js';
import type { RenderedStep } from '../../domain/run.js';
import type { StepOutcome } from '../../domain/step-outcome.js';
import { approvalStep } from './approval-step.js';
import { httpStep } from './http-step.js';
import { notifyStep } from './notify-step.js';
import { runStep } from './run-step.js';
import type { DryRunWalk, StepBodyContext, StepKind, StepKindName, TemplateText } from './step-kind.js';
import { verifyStep } from './verify-step.js';
import { waitStep } from './wait-step.js';

/** Every step kind, by name: the one table the executor, the planner and the gate dispatch on. */
export const STEP_KINDS: { readonly [K in StepKindName]: StepKind<K> } = {
  run: runStep,
  http: httpStep,
  verify: verifyStep,
  wait: waitStep,
  notify: notifyStep,
  approval: approvalStep,
};

/** A step kind that takes any step, with the rendering made from that same step. */
export interface AnyStepKind {
  readonly kind: StepKindName;
  render(step: Step, t: TemplateText): RenderedStep;
  changesSomething(step: Step): boolean;
  inDryRun(step: Step, rendered: RenderedStep, walk: DryRunWalk): 'execute' | 'plan';
  execute(step: Step, rendered: RenderedStep, ctx: StepBodyContext): Promise<StepOutcome>;
}

/**
 * The kind of a step. Callers pass each kind only its own steps and the renderings made from
 * them: renderStep makes a rendering of its step's kind.
 */
export function kindOf(step: Step): AnyStepKind {
  return STEP_KINDS[step.kind];
}
