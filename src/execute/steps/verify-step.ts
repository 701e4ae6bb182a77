import type { RenderedCheck } from '../../domain/run.js';
import { withDeadline } from '../deadline.js';
import type { StepKind } from './step-kind.js';
import { httpCheck, pollUntil, prometheusCheck, type Check } from './verify.js';

/**
 * `verify`: polls a check (a Prometheus instant query, an HTTP answer, or the alert resolving)
 * every `every` until it holds or `within` runs out; a check that could not be made is
 * inconclusive and fails. Planned in a dry run. Polling with a method other than GET or HEAD
 * counts as changing something.
 */
export const verifyStep: StepKind<'verify'> = {
  kind: 'verify',
  render: (step, t) => {
    const c = step.check;
    const check: RenderedCheck =
      c.kind === 'prometheus'
        ? { kind: 'prometheus', query: t.text(c.query), url: c.url === null ? null : t.url(c.url) }
        : c.kind === 'http'
          ? {
              kind: 'http',
              method: c.request.method,
              url: t.url(c.request.url),
              headers: t.record(c.request.headers),
              status: [...c.status],
              // The loader accepts templates in json and contains too, so they are rendered like every other string.
              json: c.json && { path: t.text(c.json.path), equals: typeof c.json.equals === 'string' ? t.text(c.json.equals) : c.json.equals },
              contains: c.contains === null ? null : t.text(c.contains),
            }
          : { kind: 'resolved' };
    return { kind: 'verify', check, withinMs: step.withinMs, everyMs: step.everyMs };
  },
  changesSomething: (step) => step.check.kind === 'http' && !['GET', 'HEAD'].includes(step.check.request.method.toUpperCase()),
  inDryRun: () => 'plan',
  execute: async (step, rendered, ctx) => {
    const { settings } = ctx;
    const c = rendered.check;
    const check: Check =
      c.kind === 'prometheus'
        ? prometheusCheck(c.url ?? settings.prometheusUrl, c.query, 5000, settings.outputCapBytes, ctx.redactor)
        : c.kind === 'http'
          ? httpCheck(
              { method: c.method, url: c.url, headers: c.headers, body: null },
              c,
              step.check.kind === 'http' ? step.check.tryTimeoutMs : 2000,
              settings.outputCapBytes,
              ctx.redactor,
            )
          : async () => ((await ctx.isResolved()) ? { holds: true, measured: 'the alert resolved' } : { holds: false, measured: 'the alert is still firing' });
    const poll = { withinMs: rendered.withinMs, everyMs: rendered.everyMs };
    if (step.timeoutMs === null)
      return pollUntil(check, poll, { signal: ctx.signal, timeoutMs: rendered.withinMs, outputCapBytes: settings.outputCapBytes, redactor: ctx.redactor });
    const deadline = withDeadline(ctx.signal, step.timeoutMs, () => new Error(`timed out after ${step.timeoutMs} ms`));
    try {
      const outcome = await pollUntil(check, poll, {
        signal: deadline.signal,
        timeoutMs: rendered.withinMs,
        outputCapBytes: settings.outputCapBytes,
        redactor: ctx.redactor,
      });
      // pollUntil calls any abort "cancelled"; when our deadline was the cause, say so.
      return !outcome.ok && deadline.signal.aborted && !ctx.signal.aborted ? { ...outcome, error: `timed out after ${step.timeoutMs} ms` } : outcome;
    } finally {
      deadline.clear();
    }
  },
};
