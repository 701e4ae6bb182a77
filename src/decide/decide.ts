import type { Alert } from '../domain/alert.js';
import type { Decision, DecideSettings, EscalationState, FiringAlerts, GroupState, GuardState, StormState } from '../domain/decision.js';
import { formatDuration } from '../domain/duration.js';
import type { Playbook } from '../domain/playbook.js';
import { activeWindow } from './maintenance.js';
import type { Prepared } from './prepare.js';

/** Everything decide reads; nothing else. */
export interface DecideInput {
  readonly alert: Alert;
  readonly playbook: Playbook;
  readonly prepared: Prepared;
  readonly state: GuardState;
  readonly now: Date;
  readonly settings: DecideSettings;
  /** Alertmanager's active alerts, for a playbook with `unless` (absent: not looked up). */
  readonly firing?: FiringAlerts;
  /** Read only for a playbook with `escalate` (absent: no escalation check). */
  readonly escalation?: EscalationState;
  /** Read only for a playbook with guards.group whose params passed (absent: no group cap). */
  readonly group?: GroupState;
  /** The storm this alert is part of (guards.storm), read once per decision slice (absent: none). */
  readonly storm?: StormState;
}

/**
 * Decides what to do with one matched (alert, playbook) pair. Pure: the clock and the stored state
 * are inputs, so every guard is a table-testable rule. The checks run from "this is the same
 * thing again" (resolved, duplicate, active run), through "this alert's data is unusable"
 * (refuse), to "a person or the configuration said not now" (pause, maintenance, circuit), to
 * "this would be too much" (lock, cooldown, maxRuns, budget).
 */
export function decide({ alert, playbook, prepared, state, now, settings, firing, escalation, group, storm }: DecideInput): Decision {
  if (alert.status === 'resolved' && playbook.match.status !== 'resolved') {
    return { action: 'suppress', reason: 'resolved', detail: 'the alert is resolved' };
  }
  const escalated = escalationCheck(playbook, prepared.targetKey, escalation);
  if (escalated !== null) return escalated;
  if (state.instanceRun !== null) {
    return {
      action: 'suppress',
      reason: 'duplicate',
      detail: `run ${state.instanceRun.id} already exists for this alert instance`,
      redeliveryOf: state.instanceRun.id,
    };
  }
  if (state.activeRun !== null) {
    return {
      action: 'suppress',
      reason: 'duplicate',
      detail: `run ${state.activeRun.id} for key "${prepared.targetKey}" is still ${state.activeRun.state}`,
    };
  }
  if (!prepared.params.ok) return { action: 'refuse', detail: prepared.params.reason };
  const paused = state.paused;
  if (paused !== null && now.getTime() < paused.until.getTime()) {
    return {
      action: 'suppress',
      reason: 'paused',
      detail: `paused by ${paused.by} at ${paused.at.toISOString()} until ${paused.until.toISOString()}: ${paused.reason}`,
    };
  }
  const window = activeWindow(settings.maintenance, now, alert.labels);
  if (window !== null && window.action === 'suppress') {
    return {
      action: 'suppress',
      reason: 'maintenance',
      detail: `maintenance window "${window.name}" (${window.cron}) from ${window.startedAt.toISOString()} until ${window.endsAt.toISOString()}`,
    };
  }
  const precondition = checkPrecondition(alert, playbook, firing);
  if (precondition?.blocked) return { action: 'suppress', reason: 'precondition', detail: precondition.detail };
  if (prepared.lockKey !== null && state.lockedBy !== null) {
    const holder = state.lockedBy;
    return {
      action: 'suppress',
      reason: 'locked',
      detail: `lock "${prepared.lockKey}" is held by run ${holder.id} of ${holder.playbook}, still ${holder.state}`,
    };
  }
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
  const why =
    settings.execution === 'dry-run'
      ? 'execution is dry-run'
      : playbook.mode === 'dry-run'
        ? 'playbook mode is dry-run'
        : window !== null
          ? `maintenance window "${window.name}" (${window.cron}) forces dry-run until ${window.endsAt.toISOString()}`
          : null;
  if (why !== null) return { action: 'run', dryRun: true, needsApproval: false, reason: withNote(why, precondition) };
  // In a storm the likely fix is the shared cause, not forty rollbacks: live runs wait for a
  // person (or are suppressed); dry runs above go on, they are the evidence.
  if (storm !== undefined) return stormDecision(storm);
  if (precondition?.hold) {
    return { action: 'run', dryRun: false, needsApproval: true, reason: `${precondition.detail}: a person must approve this run` };
  }
  // An open circuit means automation has done too much lately: a live run may still help, but
  // only once a person has looked at it (DESIGN: "further runs need approval").
  if (state.circuit !== null) {
    return {
      action: 'run',
      dryRun: false,
      needsApproval: true,
      reason: `the circuit is open since ${state.circuit.openedAt.toISOString()} (${state.circuit.reason}): a person must approve this run`,
    };
  }
  // Dry runs act on nothing, so only live runs spend the budget; the run that would exceed it
  // opens the circuit and is itself held for approval.
  const budget = settings.budget;
  if (budget !== null && state.liveRunsInWindow >= budget.count) {
    return {
      action: 'run',
      dryRun: false,
      needsApproval: true,
      reason: `budget of ${budget.count} live run(s) per ${formatDuration(budget.perMs)} spent: circuit opened, a person must approve this run`,
      opensCircuit: true,
    };
  }
  const capped = groupCap(playbook, group);
  if (capped !== null) return capped;
  return { action: 'run', dryRun: false, needsApproval: playbook.mode === 'approve', reason: withNote(`playbook mode is ${playbook.mode}`, precondition) };
}

