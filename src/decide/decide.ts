import type { Alert } from '../domain/alert.js';
import type { Decision, DecideSettings, GuardState } from '../domain/decision.js';
import { formatDuration } from '../domain/duration.js';
import type { Playbook } from '../domain/playbook.js';
import type { Prepared } from './prepare.js';

/** Everything decide reads; nothing else. */
export interface DecideInput {
  readonly alert: Alert;
  readonly playbook: Playbook;
  readonly prepared: Prepared;
  readonly state: GuardState;
  readonly now: Date;
  readonly settings: DecideSettings;
}

/**
 * Decides what to do with one matched (alert, playbook) pair. Pure: the clock and the stored state
 * are inputs, so every guard is a table-testable rule. The checks run from "this is the same
 * thing again" to "this is a new thing we are not allowed to do now".
 */
export function decide({ alert, playbook, prepared, state, now, settings }: DecideInput): Decision {
  if (alert.status === 'resolved' && playbook.match.status !== 'resolved') {
    return { action: 'suppress', reason: 'resolved', detail: 'the alert is resolved' };
  }
  if (state.instanceRun !== null) {
    return { action: 'suppress', reason: 'duplicate', detail: `run ${state.instanceRun.id} already exists for this alert instance` };
  }
  if (state.activeRun !== null) {
    return {
      action: 'suppress',
      reason: 'duplicate',
      detail: `run ${state.activeRun.id} for key "${prepared.targetKey}" is still ${state.activeRun.state}`,
    };
  }
  if (!prepared.params.ok) return { action: 'refuse', detail: prepared.params.reason };
  const cooldown = playbook.guards.cooldownMs;
  if (cooldown !== null && state.lastRunAt !== null) {
    const until = state.lastRunAt.getTime() + cooldown;
    if (now.getTime() < until) {
      return {
        action: 'suppress',
        reason: 'cooldown',
        detail: `key "${prepared.targetKey}" ran at ${state.lastRunAt.toISOString()}; cooldown ${formatDuration(cooldown)} lasts until ${new Date(until).toISOString()}`,
      };
    }
  }
  const maxRuns = playbook.guards.maxRuns;
  if (maxRuns !== null && state.recentRuns >= maxRuns.count) {
    return {
      action: 'suppress',
      reason: 'rate_limit',
      detail: `${state.recentRuns} run(s) in the last ${formatDuration(maxRuns.perMs)}, the limit is ${maxRuns.count}`,
    };
  }
  const dryRun = settings.execution === 'dry-run' || playbook.mode === 'dry-run';
  const why = settings.execution === 'dry-run' ? 'execution is dry-run' : playbook.mode === 'dry-run' ? 'playbook mode is dry-run' : `playbook mode is ${playbook.mode}`;
  return { action: 'run', dryRun, needsApproval: !dryRun && playbook.mode === 'approve', reason: why };
}
