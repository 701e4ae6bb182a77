import type { StepStatus } from '../domain/step-outcome.js';
import { parseCondition } from '../playbook/condition.js';

/**
 * Whether a step runs, given how earlier steps ended. Without `when`, a step runs until the run
 * has failed; `always`, `failed` and `steps.X.failed` are how clean-up steps still run after a
 * failure. A dry run's planned steps count as succeeded: it shows the path of a run that works.
 */
export function shouldRun(when: string | null, earlier: ReadonlyMap<string, StepStatus>, runFailing: boolean): boolean {
  if (when === null) return !runFailing;
  const c = parseCondition(when);
  const statuses = [...earlier.values()].map((s) => (s === 'planned' ? 'succeeded' : s));
  switch (c.kind) {
    case 'always':
      return true;
    case 'succeeded':
      return !runFailing && !statuses.includes('failed');
    case 'failed':
      return statuses.includes('failed');
    case 'step': {
      const raw = earlier.get(c.step);
      const status = raw === 'planned' ? 'succeeded' : raw;
      return (status === c.outcome) !== c.negate;
    }
  }
}
