import type { Alert } from '../domain/alert.js';
import type { Playbook, Step } from '../domain/playbook.js';
import type { RunStep } from '../domain/run.js';
import { scopeResolver } from '../playbook/template-scope.js';
import { renderStep } from './render-step.js';

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
