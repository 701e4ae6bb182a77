import type { UnfixedRun } from './decision.js';
import type { AlertStatus } from './alert.js';
import type { Approval, Identity, Verdict } from './approval.js';
import type { NewEvent, RenderedStep, Run, RunState, RunStep, StepState } from './run.js';

/** The records the store takes and gives (src/domain/store.ts has the interfaces). */

/** What one call of prune removed. */
export interface PruneResult {
  readonly events: number;
  readonly runs: number;
  readonly batches: number;
  /** The audit chain's new base: the last event removed, or null when none was. */
  readonly cut: { readonly id: number; readonly hash: string } | null;
  /** More is due: call again. */
  readonly more: boolean;
}

/** A webhook delivery to store. */
export interface NewBatch {
  readonly receivedAt: Date;
  readonly receiver: string;
  readonly status: AlertStatus;
  readonly groupKey: string;
  readonly alertCount: number;
  /** The parsed body, stored as received (re-validated when processed). */
  readonly payload: unknown;
  /** Facts about the request (remote address, user agent); never credentials. */
  readonly source: Record<string, string>;
}

/** A stored delivery, as received: it is validated again when processed. */
export interface StoredBatch {
  readonly id: string;
  readonly receivedAt: Date;
  readonly payload: unknown;
}

/** A run to create (without `lockKey`: the playbook takes no lock). */
export type NewRun = Omit<Run, 'updatedAt' | 'finishedAt' | 'resolvedAt' | 'lockKey' | 'needsApproval' | 'generatorUrl' | 'owner' | 'leaseUntil'> & {
  readonly lockKey?: string | null;
  readonly needsApproval?: boolean;
  readonly generatorUrl?: string | null;
};

/** What guardState reads for one decision. */
export interface GuardQuery {
  readonly playbook: string;
  readonly instanceKey: string;
  readonly targetKey: string;
  readonly since: Date | null;
  /** The alert's lock key; absent or null: the playbook takes no lock. */
  readonly lockKey?: string | null;
  /** Start of the global budget window; absent or null: no budget, liveRunsInWindow is 0. */
  readonly budgetSince?: Date | null;
}

/** The stored pause: the last one set, lifted or not. */
export interface PauseRecord {
  readonly pausedAt: string;
  readonly until: string;
  readonly reason: string;
  readonly by: string;
  readonly resumedAt: string | null;
  readonly resumedBy: string | null;
}

/** The stored circuit: the last opening, closed or not. */
export interface CircuitRecord {
  readonly openedAt: string;
  readonly reason: string;
  readonly openedBy: string;
  readonly closedAt: string | null;
  readonly closedBy: string | null;
  readonly closeNote: string | null;
}

/** A target handed to a person (a playbook's `escalate`), open until someone clears it. */
export interface EscalationRecord {
  readonly id: string;
  readonly playbook: string;
  readonly targetKey: string;
  readonly openedAt: string;
  readonly reason: string;
  /** The runs that did not fix it, oldest first: what the person is shown. */
  readonly runs: readonly UnfixedRun[];
  readonly clearedAt: string | null;
  readonly clearedBy: string | null;
  readonly clearNote: string | null;
}

/** A storm (guards.storm): many alerts across many targets at once, seen as one event. */
export interface StormRecord {
  readonly id: string;
  readonly openedAt: string;
  /** When its last new alert instance was seen; it ends guards.storm.cooldown after this. */
  readonly lastAlertAt: string;
  readonly endedAt: string | null;
  /** Distinct alert instances and target keys in it, the trigger window's included. */
  readonly alerts: number;
  readonly targets: number;
  readonly playbooks: readonly string[];
  /** The labels all its alerts share (the likely shared cause: the same cluster, component or rule). */
  readonly commonLabels: Readonly<Record<string, string>>;
  /** Its alerts' generatorURLs, when they all share one (the same rule). */
  readonly generatorUrl: string | null;
  /** Where its one Slack message was posted, once it was. */
  readonly message: MessageRef | null;
}

/** An alert instance first seen matching a live playbook (guards.storm counts them). */
export interface StormSeen {
  readonly instanceKey: string;
  readonly targetKey: string;
  readonly playbook: string;
  readonly alertname: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly generatorUrl: string | null;
  readonly at: string;
}

/** The daemon-wide guard rows. */
export interface GlobalState {
  readonly pause: PauseRecord | null;
  readonly circuit: CircuitRecord | null;
  readonly liveRunsInWindow: number;
}

/** A state change of a run. */
export interface RunTransition {
  readonly from: readonly RunState[];
  readonly to: RunState;
  readonly reason?: string;
  readonly at: string;
  readonly steps?: readonly StepChange[];
  readonly events?: readonly NewEvent[];
  /** Sync to disk before returning: the caller is about to act on the world. */
  readonly durable?: boolean;
  /** Who executes the run from now on, and until when without a heartbeat (moving to `running`). */
  readonly lease?: Lease;
}

