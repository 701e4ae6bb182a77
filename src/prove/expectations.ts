import { isDeepStrictEqual } from 'node:util';
import type { Alert } from '../domain/alert.js';
import type { Playbook } from '../domain/playbook.js';
import type { RunDetail } from '../domain/run.js';
import { matchPlaybook } from '../match/match-playbook.js';
import type { Decided } from '../domain/decided.js';
import { checkPlan, withoutRunId } from './plan-check.js';
import type { Expectation } from './test-file.js';

/** What one alert came to for one playbook: its decision and run, or why the playbook did not match. */
export interface Observed {
  readonly decision: Decided | null;
  readonly run: RunDetail | null;
  /** When there is no decision: the first condition of the playbook that failed (asked of the matcher only then). */
  readonly notMatched: string | null;
}

/** What one alert and playbook came to, from the decisions of the alert's delivery. */
export function observe(alert: Alert, playbook: Playbook, decisions: readonly Decided[], runs: ReadonlyMap<string, RunDetail>): Observed {
  const decision = decisions.find((d) => d.playbook === playbook.name && d.fingerprint === alert.fingerprint && d.startsAt === alert.startsAt) ?? null;
  if (decision !== null) return { decision, run: decision.runId === null ? null : (runs.get(decision.runId) ?? null), notMatched: null };
  // A reason only where a test asks about a playbook that decided nothing: the pipeline does not build them.
  const outcome = matchPlaybook(playbook, alert);
  return { decision: null, run: null, notMatched: outcome.matched ? 'it matched, but no decision was recorded' : outcome.reason };
}

/** A decision in a line: "suppress (cooldown): key … ran at …" or "approve: playbook mode is approve". */
export function describeDecision(d: Decided): string {
  return `${d.kind}${d.reason === null ? '' : ` (${d.reason})`}${d.detail ? `: ${d.detail}` : ''}`;
}

/** What differs from the expectation, one line (or a plan diff) each; none when it holds. */
export function checkExpectation(e: Expectation, o: Observed): string[] {
  const d = o.decision;
  if (e.matched === false) {
    if (d !== null) return [`expected no match, got ${describeDecision(d)}`];
    if (e.because !== undefined && !(o.notMatched ?? '').includes(e.because))
      return [`expected no match because of "${e.because}", got no match because ${o.notMatched}`];
    return [];
  }
  if (d === null) {
    const wanted = e.decision ?? (e.reason !== undefined ? 'suppress' : 'a match');
    return [`expected ${wanted}${e.reason ? ` (${e.reason})` : ''}, got no match: ${o.notMatched}`];
  }
  const out: string[] = [];
  const decision = e.decision ?? (e.reason !== undefined ? 'suppress' : undefined);
  if ((decision !== undefined && d.kind !== decision) || (e.reason !== undefined && d.reason !== e.reason)) {
    out.push(`expected ${decision}${e.reason ? ` (${e.reason})` : ''}, got ${describeDecision(d)}`);
  }
  if (e.detail !== undefined && !d.detail.includes(e.detail)) out.push(`expected the decision to say "${e.detail}", it says: ${d.detail}`);
  if (e.params !== undefined) {
    const got = o.run?.params ?? null;
    if (got === null) out.push(`expected params ${JSON.stringify(e.params)}, got no run (${describeDecision(d)})`);
    else if (!isDeepStrictEqual({ ...got }, { ...e.params })) out.push(`expected params ${JSON.stringify(e.params)}, got ${JSON.stringify(got)}`);
  }
  for (const [phase, expected] of [
    ['main', e.plan],
    ['onFailure', e.onFailure],
  ] as const) {
    if (expected === undefined) continue;
    if (o.run === null) {
      out.push(`expected a ${phase === 'main' ? 'plan' : 'onFailure plan'}, got no run (${describeDecision(d)})`);
      continue;
    }
    const steps = withoutRunId(o.run.steps, o.run.id).filter((s) => s.phase === phase);
    out.push(...checkPlan(expected, steps, phase === 'main' ? 'plan' : 'onFailure plan'));
  }
  return out;
}
