import type { Decided } from './decided.js';
import type { RunState, RunStep } from './run.js';

/**
 * A recorded history, as `remediator replay` reads it from a daemon's database (read-only, while
 * the daemon runs): the webhook batches it processed, the decisions it recorded for them, the
 * runs they created and how those ended, and the switches people threw. SQLite and PostgreSQL
 * read the same records (src/record/sqlite/history-reader.ts, src/record/postgres/pg-history-reader.ts).
 */

/** A stored webhook delivery that was processed. */
export interface RecordedBatch {
  readonly id: string;
  readonly receivedAt: Date;
  readonly payload: unknown;
}

/** A recorded run: how it ended, whether it acted, and its plan. */
export interface RecordedRun {
  readonly id: string;
  readonly playbook: string;
  readonly instanceKey: string;
  readonly batchId: string | null;
  readonly state: RunState;
  readonly dryRun: boolean;
  readonly createdAt: string;
  /** When it ended; null while it has not. */
  readonly finishedAt: string | null;
  /** A step that changes something started (the budget counts such runs). */
  readonly acted: boolean;
  /** Its steps as stored: rendered at creation, and again as they ran (values only known then). */
  readonly steps: readonly RunStep[];
}

/** A switch thrown: a pause set or lifted, the circuit opened or closed. */
export interface RecordedSwitch {
  readonly kind: 'paused' | 'resumed' | 'circuit.opened' | 'circuit.closed';
  readonly at: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** A time range, `until` excluded; ISO 8601 UTC. */
export interface HistoryRange {
  readonly since: string;
  readonly until: string;
}

/** Reads a recorded history, in one consistent snapshot (see `snapshot`). */
export interface HistoryReader {
  /** Runs `fn` in one read-only snapshot of the database, while the daemon writes on. */
  snapshot<T>(fn: () => Promise<T>): Promise<T>;
  /** Processed batches received in the range, counted (for progress). */
  countBatches(range: HistoryRange): Promise<number>;
  /** Processed batches received in the range, in the order received, a page at a time. */
  batches(range: HistoryRange): AsyncIterable<RecordedBatch> | Iterable<RecordedBatch>;
  /** The decisions recorded in the range (by their time), in the order recorded. */
  decisions(range: HistoryRange): AsyncIterable<Decided> | Iterable<Decided>;
  /** Runs created in the range, with their steps. */
  runs(range: HistoryRange): AsyncIterable<RecordedRun> | Iterable<RecordedRun>;
  /** The switches thrown in the range, in order. */
  switches(range: HistoryRange): Promise<RecordedSwitch[]>;
  /** The last pause switch and the last circuit switch before `at` (the state a replay starts from). */
  switchesBefore(at: string): Promise<RecordedSwitch[]>;
  close(): Promise<void>;
}
