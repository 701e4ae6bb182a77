import { ownValue as own, type Alert } from '../domain/alert.js';
import type { ParamSpec, Playbook } from '../domain/playbook.js';
import { compileTemplate, renderTemplate } from '../playbook/template.js';
import { alertResolver } from '../playbook/template-scope.js';

/**
 * Turns an alert into a playbook's inputs: the params (each checked against its pattern or range)
 * and the keys that identify the run and what it locks. Pure.
 */

/** The inputs of a would-be run. */
export interface Prepared {
  readonly instanceKey: string;
  readonly targetKey: string;
  /** guards.lock rendered; null when the playbook takes no lock or the params were refused. */
  readonly lockKey: string | null;
  /** The params, or why the alert's data was refused. */
  readonly params: { ok: true; values: Record<string, string> } | { ok: false; reason: string };
}

/** "fingerprint@startsAt": one alert instance. */
export function instanceKeyOf(alert: Alert): string {
  return `${alert.fingerprint}@${alert.startsAt}`;
}

/** Extracts and checks params, then renders the target key. */
export function prepare(alert: Alert, playbook: Playbook): Prepared {
  const instanceKey = instanceKeyOf(alert);
  const values: Record<string, string> = {};
  const problems: string[] = [];
  for (const spec of playbook.params) {
    const result = paramValue(spec, alert);
    if (result.ok) values[spec.name] = result.value;
    else problems.push(result.reason);
  }
  if (problems.length > 0) {
    return { instanceKey, targetKey: instanceKey, lockKey: null, params: { ok: false, reason: problems.join('; ') } };
  }
  const resolve = alertResolver(alert, values);
  const targetKey = playbook.guards.key === null ? instanceKey : renderTemplate(compileTemplate(playbook.guards.key), resolve).text;
  const lockKey = playbook.guards.lock === null ? null : renderTemplate(compileTemplate(playbook.guards.lock), resolve).text;
  return { instanceKey, targetKey, lockKey, params: { ok: true, values } };
}

const SHOWN_MAX = 120;

function shown(value: string): string {
  const cut = value.length > SHOWN_MAX ? `${value.slice(0, SHOWN_MAX)}…` : value;
  return JSON.stringify(cut);
}

function paramValue(spec: ParamSpec, alert: Alert): { ok: true; value: string } | { ok: false; reason: string } {
  const from = `${spec.source === 'labels' ? 'label' : 'annotation'} ${spec.key}`;
  const raw = own(spec.source === 'labels' ? alert.labels : alert.annotations, spec.key);
  const value = raw === undefined || raw === '' ? spec.default : raw;
  if (value === null || value === undefined) {
    return { ok: false, reason: `param ${spec.name}: the alert has no ${from} and the param has no default` };
  }
  if (spec.type === 'integer') {
    if (!/^-?\d{1,15}$/.test(value)) return { ok: false, reason: `param ${spec.name}: ${from} is ${shown(value)}, not an integer` };
    let n = Number(value);
    if (spec.min !== null && n < spec.min) {
      if (!spec.clamp) return { ok: false, reason: `param ${spec.name}: ${from} is ${n}, below the minimum ${spec.min}` };
      n = spec.min;
    }
    if (spec.max !== null && n > spec.max) {
      if (!spec.clamp) return { ok: false, reason: `param ${spec.name}: ${from} is ${n}, above the maximum ${spec.max}` };
      n = spec.max;
    }
    if (spec.pattern && !spec.pattern.test(String(n))) {
      return { ok: false, reason: `param ${spec.name}: ${from} is ${n}, which does not match ${spec.pattern.source}` };
    }
    return { ok: true, value: String(n) };
  }
  if (spec.pattern && !spec.pattern.test(value)) {
    return { ok: false, reason: `param ${spec.name}: ${from} is ${shown(value)}, which does not match ${spec.pattern.source}` };
  }
  return { ok: true, value };
}
