import type { Alert } from '../domain/alert.js';
import { describeAlert } from '../domain/alert.js';
import { RemediatorError } from '../domain/errors.js';
import { alertmanagerFingerprint } from '../domain/fingerprint.js';
import type { Playbook } from '../domain/playbook.js';
import { prepare } from '../decide/prepare.js';
import { dryRunAction, renderPlan, stepOf } from '../execute/plan.js';
import { describeRendered } from '../domain/describe-step.js';
import { PlaybookIndex } from '../match/playbook-index.js';
import { canonicalTimestamp } from '../receive/timestamp.js';
import { parseWebhookPayload } from '../receive/webhook-schema.js';

/** What simulate found for one alert and one playbook. */
export interface SimulatedMatch {
  readonly playbook: string;
  readonly matched: boolean;
  readonly reason?: string;
  readonly params?: Record<string, string>;
  readonly refused?: string;
  readonly targetKey?: string;
  readonly mode?: string;
  readonly plan?: SimulatedStep[];
}

/** One step of a simulated plan. */
export interface SimulatedStep {
  readonly step: string;
  readonly kind: string;
  readonly phase: string;
  readonly readOnly: boolean;
  /** The step as a live run would run (or send) it. */
  readonly command: string;
  /** What a dry run does with it, by its kind's dry-run policy: executes it, or only plans it. */
  readonly dryRun: 'execute' | 'plan';
  /** What a dry run executes (a read-only command, a dryRun variant, a marked notification); null when it only plans the step. */
  readonly dryRunCommand: string | null;
}

/** The simulation of one alert. */
export interface SimulatedAlert {
  readonly alert: string;
  readonly status: string;
  readonly results: SimulatedMatch[];
}

/**
 * Reads alerts from a webhook payload (as Alertmanager posts it), or from one alert or a list of
 * alerts ({labels, annotations} at least, as written for amtool or Alertmanager's API).
 */
export function alertsFromJson(json: unknown, now: Date): Alert[] {
  if (json !== null && typeof json === 'object' && !Array.isArray(json) && 'alerts' in json) {
    const parsed = parseWebhookPayload(json);
    if (!parsed.ok) throw new RemediatorError('bad_request', parsed.reason);
    return parsed.alerts;
  }
  const list = Array.isArray(json) ? json : [json];
  return list.map((item, i) => {
    const a = item as { labels?: unknown; annotations?: unknown; status?: unknown; startsAt?: unknown; fingerprint?: unknown; generatorURL?: unknown };
    if (typeof a?.labels !== 'object' || a.labels === null) {
      throw new RemediatorError('bad_request', `alert ${i + 1}: needs "labels": give a webhook payload, one alert, or a list of alerts`);
    }
    const labels = stringRecord(a.labels, `alert ${i + 1} labels`);
    const startsAt = typeof a.startsAt === 'string' ? canonicalTimestamp(a.startsAt) : now.toISOString();
    if (startsAt === undefined) throw new RemediatorError('bad_request', `alert ${i + 1}: startsAt is not an RFC 3339 timestamp`);
    return {
      status: a.status === 'resolved' ? 'resolved' : 'firing',
      labels,
      annotations: a.annotations === undefined ? {} : stringRecord(a.annotations, `alert ${i + 1} annotations`),
      startsAt,
      endsAt: null,
      generatorURL: typeof a.generatorURL === 'string' ? a.generatorURL : '',
      // Without one, the fingerprint Alertmanager would give these labels.
      fingerprint: typeof a.fingerprint === 'string' ? a.fingerprint : alertmanagerFingerprint(labels),
    };
  });
}

function stringRecord(value: unknown, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as object)) {
    if (typeof v !== 'string') throw new RemediatorError('bad_request', `${what}: ${k} must be a string`);
    out[k] = v;
  }
  return out;
}

/** Matches every alert against every playbook and renders the plans of those that match. */
export function simulate(alerts: readonly Alert[], playbooks: readonly Playbook[], execution: 'dry-run' | 'live'): SimulatedAlert[] {
  const index = new PlaybookIndex(playbooks);
  return alerts.map((alert) => ({
    alert: describeAlert(alert),
    status: alert.status,
    results: index.explain(alert).map(({ playbook, outcome }): SimulatedMatch => {
      if (!outcome.matched) return { playbook: playbook.name, matched: false, reason: outcome.reason };
      const prepared = prepare(alert, playbook);
      const dryRun = execution === 'dry-run' || playbook.mode === 'dry-run';
      const mode = dryRun ? 'dry-run' : playbook.mode;
      if (!prepared.params.ok) return { playbook: playbook.name, matched: true, mode, refused: prepared.params.reason, targetKey: prepared.targetKey };
      const plan = renderPlan(playbook, alert, prepared.params.values, { runId: 'r_SIMULATED', dryRun }).map((s): SimulatedStep => {
        const step = stepOf(playbook, s);
        const inDryRun = step === undefined ? { action: 'plan' as const } : dryRunAction(step, s.rendered, s.phase);
        return {
          step: s.name,
          kind: s.kind,
          phase: s.phase,
          readOnly: s.readOnly,
          command: describeRendered(s.rendered, false),
          dryRun: inDryRun.action,
          dryRunCommand: inDryRun.action === 'execute' ? inDryRun.command : null,
        };
      });
      return { playbook: playbook.name, matched: true, mode, params: prepared.params.values, targetKey: prepared.targetKey, plan };
    }),
  }));
}

/** Human-readable report of a simulation. */
export function formatSimulation(results: readonly SimulatedAlert[]): string {
  const lines: string[] = [];
  for (const a of results) {
    lines.push(`alert ${a.alert} (${a.status})`);
    const matched = a.results.filter((r) => r.matched);
    if (matched.length === 0) lines.push('  no playbook matches');
    for (const r of matched) {
      lines.push(`  MATCH ${r.playbook} (${r.mode})`);
      if (r.refused) {
        lines.push(`    refused before any step: ${r.refused}`);
        continue;
      }
      const params = Object.entries(r.params ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
      lines.push(`    params: ${params.length ? params.join(' ') : '(none)'}`);
      lines.push(`    key: ${r.targetKey}`);
      for (const [i, s] of (r.plan ?? []).entries()) {
        const tag = s.phase === 'onFailure' ? 'on failure' : `${s.kind}${s.readOnly ? ', read-only' : ''}`;
        lines.push(`    ${i + 1}. ${s.step} (${tag}): ${s.command}`);
        if (s.dryRunCommand === null) lines.push(`       in a dry run: ${s.kind === 'http' ? 'not sent' : 'not run'}, only planned`);
        else if (s.dryRunCommand !== s.command) lines.push(`       in a dry run: ${s.dryRunCommand}`);
      }
    }
    for (const r of a.results.filter((x) => !x.matched)) lines.push(`  no    ${r.playbook}: ${r.reason}`);
  }
  return `${lines.join('\n')}\n`;
}
