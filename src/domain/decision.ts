/** Why a matched playbook did not start a run. A small fixed set: it is a metric label. */
export type SuppressReason = 'duplicate' | 'cooldown' | 'rate_limit' | 'circuit_open' | 'paused' | 'maintenance' | 'resolved';

/** What the decide stage concluded for one (alert, playbook) pair. */
export type Decision =
  | { readonly action: 'run'; readonly dryRun: boolean; readonly needsApproval: boolean; readonly reason: string }
  | { readonly action: 'suppress'; readonly reason: SuppressReason; readonly detail: string }
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
}

/** Daemon-wide settings decide reads. */
export interface DecideSettings {
  readonly execution: 'dry-run' | 'live';
}
