import type { Step } from '../domain/playbook.js';
import type { RenderedStep } from '../domain/run.js';
import { withDeadline } from './deadline.js';
import { sleep } from './retry.js';
import { runCommand } from './steps/run-command.js';
import { runHttpStep } from './steps/http-request.js';
import type { StepContext, StepOutcome } from './steps/step-outcome.js';
import { httpCheck, pollUntil, prometheusCheck, type Check } from './steps/verify.js';

/** Daemon-wide settings for steps. */
export interface StepSettings {
  readonly outputCapBytes: number;
  readonly killGraceMs: number;
  /** For steps without a timeout of their own. */
  readonly defaultTimeoutMs: number;
  /** Names of the daemon's environment variables that commands may see. */
  readonly envAllow: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly prometheusUrl: string;
}

/** What one step body needs besides the rendered step. */
export interface BodyContext {
  readonly settings: StepSettings;
  readonly signal: AbortSignal;
  readonly dryRun: boolean;
  readonly runEnv: Record<string, string>;
  readonly isResolved: () => Promise<boolean>;
}

/** Executes the body of one step once (notify and approval are handled by the executor). */
export async function runStepBody(step: Step, rendered: RenderedStep, ctx: BodyContext): Promise<StepOutcome> {
  const { settings } = ctx;
  const stepCtx = (timeoutMs: number): StepContext => ({ signal: ctx.signal, timeoutMs, outputCapBytes: settings.outputCapBytes });
  switch (rendered.kind) {
    case 'run': {
      const argv = ctx.dryRun && rendered.dryRunArgv ? rendered.dryRunArgv : rendered.argv;
      return runCommand(
        argv,
        { env: childEnv(settings, ctx.runEnv, rendered.env), cwd: rendered.cwd, killGraceMs: settings.killGraceMs },
        stepCtx(step.timeoutMs ?? settings.defaultTimeoutMs),
      );
    }
    case 'http':
      return runHttpStep(rendered, rendered.expectStatus, stepCtx(step.timeoutMs ?? 30_000));
    case 'verify': {
      const c = rendered.check;
      const check: Check =
        c.kind === 'prometheus'
          ? prometheusCheck(c.url ?? settings.prometheusUrl, c.query, 5000, settings.outputCapBytes)
          : c.kind === 'http'
            ? httpCheck(
                { method: c.method, url: c.url, headers: c.headers, body: null },
                c,
                step.kind === 'verify' && step.check.kind === 'http' ? step.check.tryTimeoutMs : 2000,
                settings.outputCapBytes,
              )
            : async () =>
                (await ctx.isResolved()) ? { holds: true, measured: 'the alert resolved' } : { holds: false, measured: 'the alert is still firing' };
      if (step.timeoutMs === null) return pollUntil(check, { withinMs: rendered.withinMs, everyMs: rendered.everyMs }, stepCtx(rendered.withinMs));
      const deadline = withDeadline(ctx.signal, step.timeoutMs, () => new Error(`timed out after ${step.timeoutMs} ms`));
      try {
        const outcome = await pollUntil(
          check,
          { withinMs: rendered.withinMs, everyMs: rendered.everyMs },
          { signal: deadline.signal, timeoutMs: rendered.withinMs, outputCapBytes: settings.outputCapBytes },
        );
        // pollUntil calls any abort "cancelled"; when our deadline was the cause, say so.
        return !outcome.ok && deadline.signal.aborted && !ctx.signal.aborted ? { ...outcome, error: `timed out after ${step.timeoutMs} ms` } : outcome;
      } finally {
        deadline.clear();
      }
    }
    case 'wait':
      try {
        await sleep(rendered.durationMs, ctx.signal);
        return { ok: true, exitCode: null, output: `waited ${rendered.durationMs / 1000}s`, error: null, vars: {} };
      } catch {
        return { ok: false, exitCode: null, output: '', error: 'cancelled while waiting', vars: {} };
      }
    default:
      break;
  }
  return { ok: false, exitCode: null, output: '', error: `${rendered.kind} steps cannot be executed here`, vars: {} };
}

/** The allow-listed part of the daemon's environment, plus the run's and the step's own values. */
export function childEnv(settings: StepSettings, runEnv: Record<string, string>, stepEnv: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of settings.envAllow) {
    const value = settings.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...runEnv, ...stepEnv };
}
