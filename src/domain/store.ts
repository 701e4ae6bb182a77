import type { Approval, Identity } from './approval.js';
import type { AuditHead, ChainedEvent } from './audit-chain.js';
import type { EscalationState, GuardState } from './decision.js';
import type { AuditEvent, NewEvent, Run, RunDetail, RunState, RunStep } from './run.js';
import type {
  ApprovalOutcome,
  ApprovalRequest,
  ApprovalVerdict,
  CircuitRecord,
  EscalationRecord,
  StormRecord,
  StormSeen,
  EventQuery,
  GlobalState,
  GuardQuery,
} from './store-records.js';
import type { MessageRef, NewBatch, NewRun, PauseRecord, PruneResult, Repropose, RunPage, RunQuery, RunTransition, StoredBatch } from './store-records.js';

export type * from './store-records.js';

/*
 * The storage contract, split by role: each consumer names the roles it uses (the worker a
 * BatchStore, the approval service an ApprovalStore & RunStore & AuditLog, …), and the two stores
 * implement them all as `Store`. Every method is async, so PostgreSQL fits without changing any
 * caller; every method that changes state writes its events in the same transaction, so no record
 * is ever half-written.
 */

/** Webhook deliveries: stored before the answer, claimed and processed after it. */
export interface BatchStore {
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
}

/** What decide reads, and the daemon-wide switches (pause, circuit) people and the budget throw. */
export interface GuardStore {
  /**
   * Reads what decide needs for one playbook and key. `since` bounds the maxRuns window,
   * `budgetSince` the global budget's (live runs are counted from it, or from the circuit's last
   * closing if that is later); `lockKey` finds the run of any playbook holding the lock.
   */
  guardState(query: GuardQuery): Promise<GuardState>;
  /**
   * The runs that exist for these (playbook, alert instance) pairs, keyed `playbook NUL instanceKey`:
   * one read for a whole delivery, outside the decision lock. A run, once made, stays (until
   * retention), so an instance found here is decided a re-delivery without the lock.
   */
  instanceRuns(keys: readonly { playbook: string; instanceKey: string }[]): Promise<Map<string, { id: string; state: string }>>;
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
   * Runs `fn` holding the one decision lock that every process on this database shares, so that
   * reading the guards and creating the run happen for one alert at a time: two replicas cannot
   * both pass a cooldown, a maxRuns limit or the budget. (The unique constraints settle duplicates
   * and locks on their own.)
   */
  withDecisionLock<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Runs `fn` as one decision slice: holding the decision lock (withDecisionLock inside it just
   * runs its function), every store call `fn` makes is part of one transaction, committed when `fn`
   * resolves and rolled back, with all it wrote, when it throws. Deciding many alerts this way
   * commits once, and every decision still lands with the change it records. Callers outside the
   * slice are not part of it: on SQLite their calls wait until it ends. Keep what `fn` awaits to
   * store calls (start runs after the slice, not inside it).
   */
  withDecisionSlice<T>(fn: () => Promise<T>): Promise<T>;
}

/** Escalations: targets automation did not fix, handed to a person until cleared. */
export interface EscalationStore {
  /**
   * For one playbook and target key: its open escalation, and the live runs created since `since`
   * (and since the key's last clearing) that ended without fixing it — failed or interrupted, or
   * succeeded for another alert instance than `instanceKey` (the alert fired again). Runs refused
   * for their params (no steps) do not count.
   */
  escalationState(query: { playbook: string; targetKey: string; instanceKey: string; since: Date }): Promise<EscalationState>;
  /**
   * Opens an escalation with its "escalation.opened" event; null, writing nothing, when one is
   * open for the playbook and key already (a unique index: two replicas open it once).
   */
  openEscalation(open: {
    id: string;
    playbook: string;
    targetKey: string;
    at: string;
    reason: string;
    runs: EscalationRecord['runs'];
  }): Promise<EscalationRecord | null>;
  /** Clears an open escalation with its "escalation.cleared" event; null, writing nothing, when it is not open. */
  clearEscalation(clear: { id: string; at: string; by: string; via: string; note: string }): Promise<EscalationRecord | null>;
  getEscalation(id: string): Promise<EscalationRecord | null>;
  /** The open escalations (all: the last `limit` too), newest first. */
  listEscalations(query: { all?: boolean; limit: number }): Promise<EscalationRecord[]>;
}

