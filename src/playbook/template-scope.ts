import { ownValue as own, type Alert } from '../domain/alert.js';
import { jsonPath } from '../domain/json-path.js';
import type { StepStatus, StepVars } from '../domain/step-outcome.js';
import type { Resolve } from './template.js';

/**
 * Which names a template may see, and what they resolve to: the one place that decides it, for
 * validate (checkRef), for deciding (the guard keys), for planning (the plan stored with a run)
 * and for running (each step as it executes).
 *
 * - params.NAME: the playbook's params, checked against their patterns.
 * - labels.NAME, annotations.NAME, alert.name, alert.generatorURL: unchecked alert text, refused
 *   where it would reach a command or request (scope "action"); a missing label is "".
 * - alert.fingerprint, alert.startsAt, alert.status: checked on receipt, allowed everywhere.
 * - run.id, run.playbook, run.mode: the run being planned or executed; not in guard keys.
 * - steps.NAME.stdout|stderr|exitCode|status|json.PATH: an earlier step's outcome, known while
 *   running; planning keeps them as written.
 * - secrets.NAME: only in commands and requests, only while running, never in anything stored.
 */

/** Where a template stands: a command or request, a text for people, or a guard key. */
export type Scope = 'action' | 'message' | 'key';

const ALERT_FIELDS = new Set(['fingerprint', 'startsAt', 'status', 'generatorURL', 'name']);
const CHECKED_ALERT_FIELDS = new Set(['fingerprint', 'startsAt', 'status']);
const RUN_FIELDS = new Set(['id', 'playbook', 'mode']);
const STEP_FIELDS = new Set(['stdout', 'stderr', 'exitCode', 'status', 'json']);

/** Why a reference may not stand in a scope (validate's message), or undefined when it may. */
export function checkRef(ref: readonly string[], scope: Scope, params: ReadonlySet<string>, earlierSteps: ReadonlySet<string>): string | undefined {
  const [root, name, field] = ref;
  const shown = `{{ ${ref.join('.')} }}`;
  switch (root) {
    case 'params':
      if (ref.length !== 2) return `${shown}: write {{ params.NAME }}`;
      if (!params.has(name as string)) {
        return `${shown} names an unknown param: declare it under params (known: ${[...params].join(', ') || 'none'})`;
      }
      return undefined;
    case 'labels':
    case 'annotations':
      if (ref.length !== 2) return `${shown}: write {{ ${root}.NAME }}`;
      if (scope === 'action') {
        return `${shown} cannot be used here: alert data reaches commands and requests only through params, which check it against a pattern; declare params: { ${name}: { from: ${root}.${name}, pattern: '...' } } and write {{ params.${name} }}`;
      }
      return undefined;
    case 'alert':
      if (ref.length !== 2 || !ALERT_FIELDS.has(name as string)) return `${shown}: known alert fields are ${[...ALERT_FIELDS].join(', ')}`;
      // name and generatorURL are free text from the alert, like labels; the others are checked on receipt.
      if (scope === 'action' && !CHECKED_ALERT_FIELDS.has(name as string)) {
        return `${shown} cannot be used here: it is unchecked alert text; declare a param with a pattern (e.g. from: labels.alertname) and use that`;
      }
      return undefined;
    case 'run':
      if (scope === 'key') return `${shown} cannot be used in a guard key: a run id is new every time, so the key would never repeat`;
      if (ref.length !== 2 || !RUN_FIELDS.has(name as string)) return `${shown}: known run fields are ${[...RUN_FIELDS].join(', ')}`;
      return undefined;
    case 'steps':
      if (scope === 'key') return `${shown} cannot be used in a guard key: the key is decided before any step runs`;
      if (ref.length < 3 || !STEP_FIELDS.has(field as string) || (field !== 'json' && ref.length !== 3)) {
        return `${shown}: write {{ steps.NAME.stdout }}, .stderr, .exitCode, .status or .json.FIELD`;
      }
      if (!earlierSteps.has(name as string)) return `${shown} refers to step "${name}", which does not run before this one`;
      return undefined;
    case 'secrets':
      if (scope !== 'action') return `${shown}: secrets may only be used in commands and requests, never in messages or keys`;
      if (ref.length !== 2) return `${shown}: write {{ secrets.NAME }}`;
      return undefined;
    default:
      return `${shown} is not a known name: templates can use params, labels, annotations, alert, run, steps and secrets`;
  }
}

/** How an earlier step ended, and what it left for {{ steps.NAME.* }}. */
export interface StepResult {
  readonly status: StepStatus;
  readonly vars: StepVars;
}

/**
 * What templates read. Deciding knows the alert and params; planning adds the run; running adds
 * earlier steps and secrets. "later" marks values that exist only while running: their references
 * stay as written (the step is marked deferred) instead of failing.
 */
export interface TemplateValues {
  readonly alert: Alert;
  readonly params: Readonly<Record<string, string>>;
  readonly run?: { readonly id: string; readonly playbook: string; readonly mode: string };
  readonly steps?: ReadonlyMap<string, StepResult> | 'later';
  readonly secret?: ((name: string) => string | undefined) | 'later';
  /** In a dry run, references to steps that were only planned stay as written instead of failing. */
  readonly dryRun?: boolean;
}

/** Resolves every name a template may use, from the values at hand. */
export function scopeResolver(v: TemplateValues): Resolve {
  return (path) => {
    const [root, name, field, ...rest] = path;
    switch (root) {
      case 'params':
        return path.length === 2 && name !== undefined ? v.params[name] : undefined;
      // A missing label renders empty, as in Alertmanager's own templates.
      case 'labels':
        return path.length === 2 && name !== undefined ? (own(v.alert.labels, name) ?? '') : undefined;
      case 'annotations':
        return path.length === 2 && name !== undefined ? (own(v.alert.annotations, name) ?? '') : undefined;
      case 'alert':
        return path.length === 2 && name !== undefined ? alertField(v.alert, name) : undefined;
      case 'run':
        return path.length === 2 && name !== undefined && v.run !== undefined ? runField(name, v.run) : undefined;
      case 'secrets':
        if (v.secret === 'later') return null;
        return name !== undefined && v.secret !== undefined ? v.secret(name) : undefined;
      case 'steps':
        if (v.steps === 'later') return null;
        return name !== undefined && v.steps !== undefined ? stepField(v.steps.get(name), field, rest, v.dryRun === true) : undefined;
      default:
        return undefined;
    }
  };
}

/** The names an alert-derived template (a guard key, the params' use) may see: no run, no steps. */
export function alertResolver(alert: Alert, params: Readonly<Record<string, string>>): Resolve {
  return scopeResolver({ alert, params });
}

function alertField(alert: Alert, name: string): string | undefined {
  switch (name) {
    case 'fingerprint':
      return alert.fingerprint;
    case 'startsAt':
      return alert.startsAt;
    case 'status':
      return alert.status;
    case 'generatorURL':
      return alert.generatorURL;
    case 'name':
      return alert.labels['alertname'] ?? '';
    default:
      return undefined;
  }
}

function runField(name: string, run: { id: string; playbook: string; mode: string }): string | undefined {
  if (name === 'id') return run.id;
  if (name === 'playbook') return run.playbook;
  if (name === 'mode') return run.mode;
  return undefined;
}

function stepField(step: StepResult | undefined, field: string | undefined, rest: readonly string[], dryRun: boolean): string | null | undefined {
  if (step === undefined || step.status === 'planned') return dryRun ? null : undefined;
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