function stormDecision(storm: StormState): Decision {
  const what = `storm ${storm.id} since ${storm.openedAt.toISOString()} (${storm.alerts} alert(s) across ${storm.targets} target(s))`;
  if (storm.action === 'suppress') {
    return { action: 'suppress', reason: 'storm', detail: `${what}: guards.storm.action is suppress` };
  }
  return {
    action: 'run',
    dryRun: false,
    needsApproval: true,
    held: 'storm',
    reason: `${what}: a person must approve this run, or the storm's runs together (remediator storms approve ${storm.id})`,
  };
}

/** What `unless.firing` says: blocked by an alert, unknown (hold or proceed), or null when it holds (or there is none). */
function checkPrecondition(
  alert: Alert,
  playbook: Playbook,
  firing: FiringAlerts | undefined,
): { blocked: true; detail: string } | { blocked: false; hold: boolean; detail: string } | null {
  const unless = playbook.unless;
  if (!unless) return null;
  if (firing === undefined || !firing.known) {
    const error = firing === undefined ? 'not looked up' : firing.error;
    return unless.onUnknown === 'hold'
      ? { blocked: false, hold: true, detail: `unless.firing could not be checked (${error}); onUnknown: hold` }
      : { blocked: false, hold: false, detail: `unless.firing could not be checked (${error}); onUnknown: proceed` };
  }
  for (const other of firing.alerts) {
    if (other.fingerprint === alert.fingerprint) continue;
    const i = unless.firing.findIndex((set) => set.every((m) => m.matches(other.labels)));
    if (i >= 0) {
      const name = other.labels['alertname'] ?? '?';
      return { blocked: true, detail: `alert ${name} (${other.fingerprint}) is firing and matches unless.firing ${unless.sources[i] ?? ''}` };
    }
  }
  return null;
}

function withNote(reason: string, precondition: { detail: string } | null): string {
  return precondition === null ? reason : `${reason}; ${precondition.detail}`;
}

/** The group's cap on live runs: a count, or a percentage of the targets seen firing (at least one). */
export function groupLimit(max: { count: number } | { percent: number }, targetsSeen: number): number {
  return 'count' in max ? max.count : Math.max(1, Math.floor((max.percent * targetsSeen) / 100));
}

/** Beyond guards.group's cap a live run waits for a person: held, not dropped. */
function groupCap(playbook: Playbook, group: GroupState | undefined): Decision | null {
  const rule = playbook.guards.group;
  if (rule === null || group === undefined) return null;
  const limit = groupLimit(rule.max, group.targetsSeen);
  if (group.liveRuns < limit) return null;
  const of = 'percent' in rule.max ? ` (${rule.max.percent}% of ${group.targetsSeen} target(s) seen firing)` : '';
  return {
    action: 'run',
    dryRun: false,
    needsApproval: true,
    held: 'group_cap',
    reason: `group "${group.key}" had ${group.liveRuns} live run(s) in the last ${formatDuration(rule.perMs)}; guards.group allows ${limit}${of}: a person must approve this run`,
  };
}

/**
 * Escalation comes before the duplicate checks: once automation has failed a target `after` times,
 * even Alertmanager re-sending the alert that failed last is the moment to hand it to a person.
 */
function escalationCheck(playbook: Playbook, targetKey: string, escalation: EscalationState | undefined): Decision | null {
  const rule = playbook.escalate;
  if (rule === null || escalation === undefined) return null;
  if (escalation.open !== null) {
    const e = escalation.open;
    return {
      action: 'suppress',
      reason: 'escalated',
      detail: `key "${targetKey}" was escalated at ${e.openedAt.toISOString()} (${e.reason}): automation stays off until a person clears escalation ${e.id}`,
    };
  }
  if (escalation.unfixed.length < rule.after) return null;
  const runs = escalation.unfixed.map((r) => `${r.id} ${r.state}`).join(', ');
  return {
    action: 'suppress',
    reason: 'escalated',
    detail: `${escalation.unfixed.length} live run(s) for key "${targetKey}" in the last ${formatDuration(rule.withinMs)} did not fix it (${runs}); escalate.after is ${rule.after}: handed to a person`,
    opensEscalation: true,
  };
}
