import { sleep } from '../retry.js';
import type { StepKind } from './step-kind.js';

/** `wait`: a pause between steps (e.g. for a rollout to settle). Planned in a dry run. */
export const waitStep: StepKind<'wait'> = {
  kind: 'wait',
  render: (step) => ({ kind: 'wait', durationMs: step.durationMs }),
  changesSomething: () => false,
  inDryRun: () => 'plan',
  execute: async (_step, rendered, ctx) => {
    try {
      await sleep(rendered.durationMs, ctx.signal);
      return { ok: true, exitCode: null, output: `waited ${rendered.durationMs / 1000}s`, error: null, vars: {} };
    } catch {
      return { ok: false, exitCode: null, output: '', error: 'cancelled while waiting', vars: {} };
    }
  },
};
