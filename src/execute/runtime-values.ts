import { alertOfRun, type Run } from '../domain/run.js';
import type { Resolve } from '../playbook/template.js';
import { scopeResolver } from '../playbook/template-scope.js';
import type { Progress } from './approval-gate.js';
import type { Execution } from './execution.js';

/** What the templates of a step see while its run executes: earlier steps' values and secrets. */
export function runtimeValues(ex: Execution, run: Run, outcomes: Progress['outcomes'], dryRun: boolean): Resolve {
  return scopeResolver({
    alert: alertOfRun(run),
    params: run.params,
    run: { id: run.id, playbook: run.playbook, mode: dryRun ? 'dry-run' : 'live' },
    steps: outcomes,
    secret: (name) => ex.deps.secrets.get(name),
    dryRun,
  });
}
