import type { Alert } from '../domain/alert.js';
import type { Run } from '../domain/run.js';
import { alertResolver } from '../decide/prepare.js';
import type { Resolve } from '../playbook/template.js';
import { jsonPath } from './steps/verify.js';
import type { StepVars } from './steps/step-outcome.js';
import type { StepStatus } from './step-condition.js';

/** What a step's templates can see while the run executes. */
export interface RuntimeValues {
  readonly run: Run;
  readonly mode: string;
  readonly steps: ReadonlyMap<string, { status: StepStatus; vars: StepVars }>;
  readonly secret: (name: string) => string | undefined;
  /** In a dry run, values of steps that were only planned stay as written instead of failing. */
  readonly dryRun: boolean;
}

/** The alert as stored on the run. */
export function alertOfRun(run: Run): Alert {
  return {
    status: 'firing',
    labels: run.labels,
    annotations: run.annotations,
    startsAt: run.startsAt,
    endsAt: null,
    generatorURL: '',
    fingerprint: run.fingerprint,
  };
}

/** {{ run.id }}, {{ run.playbook }}, {{ run.mode }}: the same when planning and when running. */
export function runField(name: string, run: { id: string; playbook: string; mode: string }): string | undefined {
  if (name === 'id') return run.id;
  if (name === 'playbook') return run.playbook;
  if (name === 'mode') return run.mode;
  return undefined;
}

/** Resolves every template name at execution time: earlier steps' values and secrets included. */
export function runtimeResolver(v: RuntimeValues): Resolve {
  const base = alertResolver(alertOfRun(v.run), v.run.params);
  return (path) => {
    const [root, name, field, ...rest] = path;
    if (root === 'secrets' && name !== undefined) return v.secret(name);
    if (root === 'run' && path.length === 2 && name !== undefined) return runField(name, { id: v.run.id, playbook: v.run.playbook, mode: v.mode });
    if (root === 'steps' && name !== undefined) {
      const step = v.steps.get(name);
      if (step === undefined || step.status === 'planned') return v.dryRun ? null : undefined;
      if (field === 'status') return step.status;
      // A skipped step has no output: an empty string would silently become an empty argument.
      if (step.status === 'skipped') return undefined;
      switch (field) {
        case 'stdout':
          return (step.vars.stdout ?? '').replace(/\n$/, '');
        case 'stderr':
          return (step.vars.stderr ?? '').replace(/\n$/, '');
        case 'exitCode':
          return step.vars.exitCode === undefined ? undefined : String(step.vars.exitCode);
        case 'json': {
          const value = rest.length === 0 ? step.vars.json : jsonPath(step.vars.json, rest.join('.'));
          if (value === undefined) return undefined;
          return typeof value === 'string' ? value : JSON.stringify(value);
        }
        default:
          return undefined;
      }
    }
    return base(path);
  };
}
