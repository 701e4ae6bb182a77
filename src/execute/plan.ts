import type { Alert } from '../domain/alert.js';
import type { Playbook, Step } from '../domain/playbook.js';
import { describeRendered } from '../domain/describe-step.js';
import type { RenderedStep, RunStep } from '../domain/run.js';
import { scopeResolver } from '../playbook/template-scope.js';
import { renderStep } from './render-step.js';
import { kindOf } from './steps/step-kinds.js';

/** Identity of the run a plan is rendered for. */
export interface PlanContext {
  readonly runId: string;
  readonly dryRun: boolean;
}

/**
 * Renders every step of a playbook for one alert: the plan stored with the run. Values that only
 * exist while running (earlier steps' output, secrets) stay as written and the step is marked
 * deferred; secrets are never rendered into anything stored.
 */
export function renderPlan(playbook: Playbook, alert: Alert, params: Readonly<Record<string, string>>, ctx: PlanContext): RunStep[] {
  const resolve = scopeResolver({
    alert,
    params,
    run: { id: ctx.runId, playbook: playbook.name, mode: ctx.dryRun ? 'dry-run' : playbook.mode },
    steps: 'later',
    secret: 'later',
  });
  const plan = (steps: readonly Step[], phase: RunStep['phase']): RunStep[] =>
    steps.map((step, index) => {
      const { rendered, deferred } = renderStep(step, resolve);
      return {
        index,
        name: step.name,
        kind: step.kind,
        phase,
        readOnly: step.readOnly,
        rendered,
        deferred,
        state: 'planned',
        startedAt: null,
        finishedAt: null,
        exitCode: null,
        output: null,
        error: null,
      };
    });
  return [...plan(playbook.steps, 'main'), ...plan(playbook.onFailure, 'onFailure')];
}

/** What a dry run does with one step: executes it (the command it runs), or only plans it. */
export type DryRunAction = { readonly action: 'execute'; readonly command: string } | { readonly action: 'plan' };

/**
 * What a dry run does with a step of the plan, by its kind's own dry-run policy (src/execute/steps/),
 * in a walk where nothing has failed yet: a read-only command or a dryRun variant executes, a
 * notification is sent (marked), the rest (an http request that changes something, a verify, a
 * wait) is only planned. The executor asks the same question of the same policy.
 */
export function dryRunAction(step: Step, rendered: RenderedStep, phase: RunStep['phase']): DryRunAction {
  return kindOf(step).inDryRun(step, rendered, { failedAt: null, phase, liveReaches: true }) === 'execute'
    ? { action: 'execute', command: describeRendered(rendered, true) }
    : { action: 'plan' };
}

/** The playbook step a planned step was rendered from. */
export function stepOf(playbook: Playbook, planned: Pick<RunStep, 'phase' | 'index'>): Step | undefined {
  return (planned.phase === 'main' ? playbook.steps : playbook.onFailure)[planned.index];
}
