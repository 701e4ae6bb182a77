import type { StepKind } from './step-kind.js';

/**
 * `notify`: a text through every notifier. A failed notification is recorded and never fails the
 * step or the run. A dry run sends it too, marked as a dry run.
 */
export const notifyStep: StepKind<'notify'> = {
  kind: 'notify',
  render: (step, t) => ({ kind: 'notify', text: t.text(step.text), channel: step.channel }),
  changesSomething: () => false,
  inDryRun: () => 'execute',
  execute: async (_step, rendered, ctx) => {
    const text = ctx.dryRun ? `[dry run] ${rendered.text}` : rendered.text;
    const lines = await ctx.announce(text, rendered.channel);
    return { ok: true, exitCode: null, output: lines.join('\n'), error: null, vars: { stdout: text } };
  },
};