/** A held run put back to `pending` under a changed playbook (see RunStore.reproposeRun). */
export interface Repropose {
  readonly at: string;
  /** The version the run was proposed under; nothing is written when the run has another. */
  readonly fromHash: string;
  readonly playbookHash: string;
  /** The plan rendered under the new version. */
  readonly steps: readonly RunStep[];
  /** The run's reason from now on (the approval request shows it). */
  readonly reason: string;
  /** Who ended the old request (the reload), and why, as the record says. */
  readonly by: Identity;
  readonly why: string;
  /** Recorded with the change: what differs between the two plans. */
  readonly changes: Readonly<Record<string, unknown>>;
}

/** A replica's claim on executing a run: renewed while it runs, expired when the replica dies. */
export interface Lease {
  readonly owner: string;
  readonly until: string;
}

/** A change to one stored step. */
export interface StepChange {
  readonly phase: 'main' | 'onFailure';
  readonly index: number;
  readonly state: StepState;
  /** The step as actually run (later steps' values and secrets resolved, secrets redacted). */
  readonly rendered?: RenderedStep;
  readonly startedAt?: string | null;
  readonly finishedAt?: string | null;
  readonly exitCode?: number | null;
  readonly output?: string | null;
  readonly error?: string | null;
  /** What {{ steps.NAME.* }} reads from this step (redacted), kept for a resumed run. */
  readonly vars?: Record<string, unknown> | null;
}

/** A hold to record: the gate step, how long it waits and who may decide. */
export interface ApprovalRequest {
  readonly at: string;
  readonly expiresAt: string;
  readonly phase: 'main' | 'onFailure';
  readonly stepIndex: number;
  readonly stepName: string;
  readonly approvers: readonly string[];
  readonly message: string | null;
  /** Steps to update in the same transaction (e.g. the approval step becomes pending). */
  readonly steps?: readonly StepChange[];
}

/** A verdict to record. */
export interface ApprovalVerdict {
  readonly runId: string;
  /** The request the verdict is for: refused (`not_awaiting`) when another one is open. */
  readonly seq?: number;
  readonly verdict: Verdict;
  readonly by: Identity;
  readonly comment: string | null;
  readonly at: string;
  /** An approved run is executed next by the caller's replica: its lease. */
  readonly lease?: Lease;
}

/** What became of a verdict. */
export type ApprovalOutcome =
  | { readonly ok: true; readonly approval: Approval; readonly run: Run }
  /** not_found: no such run; not_awaiting: the run is not held (decided, cancelled, finished); expired: its time was up. */
  | { readonly ok: false; readonly why: 'not_found' | 'not_awaiting' | 'expired'; readonly run: Run | null; readonly approval: Approval | null };

/** A posted message, to update: a Slack channel and timestamp. */
export interface MessageRef {
  readonly channel: string;
  readonly ts: string;
}

/** Filters and paging for listing events. Times are ISO 8601 UTC; `until` is exclusive. */
export interface EventQuery {
  readonly runId?: string;
  readonly playbook?: string;
  readonly kind?: string;
  readonly since?: string;
  readonly until?: string;
  readonly afterId?: number;
  /** Only events before this id (pages of a newest-first listing). */
  readonly beforeId?: number;
  /** Newest first (default: oldest first, the chain's order). */
  readonly newestFirst?: boolean;
  readonly limit: number;
}

/** Filters and paging for listing runs, newest first. */
export interface RunQuery {
  readonly state?: RunState;
  readonly playbook?: string;
  /** Only dry runs (true), or only live runs (false). */
  readonly dryRun?: boolean;
  /**
   * Words that must each occur, ignoring ASCII case, in the alertname or the labels (names or
   * values); a word `name=value` matches that label's whole value. Like `dryRun`, no index serves
   * it: one page looks through at most RUN_SEARCH_WINDOW runs and says so (`partial`).
   */
  readonly text?: string;
  /** How many runs a page of a text or mode search looks through (default RUN_SEARCH_WINDOW). */
  readonly window?: number;
  readonly limit: number;
  /** Opaque cursor from a previous page's `next`. */
  readonly cursor?: string;
}

/** How many runs (newest first, after the indexed filters) one page of a text or mode search looks through. */
export const RUN_SEARCH_WINDOW = 20_000;

/** One page of runs. */
export interface RunPage {
  readonly runs: Run[];
  /** The cursor of the next page, or null at the end. */
  readonly next: string | null;
  /** The page is short because the search window ended, not the runs: `next` searches older ones. */
  readonly partial?: boolean;
}

/** The key of a (playbook, alert instance) pair in GuardStore.instanceRuns' answer. */
export function instancePair(playbook: string, instanceKey: string): string {
  return `${playbook}\u0000${instanceKey}`;
}