/** guards.group: the targets seen firing per group, and the live runs made for them. */
export interface GroupStore {
  /** Records targets seen firing (runId null) or a live run created (runId set) for a group. */
  recordGroupSeen(rows: readonly { playbook: string; groupKey: string; targetKey: string; at: string; runId: string | null }[]): Promise<void>;
  /** Live runs and distinct targets seen for one playbook and group key since `since`. */
  groupState(query: { playbook: string; groupKey: string; since: Date }): Promise<{ liveRuns: number; targetsSeen: number }>;
}

/**
 * guards.storm: the alert instances seen matching live playbooks, and the storms they made. Every
 * call made inside a decision slice joins its transaction, so a storm opens once per burst (and a
 * unique index keeps it to one open storm for every replica).
 */
export interface StormStore {
  /** The open storm, and what the window since `since` holds: its distinct instances and up to `targetsLimit` distinct target keys. */
  stormWindow(query: { since: Date; targetsLimit: number }): Promise<{ open: StormRecord | null; instances: number; targets: string[] }>;
  /**
   * Records instances not seen before (part of storm `stormId`, or of none). Returns the instance
   * keys that were new, in the rows' order, and for those seen before, the storm each belongs to
   * (if any): an alert of a storm stays the storm's, even after it ended.
   */
  recordStormSeen(rows: readonly StormSeen[], stormId: string | null): Promise<{ fresh: string[]; stormOf: Map<string, string> }>;
  /**
   * Opens a storm of the instances seen since `since` that belong to none, with its "storm.opened"
   * event; null, writing nothing, when one is open already.
   */
  openStorm(open: { id: string; at: string; since: string }): Promise<StormRecord | null>;
  /** New alert instances joined a storm (recorded with its id): its counts, playbooks and common labels follow, lastAlertAt becomes `at`. */
  growStorm(id: string, grow: { at: string; seen: readonly StormSeen[] }): Promise<StormRecord | null>;
  /** Ends the open storm if its last new alert came at or before `quietSince`, with its "storm.ended" event; null otherwise. */
  endStorm(end: { at: string; quietSince: string }): Promise<StormRecord | null>;
  getStorm(id: string): Promise<StormRecord | null>;
  /** The open storm, and (all) the last `limit` ones too, newest first. */
  listStorms(query: { all?: boolean; limit: number }): Promise<StormRecord[]>;
  /** The runs created for a storm's alerts, oldest first. */
  stormRuns(id: string): Promise<Run[]>;
  setStormMessage(id: string, ref: MessageRef): Promise<void>;
}

/** Runs: created by a decision, moved through their states, read by the API. */
export interface RunStore {
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
   * Cancels a run that has not started or is held (`pending`, `awaiting_approval`), closing its
   * open request; returns the state it left, or null, writing nothing, when it was in neither.
   */
  cancelRun(runId: string, cancel: { at: string; by: Identity; reason: string }): Promise<RunState | null>;
  /**
   * Puts a held run back to `pending` under a changed version of its playbook: only when it is
   * still `awaiting_approval` under `fromHash`. Its open request is ended (decision `cancelled`,
   * by `by`, with `reason`), its steps replaced by `steps`, its lease dropped; returns the run, or
   * null, writing nothing, when it is no longer held under that version (another replica did it).
   */
  reproposeRun(runId: string, r: Repropose): Promise<Run | null>;
  getRun(id: string): Promise<RunDetail | null>;
  listRuns(query: RunQuery): Promise<RunPage>;
  /** Runs not over yet, counted by state (the in-progress gauge). */
  countRunsInProgress(): Promise<Partial<Record<RunState, number>>>;
}

