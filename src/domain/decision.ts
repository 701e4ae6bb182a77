import type { LabelMatcher } from './playbook.js';

/** Why a matched playbook did not start a run. A small fixed set: it is a metric label. */
export type SuppressReason =
  'duplicate' | 'cooldown' | 'rate_limit' | 'paused' | 'maintenance' | 'resolved' | 'locked' | 'precondition' | 'escalated' | 'storm';

/**
 * The alerts Alertmanager holds as active (silenced and inhibited ones too), read outside decide for
 * a playbook's `unless.firing`; or why they could not be read.
 */
export type FiringAlerts =
  | { readonly known: true; readonly alerts: readonly { readonly fingerprint: string; readonly labels: Readonly<Record<string, string>> }[] }
  | { readonly known: false; readonly error: string };

/** Why a guard holds a live run for approval. A small fixed set: it is a metric label. */
export type HoldReason = 'group_cap' | 'storm';

/** Every suppress reason, in decide's order (metric labels, test-file expectations). */
export const SUPPRESS_REASONS: readonly SuppressReason[] = [
  'resolved',
  'escalated',
  'duplicate',
  'paused',
  'maintenance',
  'precondition',
  'locked',
  'cooldown',
  'rate_limit',
  'storm',
];

/** What the decide stage concluded for one (alert, playbook) pair. */
export type Decision =
  | {
      readonly action: 'run';
      readonly dryRun: boolean;
      /** Hold before the first step that changes something until a person approves. */
      readonly needsApproval: boolean;
      readonly reason: string;
      /** The global budget of live runs is spent: the caller opens the circuit (in the store). */
      readonly opensCircuit?: true;
      /** Why a guard holds this live run for approval (a metric label), when one does. */
      readonly held?: HoldReason;
    }
  | {
      readonly action: 'suppress';
      readonly reason: SuppressReason;
      readonly detail: string;
      /** `escalate.after` runs ended without fixing the target: the caller opens the escalation (in the store). */
      readonly opensEscalation?: true;
      /**
       * The alert instance was decided before and is delivered again (Alertmanager re-sends a
       * group every repeat_interval; an HA pair sends everything twice): the run that instance got.
       * Not a new decision: recorded for the audit, counted apart from suppressions.
       */
      readonly redeliveryOf?: string;
    }
  /** The alert's data failed a param check: a run is recorded as failed before any step. */
  | { readonly action: 'refuse'; readonly detail: string };

/** The stored facts decide reads, gathered by the caller for one playbook and key. */
export interface GuardState {
  /** A run of this playbook for this alert instance, if one exists. */
  readonly instanceRun: { readonly id: string; readonly state: string } | null;
  /** A run of this playbook for the target key that has not finished. */
  readonly activeRun: { readonly id: string; readonly state: string } | null;
  /** When the last run of this playbook for the target key was created. */
  readonly lastRunAt: Date | null;
  /** Runs of this playbook created within its maxRuns window. */
  readonly recentRuns: number;
  /** A run of any playbook that holds this alert's lock key and has not finished. */
  readonly lockedBy: { readonly id: string; readonly playbook: string; readonly state: string } | null;
  /** The pause a person set and nobody lifted; decide compares `until` with its clock. */
  readonly paused: PauseState | null;
  /** The circuit, while it is open. */
  readonly circuit: { readonly openedAt: Date; readonly reason: string } | null;
  /** Live runs of any playbook created within the budget window (and since the circuit last closed). */
  readonly liveRunsInWindow: number;
}

/** Nothing stored for a playbook and key: no run, no pause, no circuit, nothing spent. */
export const NOTHING_STORED: GuardState = {
  instanceRun: null,
  activeRun: null,
  lastRunAt: null,
  recentRuns: 0,
  lockedBy: null,
  paused: null,
  circuit: null,
  liveRunsInWindow: 0,
};

/** A pause set by a person: every would-be run is suppressed until `until`. */
export interface PauseState {
  readonly at: Date;
  readonly until: Date;
  readonly reason: string;
  readonly by: string;
}

/** A maintenance window, compiled from the configuration (src/decide/maintenance.ts). */
export interface MaintenanceWindow {
  readonly name: string;
  /** The cron expression as written, for messages. */
  readonly cron: string;
  readonly durationMs: number;
  readonly action: 'suppress' | 'dry-run';
  /** The window applies to alerts whose labels match all of these (none: every alert). */
  readonly matchers: readonly LabelMatcher[];
  /** The latest start time t with now - withinMs < t <= now, if any. */
  lastStart(now: Date, withinMs: number): Date | null;
}

/** A maintenance window in force for one alert. */
export interface ActiveWindow {
  readonly name: string;
  readonly cron: string;
  readonly action: 'suppress' | 'dry-run';
  readonly startedAt: Date;
  readonly endsAt: Date;
}

/** Daemon-wide settings decide reads. */
export interface DecideSettings {
  readonly execution: 'dry-run' | 'live';
  /** At most `count` live runs per `perMs`; the run that would exceed it opens the circuit. */
  readonly budget: { readonly count: number; readonly perMs: number } | null;
  readonly maintenance: readonly MaintenanceWindow[];
  /** guards.storm, read by the decide stage around decide (null or absent: no storm detection). */
  readonly storm?: StormRule | null;
}

/** A target handed to a person: automation stopped for it until someone clears it. */
export interface OpenEscalation {
  readonly id: string;
  readonly openedAt: Date;
  readonly reason: string;
}

/** A live run that ended without the alert going away (failed, interrupted, or succeeded and fired again). */
export interface UnfixedRun {
  readonly id: string;
  readonly state: string;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  readonly reason: string | null;
}

/** What decide reads for a playbook with `escalate`, for one target key. */
export interface EscalationState {
  /** The escalation of this playbook and key nobody has cleared yet. */
  readonly open: OpenEscalation | null;
  /** Live runs for the key within `escalate.within` (and since the last clearing) that did not fix it, oldest first. */
  readonly unfixed: readonly UnfixedRun[];
}

/** What decide reads for a playbook with guards.group, for one group key. */
export interface GroupState {
  readonly key: string;
  /** Live runs of the playbook for the group created within the window. */
  readonly liveRuns: number;
  /** Distinct target keys seen firing for the group within the window (this alert's included). */
  readonly targetsSeen: number;
}

/** guards.storm from the configuration, durations in milliseconds. */
export interface StormRule {
  /** A storm opens when more than this many distinct alert instances… */
  readonly alerts: number;
  /** …across at least this many distinct target keys… */
  readonly targets: number;
  /** …match live playbooks within this window. */
  readonly withinMs: number;
  /** It ends this long after its last new alert. */
  readonly cooldownMs: number;
  /** What happens to a live run while it lasts: held for approval, or suppressed. */
  readonly action: 'hold' | 'suppress';
}

/** The storm an alert is part of, as decide reads it (absent: no storm for this alert). */
export interface StormState {
  readonly id: string;
  readonly openedAt: Date;
  readonly alerts: number;
  readonly targets: number;
  readonly action: 'hold' | 'suppress';
}
