import type { StepKind, StepSettings } from './step-kind.js';
import { STEP_TOKEN_VARIABLE } from '../process-tree.js';
import { runCommand } from './run-command.js';

/**
 * `run`: a program and its arguments, never a shell. In a dry run only a read-only command or the
 * step's `dryRun` variant executes (e.g. with --dry-run=server); otherwise it is planned.
 */
export const runStep: StepKind<'run'> = {
  kind: 'run',
  render: (step, t) => ({
    kind: 'run',
    argv: step.argv.map((a) => t.text(a)),
    dryRunArgv: step.dryRunArgv === null ? null : step.dryRunArgv.map((a) => t.text(a)),
    env: t.record(step.env),
    cwd: step.cwd === null ? null : t.text(step.cwd),
  }),
  changesSomething: () => true,
  inDryRun: (step, rendered) => (step.readOnly || rendered.dryRunArgv !== null ? 'execute' : 'plan'),
  execute: (step, rendered, ctx) => {
    const argv = ctx.dryRun && rendered.dryRunArgv ? rendered.dryRunArgv : rendered.argv;
    return runCommand(
      argv,
      {
        env: childEnv(ctx.settings, ctx.runEnv, rendered.env),
        cwd: rendered.cwd,
        killGraceMs: ctx.settings.killGraceMs,
        ...(ctx.runEnv[STEP_TOKEN_VARIABLE] ? { token: ctx.runEnv[STEP_TOKEN_VARIABLE] } : {}),
        cgroups: ctx.settings.cgroups ?? null,
        ...(ctx.onSpawn ? { onSpawn: (p) => ctx.onSpawn?.(p) } : {}),
      },
      { signal: ctx.signal, timeoutMs: step.timeoutMs ?? ctx.settings.defaultTimeoutMs, outputCapBytes: ctx.settings.outputCapBytes, redactor: ctx.redactor },
    );
  },
};

/** The allow-listed part of the daemon's environment, plus the run's and the step's own values. */
export function childEnv(settings: StepSettings, runEnv: Readonly<Record<string, string>>, stepEnv: Readonly<Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of settings.envAllow) {
    const value = settings.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...runEnv, ...stepEnv };
}
