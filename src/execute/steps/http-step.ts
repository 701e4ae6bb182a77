import { runHttpStep } from './http-request.js';
import type { StepKind } from './step-kind.js';

/** `http`: one request, its status checked. A dry run sends only a read-only request. */
export const httpStep: StepKind<'http'> = {
  kind: 'http',
  render: (step, t) => ({
    kind: 'http',
    method: step.request.method,
    url: t.url(step.request.url),
    headers: t.record(step.request.headers),
    body: t.deep(step.request.body),
    expectStatus: [...step.expectStatus],
  }),
  changesSomething: () => true,
  inDryRun: (step) => (step.readOnly ? 'execute' : 'plan'),
  execute: (step, rendered, ctx) =>
    runHttpStep(rendered, rendered.expectStatus, {
      signal: ctx.signal,
      timeoutMs: step.timeoutMs ?? 30_000,
      outputCapBytes: ctx.settings.outputCapBytes,
      redactor: ctx.redactor,
    }),
};
