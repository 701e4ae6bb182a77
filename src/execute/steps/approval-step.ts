import type { StepKind } from './step-kind.js';

/**
 * `approval`: a gate in the middle of a playbook. It is never executed: the executor holds the
 * run there (src/execute/approval-hold.ts) until a person decides, and records the verdict as the
 * step's outcome. A dry run only plans it.
 */
export const approvalStep: StepKind<'approval'> = {
  kind: 'approval',
  render: (step, t) => ({ kind: 'approval', message: step.message === null ? null : t.text(step.message) }),
  changesSomething: () => false,
  inDryRun: () => 'plan',
  execute: () =>
    Promise.resolve({ ok: false, exitCode: null, output: '', error: 'an approval step is a gate: the run is held there, never executed', vars: {} }),
};
