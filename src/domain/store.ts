import type { AlertStatus } from './alert.js';
import type { GuardState } from './decision.js';
import type { AuditEvent, NewEvent, Run, RunDetail, RunState, RunStep, StepState } from './run.js';

/**
 * The one storage contract. SQLite implements it for a single process; a PostgreSQL
 * implementation follows for several replicas, with the same contract tests. All methods are
 * async so that the second implementation fits without changing any caller. Every method that
 * changes state writes its events in the same transaction, so no record is ever half-written.
 */
export interface Store {
  /** Stores a webhook delivery (and its "batch.received" event) durably; resolves only once committed. */
  saveBatch(batch: NewBatch): Promise<string>;
  /** Batches stored but not yet processed, oldest first. */
  pendingBatches(limit: number): Promise<StoredBatch[]>;
  /** How many batches are stored and not yet processed (the backlog). */
  countPendingBatches(): Promise<number>;
  /** Marks a batch processed, with its closing event. */
  markBatchProcessed(id: string, event: NewEvent): Promise<void>;

  /** Reads what decide needs for one playbook and key. `since` bounds the maxRuns window. */
  guardState(query: { playbook: string; instanceKey: string; targetKey: string; since: Date | null }): Promise<GuardState>;
  /**
   * Creates a run with its steps and events in one transaction. Returns null, writing nothing,
   * when a run for the same (playbook, instance key) exists or one for the same (playbook, target
   * key) is still active: the unique constraints decide races between concurrent deliveries.
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
  /** Records that an alert instance resolved on every run made for it; returns their ids. */
  recordResolved(fingerprint: string, startsAt: string, at: string): Promise<string[]>;
  /** Marks runs left `running` by a previous process as interrupted; returns their ids. */
  interruptRunning(at: string, reason: string): Promise<string[]>;

  getRun(id: string): Promise<RunDetail | null>;
  listRuns(query: RunQuery): Promise<{ runs: Run[]; next: string | null }>;
  listEvents(query: { runId?: string; limit: number }): Promise<AuditEvent[]>;

  /** Throws when the store cannot serve (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
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

/** A run to create. */
export type NewRun = Omit<Run, 'updatedAt' | 'finishedAt' | 'resolvedAt'>;

/** A state change of a run. */
export interface RunTransition {
  readonly from: readonly RunState[];
  readonly to: RunState;
  readonly reason?: string;
  readonly at: string;
  readonly steps?: readonly StepChange[];
  readonly events?: readonly NewEvent[];
}

/** A change to one stored step. */
export interface StepChange {
  readonly phase: 'main' | 'onFailure';
  readonly index: number;
  readonly state: StepState;
  readonly startedAt?: string | null;
  readonly finishedAt?: string | null;
  readonly exitCode?: number | null;
  readonly output?: string | null;
  readonly error?: string | null;
}

/** Filters and paging for listing runs, newest first. */
export interface RunQuery {
  readonly state?: RunState;
  readonly playbook?: string;
  readonly limit: number;
  /** Opaque cursor from a previous page's `next`. */
  readonly cursor?: string;
}