/** Approval requests: a run held, a verdict recorded, the expired ones expired. */
export interface ApprovalStore {
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
  /** Open approval requests, counted (the pending-approvals gauge). */
  countOpenApprovals(): Promise<number>;
}

/** Where notifiers posted a run's message, to update it in place. */
export interface MessageStore {
  /** Where a notifier posted a run's message (to update it later), or null. */
  runMessage(runId: string, notifier: string): Promise<MessageRef | null>;
  setRunMessage(runId: string, notifier: string, ref: MessageRef): Promise<void>;
}

/** Signed requests already accepted (Slack's), remembered while they could be replayed. */
export interface ReplayStore {
  /**
   * Records `key` (a request's signature) until `staleAt`, removing keys stale at `now`; false,
   * recording nothing, when the key is recorded and not stale yet: the request is a replay. In the
   * store, so a replay after a restart, or to another replica, is refused too.
   */
  rememberRequest(key: string, staleAt: string, now: string): Promise<boolean>;
}

/** Which replica executes which run, and what becomes of runs whose replica is gone. */
export interface LeaseStore {
  /**
   * True when this process is the only one using the database (SQLite's lock file): at start,
   * every run left `running` was this process's. False for a database replicas share, where a
   * run left `running` may belong to a live replica and only an expired lease tells otherwise.
   */
  readonly exclusive: boolean;
  /**
   * Extends the leases of `runIds`, the runs `owner` is driving now, while they are still running
   * and its own; returns the ids renewed. Only runs named: a run whose walk stopped (an error
   * the process could not record) must not be kept alive by a heartbeat that nothing is behind.
   */
  renewLeases(owner: string, until: string, runIds: readonly string[]): Promise<string[]>;
  /**
   * Marks `running` runs whose lease ran out before `at` as interrupted (the replica executing
   * them stopped heartbeating), with their running step; returns their ids.
   */
  interruptExpired(at: string, reason: string): Promise<string[]>;
  /** Marks runs left `running` by a previous process as interrupted; returns their ids. */
  interruptRunning(at: string, reason: string): Promise<string[]>;
}

/** The append-only, hash-chained events: appended with every change, read and walked. */
export interface AuditLog {
  /** Appends events that belong to no state change (decisions that started nothing, auth failures). */
  appendEvents(events: NewEvent[]): Promise<void>;
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
}

/** The Alertmanager silence of a run (playbook `silence`). */
export interface SilenceStore {
  /**
   * Sets (or, with null, clears) the silence id stored on a run, appending events in the same
   * transaction; false, writing nothing, when the run does not exist.
   */
  setRunSilence(runId: string, silenceId: string | null, events: NewEvent[]): Promise<boolean>;
}

/** Removes what is older than the retention period, keeping the chain verifiable. */
export interface RetentionStore {
  /**
   * Retention: removes up to `limit` of the oldest events recorded before `before`, and runs that
   * finished before it (with their steps, requests and messages) and the batches no remaining run
   * refers to. The audit chain stays verifiable: the head's base moves to the last event removed
   * (its id and hash), and a `retention.pruned` event records the cut. Call again while `more`.
   */
  prune(request: { before: string; at: string; limit: number }): Promise<PruneResult>;
}

/** Readiness and shutdown. */
export interface StoreLifecycle {
  /**
   * Throws when the store cannot serve (readiness): a small durable write, not only a read, so a
   * full disk or a read-only database shows here as it does to a webhook.
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The one storage contract, every role together. SQLite implements it for a single process,
 * PostgreSQL for several replicas; the same contract tests hold both to it.
 */
export interface Store
  extends
    BatchStore,
    GuardStore,
    EscalationStore,
    GroupStore,
    StormStore,
    RunStore,
    ApprovalStore,
    MessageStore,
    ReplayStore,
    LeaseStore,
    AuditLog,
    RetentionStore,
    StoreLifecycle,
    SilenceStore {}
