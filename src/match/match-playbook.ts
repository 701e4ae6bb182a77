import { alertName, type Alert } from '../domain/alert.js';
import type { Playbook } from '../domain/playbook.js';

/** Whether a playbook applies to an alert, and if not, the first condition that failed. */
export type MatchOutcome = { matched: true } | { matched: false; reason: string };

/**
 * Whether a playbook applies to an alert, without building a reason: what the pipeline asks for
 * every candidate of every alert (matchPlaybook's reasons are for simulate, test and the record).
 */
export function playbookMatches(playbook: Playbook, alert: Alert): boolean {
  const names = playbook.match.alertnames;
  if (names !== null && !names.includes(alertName(alert))) return false;
  if (alert.status !== playbook.match.status) return false;
  for (const matcher of playbook.match.matchers) if (!matcher.matches(alert.labels)) return false;
  return true;
}

/** Checks one playbook against one alert: alertname, status, then each matcher in order. */
export function matchPlaybook(playbook: Playbook, alert: Alert): MatchOutcome {
  const names = playbook.match.alertnames;
  const name = alertName(alert);
  if (names !== null && !names.includes(name)) {
    return { matched: false, reason: `alertname is "${name}", playbook wants ${names.map((n) => `"${n}"`).join(' or ')}` };
  }
  if (alert.status !== playbook.match.status) {
    return {
      matched: false,
      reason:
        alert.status === 'resolved'
          ? 'alert is resolved, and the playbook acts on firing alerts (set match.status: resolved to act on resolution)'
          : 'alert is firing, and the playbook acts on resolved alerts',
    };
  }
  for (const matcher of playbook.match.matchers) {
    if (!matcher.matches(alert.labels)) {
      const actual = Object.hasOwn(alert.labels, matcher.name) ? alert.labels[matcher.name] : undefined;
      return { matched: false, reason: `matcher ${matcher.toString()} does not hold${actual === undefined ? '' : ` (value is ${JSON.stringify(actual)})`}` };
    }
  }
  return { matched: true };
}
