import type { AlertStatus } from './alert.js';
import type { Approval, Identity, Verdict } from './approval.js';
import type { AuditHead, ChainedEvent } from './audit-chain.js';
import type { GuardState } from './decision.js';
import type { AuditEvent, NewEvent, RenderedStep, Run, RunDetail, RunState, RunStep, StepState } from './run.js';

/**
 * The one storage contract. SQLite implements it for a single process; a PostgreSQL
 * implementation follows for several replicas, with the same contract tests. All methods are
 * async so that the second implementation fits without changing any caller. Every method that
 * changes state writes its events in the same transaction, so no record is ever half-written.
 */
export interface Store {
  /**
   * True when this process is the only one using the database (SQLite's lock file): at start,
   * every run left `running` was this process's. False for a database replicas share, where a
   * run left `running` may belong to a live replica and only an expired lease tells otherwise.
   */
  readonly exclusive: boolean;
  /** Stores a webhook delivery (and its "batch.received" event) durably; resolves only once committed. */
  saveBatch(batch: NewBatch): Promise<string>;
  /**
   * Claims up to `limit` stored, unprocessed batches for `owner` until `until`, oldest first,
   * skipping those another replica holds a live claim on (`now` decides which claims have
   * expired: a replica that died mid-batch leaves its claim to expire, and another takes it).
   */
  claimBatches(claim: { owner: string; limit: number; until: string; now: string }): Promise<StoredBatch[]>;
  /** How many batches are stored and not yet processed (the backlog). */
  countPendingBatches(): Promise<number>;
  /** Marks a batch processed, with its closing event. */
  markBatchProcessed(id: string, event: NewEvent): Promise<void>;

  /**
   * Reads what decide needs for one playbook and key. `since` bounds the maxRuns window,
   * `budgetSince` the global budget's (live runs are counted from it, or from the circuit's last
   * closing if that is later); `lockKey` finds the run of any playbook holding the lock.
   */
  guardState(query: GuardQuery): Promise<GuardState>;
  /** The pause and circuit rows, and the live runs since `budgetSince` (as guardState counts them). */
  globalState(query: { budgetSince: Date | null }): Promise<GlobalState>;
  /** Sets (or replaces) the pause, with its "paused" event. */
  setPause(pause: { at: string; until: string; reason: string; by: string; via: string }): Promise<PauseRecord>;
  /** Lifts a pause still in force at `at`, with its "resumed" event; null when there was none. */
  endPause(end: { at: string; by: string; via: string }): Promise<PauseRecord | null>;
  /** Opens the circuit, with its "circuit.opened" event; null, writing nothing, when it is open already. */
  openCircuit(open: { at: string; reason: string; by: string }): Promise<CircuitRecord | null>;
  /** Closes the open circuit, with its "circuit.closed" event; null, writing nothing, when it is not open. */
  closeCircuit(close: { at: string; by: string; via: string; note: string }): Promise<CircuitRecord | null>;
  /**
   * Creates a run with its steps and events in one transaction. Returns null, writing nothing,
   * when a run for the same (playbook, instance key) exists, one for the same (playbook, target
   * key) is still active, or one of any playbook holds the same lock key: the unique constraints
   * decide races between concurrent deliveries.
   */
  createRun(run: NewRun, steps: RunStep[], events: NewEvent[]): Promise<Run | null>;
  /**
   * Moves a run from one of `from` to `to`, updating the given steps and appending events in one
   * transaction. Returns false, writing nothing, when the run is not in one of `from` (someone else
   * moved it first).
   */
  transitionRun(id: string, change: RunTransition): Promise<boolean>;
  /** Appends events that belong to no state change (decisions that started nothing, auth failures). */
  appendEvents(events: NewEvent[]): Promise<void>;
  /**
   * Records that an alert instance resolved on every run made for it; returns their ids. When no
   * run of that fingerprint has that exact startsAt (Alertmanager moved it), the unresolved runs
   * of the fingerprint that started by `endsAt` (when given) and were created before the resolve
   * are resolved instead — never a later instance's run, whatever an old resolve sent again says.
   */
  recordResolved(fingerprint: string, startsAt: string, at: string, endsAt?: string | null): Promise<string[]>;
  /**
   * Cancels the runs of an alert instance that have not started (pending or awaiting approval),
   * and those of its fingerprint already marked resolved, except runs of `exceptPlaybooks` (the
   * playbooks that act on the resolve itself); returns their ids. Call after recordResolved.
   */
  cancelNotStarted(fingerprint: string, startsAt: string, at: string, reason: string, exceptPlaybooks?: readonly string[]): Promise<string[]>;
  /**
   * Holds a running run for approval: `running` → `awaiting_approval`, with a new approval request
   * and its events, in one transaction. Null, writing nothing, when the run is no longer running.
   */
  holdForApproval(runId: string, request: ApprovalRequest): Promise<Approval | null>;
  /**
   * Records a person's verdict on the run's open request. The first decision wins: the request
   * and the run move together, conditionally, so of two racing approvals one succeeds and the
   * other is told why not. An approval moves the run to `running` (durably: the caller acts next),
   * a rejection to `rejected`. A request past its expiry is expired here instead.
   */
  decideApproval(decision: ApprovalVerdict): Promise<ApprovalOutcome>;
  /** Expires every open request whose time is up (its run becomes `expired`); returns the run ids. */
  expireApprovals(at: string): Promise<string[]>;
  /** When the next open request expires, or null when none is open. */
  nextApprovalExpiry(): Promise<string | null>;
  /** Runs not over yet, counted by state (the in-progress gauge). */
  countRunsInProgress(): Promise<Partial<Record<RunState, number>>>;
  /** Open approval requests, counted (the pending-approvals gauge). */
  countOpenApprovals(): Promise<number>;
  /**
   * Cancels a run that has not started or is held (`pending`, `awaiting_approval`), closing its
   * open request; returns the state it left, or null, writing nothing, when it was in neither.
   */
  cancelRun(runId: string, cancel: { at: string; by: Identity; reason: string }): Promise<RunState | null>;
  /** Where a notifier posted a run's message (to update it later), or null. */
  runMessage(runId: string, notifier: string): Promise<MessageRef | null>;
  setRunMessage(runId: string, notifier: string, ref: MessageRef): Promise<void>;

