import type { StepKind } from './step-kind.js';

/**
 * `notify`: a text through every notifier. A failed notification is recorded and never fails the
 * step or the run. A dry run sends it too, marked as a dry run — unless only the dry run's walk
 * after a failure reaches it: a live run would never have sent "Rolled back checkout" after the
 * rollback failed, so it is only planned. What a live run would send after that failure (onFailure
 * steps, and steps with `when: failed` or `always`) goes out.
 */
export const notifyStep: StepKind<'notify'> = {
  kind: 'notify',
  render: (step, t) => ({ kind: 'notify', text: t.text(step.text), channel: step.channel }),
  changesSomething: () => false,
  inDryRun: (_step, _rendered, walk) => (walk.liveReaches ? 'execute' : 'plan'),
  execute: async (_step, rendered, ctx) => {
    const text = ctx.dryRun ? `[dry run] ${rendered.text}` : rendered.text;
    const lines = await ctx.announce(text, rendered.channel);
    return { ok: true, exitCode: null, output: lines.join('\n'), error: null, vars: { stdout: text } };
  },
};
