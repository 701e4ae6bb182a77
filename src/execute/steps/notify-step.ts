import type { StepKind } from './step-kind.js';

/**
 * `notify`: a text through every notifier. A failed notification is recorded and never fails the
 * step or the run. A dry run sends it too, marked as a dry run — unless the dry run has already
 * failed: then a live run would never have sent it ("Rolled back checkout" after the rollback
 * failed), so it is only planned. onFailure notifications are what a live run would send after
 * that failure, and go out.
 */
export const notifyStep: StepKind<'notify'> = {
  kind: 'notify',
  render: (step, t) => ({ kind: 'notify', text: t.text(step.text), channel: step.channel }),
  changesSomething: () => false,
  inDryRun: (_step, _rendered, walk) => (walk.phase === 'main' && walk.failedAt !== null ? 'plan' : 'execute'),
  execute: async (_step, rendered, ctx) => {
    const text = ctx.dryRun ? `[dry run] ${rendered.text}` : rendered.text;
    const lines = await ctx.announce(text, rendered.channel);
    return { ok: true, exitCode: null, output: lines.join('\n'), error: null, vars: { stdout: text } };
  },
};