  /**
   * Runs `fn` holding the one decision lock that every process on this database shares, so that
   * reading the guards and creating the run happen for one alert at a time: two replicas cannot
   * both pass a cooldown, a maxRuns limit or the budget. (The unique constraints settle duplicates
   * and locks on their own.)
   */
  withDecisionLock<T>(fn: () => Promise<T>): Promise<T>;
  /** Extends the lease of every run `owner` is executing; returns how many. */
  renewLeases(owner: string, until: string): Promise<number>;
  /**
   * Marks `running` runs whose lease ran out before `at` as interrupted (the replica executing
   * them stopped heartbeating), with their running step; returns their ids.
   */
  interruptExpired(at: string, reason: string): Promise<string[]>;
  /** Marks runs left `running` by a previous process as interrupted; returns their ids. */
  interruptRunning(at: string, reason: string): Promise<string[]>;

  getRun(id: string): Promise<RunDetail | null>;
  listRuns(query: RunQuery): Promise<{ runs: Run[]; next: string | null }>;
  /** Events in id order (oldest first), filtered; `afterId` pages. */
  listEvents(query: EventQuery): Promise<AuditEvent[]>;

  /**
   * The audit chain's head: where it starts and the last event appended, moved in the same
   * transaction as every append (see src/domain/audit-chain.ts); null when it is missing, which
   * only an edit outside remediator can cause.
   */
  auditHead(): Promise<AuditHead | null>;
  /**
   * One page of the audit chain: events with afterId < id ≤ throughId (when given), in id order,
   * at most `limit`. Paging by id keeps a walk over millions of events in constant memory, on
   * SQLite and PostgreSQL alike; pass the head's lastId as throughId to walk what the head covers
   * while the daemon keeps appending.
   */
  auditEvents(query: { afterId: number; throughId?: number; limit: number }): Promise<ChainedEvent[]>;

  /**
   * Retention: removes up to `limit` of the oldest events recorded before `before`, and runs that
   * finished before it (with their steps, requests and messages) and the batches no remaining run
   * refers to. The audit chain stays verifiable: the head's base moves to the last event removed
   * (its id and hash), and a `retention.pruned` event records the cut. Call again while `more`.
   */
  prune(request: { before: string; at: string; limit: number }): Promise<PruneResult>;

  /** Throws when the store cannot serve (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

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
  readonly limit: number;
}

/** Filters and paging for listing runs, newest first. */
export interface RunQuery {
  readonly state?: RunState;
  readonly playbook?: string;
  readonly limit: number;
  /** Opaque cursor from a previous page's `next`. */
  readonly cursor?: string;
}
