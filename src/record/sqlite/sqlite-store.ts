// Past the usual size on purpose: the Store's one SQLite facade, one short method per member of
// the interface (a transaction and a call into the file of its concept: runs, approvals, guards…).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Approval, Identity } from '../../domain/approval.js';
import type { AuditHead, ChainedEvent } from '../../domain/audit-chain.js';
import type { GuardState } from '../../domain/decision.js';
import { RemediatorError } from '../../domain/errors.js';
import type { AuditEvent, NewEvent, Run, RunDetail, RunState, RunStep } from '../../domain/run.js';
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
  MessageRef,
  NewBatch,
  NewRun,
  PauseRecord,
  PruneResult,
  Repropose,
  RunPage,
  RunQuery,
  RunTransition,
  Store,
  StoredBatch,
} from '../../domain/store.js';
import { instancePair } from '../../domain/store-records.js';
import { cancelRun, countOpenApprovals, decideApproval, expireApprovals, holdForApproval, nextApprovalExpiry, reproposeRun } from './approvals.js';
import { claimBatches, countPendingBatches, insertBatch, markBatchProcessed } from './batches.js';
import type { SqliteContext } from './context.js';
import { DecisionSlices } from './decision-slice.js';
import { CHAIN_COLUMNS, EventChainWriter, readAuditHead, toChainedEvent } from './event-chain.js';
import { closeCircuit, endPause, globalState, guardState, openCircuit, setPause } from './guards.js';
import * as escalations from './escalations.js';
import * as storms from './storms.js';
import type { EscalationState } from '../../domain/decision.js';
import { interruptExpired, interruptRunning, renewLeases } from './leases.js';
import { migrate } from './migrations.js';
import { ProcessLock } from './process-lock.js';
import { rememberRequest, runMessage, setRunMessage } from './messages.js';
import { countRunsInProgress, getRun, listEvents, listRuns } from './reads.js';
import { cancelNotStarted, recordResolved } from './resolve.js';
import { pruneChunk } from './retention.js';
import type { Row } from '../rows.js';
import { applyTransition, createRun } from './runs.js';
import { withSync, WriteQueue } from './write-queue.js';

/**
 * The embedded store. better-sqlite3 is synchronous, so each method's body is one transaction (or
 * one savepoint) that cannot interleave with another in this process. Writes outside a decision
 * slice are group-committed (write-queue.ts): the callers of one event-loop turn share one
 * transaction and its commit. WAL mode; a webhook batch is committed with synchronous=FULL, so it
 * is on disk before the webhook is answered.
 *
 * Over 300 lines on purpose: it is the Store contract's ~38 methods, each one line that wraps a
 * function of a sibling file (approvals.ts, batches.ts, runs.ts, …) in a transaction; what is
 * left here is opening the file and the transaction discipline they share.
 */
export class SqliteStore implements Store {
  /** One process per file (ProcessLock): every run left running at start was this process's. */
  readonly exclusive = true;
  private readonly db: Database.Database;
  /** The decision lock: one process per file, so a promise chain in memory is the whole lock. */
  private decisionTail: Promise<unknown> = Promise.resolve();
  private readonly statements = new Map<string, Database.Statement>();
  private readonly batchQueue: { batch: NewBatch; resolve: (id: string) => void; reject: (err: unknown) => void }[] = [];
  private readonly chain: EventChainWriter;
  private readonly slices: DecisionSlices;
  private readonly writes: WriteQueue;
  /** What the method bodies in approvals.ts, guards.ts, runs.ts, … use of this store. */
  private readonly ctx: SqliteContext;

  private constructor(
    db: Database.Database,
    private readonly clock: () => Date,
    private readonly lock: ProcessLock | null,
  ) {
    this.db = db;
    this.chain = new EventChainWriter(db);
    this.slices = new DecisionSlices(
      db,
      () => this.chain.reset(),
      (err) => storeError('deciding a slice', err),
    );
    this.writes = new WriteQueue({
      db,
      transaction: (body) => this.transaction(body)(),
      waitFor: () => this.slices.waitFor(),
      resetChain: () => this.chain.reset(),
      storeError,
    });
    this.ctx = { sql: (text) => this.sql(text), insertEvents: (events, defaults) => this.insertEvents(events, defaults), clock };
  }

  /** Prepares each SQL text once: preparing costs more than running these small statements. */
  private sql(text: string): Database.Statement {
    let stmt = this.statements.get(text);
    if (stmt === undefined) {
      stmt = this.db.prepare(text);
      this.statements.set(text, stmt);
    }
    return stmt;
  }

  /**
   * db.transaction, with the audit head moved once at its end when it appended events (see
   * EventChainWriter). Every write goes through here. Nested, the outer transaction's head is
   * written first and read again after: the inner one is a savepoint that may roll back.
   */
  private transaction<T>(fn: () => T): () => T {
    const tx = this.db.transaction(() => {
      const result = fn();
      this.chain.flush();
      return result;
    });
    return () => {
      this.chain.flush();
      try {
        return tx();
      } finally {
        this.chain.reset();
      }
    };
  }

  /**
   * Runs a transaction whose commit must reach the disk before the caller answers anyone (a
   * stored webhook batch). Other commits use synchronous=NORMAL: in WAL mode they survive a crash
   * of the process, and the next durable commit syncs them too; what a power loss could take is
   * only state derived from durable batches, which processing rebuilds idempotently.
   */
  private durably<T>(fn: () => T): T {
    return withSync(this.db, true, () => this.transaction(fn)());
  }

  /**
   * A write. Inside a decision slice it joins the slice's transaction (a savepoint in it), as
   * before; anywhere else it waits for the next group commit (write-queue.ts), so the small writes
   * of many runs moving at once share one transaction, each a savepoint of its own, and it is
   * answered after that commit.
   */
  private write<T>(what: string, fn: () => T, durable = false): Promise<T> {
    if (this.slices.inside()) return this.wrap(what, () => (durable ? this.durably(fn) : this.transaction(fn)()));
    return this.writes.write(what, fn, durable);
  }

  /** Opens (creating if needed) the database file and brings its schema up to date. */
  static open(file: string, clock: () => Date = () => new Date()): SqliteStore {
    let lock: ProcessLock | null = null;
    if (file !== ':memory:') {
      try {
        mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      } catch (err) {
        throw new RemediatorError('store_unavailable', `cannot create the directory of the database ${file}: ${(err as Error).message}`, { cause: err });
      }
      lock = ProcessLock.acquire(path.resolve(file));
    }
    let db: Database.Database | null = null;
    try {
      db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
    } catch (err) {
      db?.close();
      lock?.release();
      throw new RemediatorError('store_unavailable', `cannot open SQLite database ${file}: ${(err as Error).message}`, { cause: err });
    }
    const store = new SqliteStore(db, clock, lock);
    try {
      migrate(db, clock);
      // One process per file: claims left by a previous process died with it.
      if (lock !== null) db.prepare('UPDATE batches SET claimed_by = NULL, claimed_until = NULL WHERE processed_at IS NULL AND claimed_by IS NOT NULL').run();
    } catch (err) {
      db.close();
      lock?.release();
      throw err;
    }
    return store;
  }

  private wrap<T>(what: string, fn: () => T): Promise<T> {
    const wait = this.slices.waitFor();
    if (wait !== null) return wait.then(() => this.wrap(what, fn));
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(storeError(what, err));
    }
  }

  /** Appends events to the hash chain; only inside this.transaction. */
  private insertEvents(events: readonly NewEvent[], defaults: Partial<NewEvent> = {}): void {
    this.chain.append(events, defaults, this.clock().toISOString());
  }

  /**
   * Group commit: batches that arrive while the disk is syncing are written together in the next
   * durable transaction, so one fsync acknowledges many webhooks under load and a single webhook
   * waits for no more than one event-loop turn.
   */
  saveBatch(batch: NewBatch): Promise<string> {
    return new Promise((resolve, reject) => {
      this.batchQueue.push({ batch, resolve, reject });
      if (this.batchQueue.length === 1) setImmediate(() => this.flushBatches());
    });
  }

  private flushBatches(): void {
    // Not inside a decision slice's open transaction: a batch is answered only once its own commit is durable.
    const wait = this.slices.waitFor();
    if (wait !== null) {
      void wait.then(() => this.flushBatches());
      return;
    }
    const items = this.batchQueue.splice(0);
    if (items.length === 0) return;
    let ids: string[];
    try {
      ids = this.durably(() => items.map((item) => insertBatch(this.ctx, item.batch)));
    } catch (err) {
      if (items.length === 1) {
        items[0]?.reject(storeError('saving a batch', err));
        return;
      }
      // One item that cannot be written (whatever it holds) must not fail the others it shared the
      // commit with: each is tried again alone, in its own durable transaction.
      for (const item of items) {
        try {
          item.resolve(this.durably(() => insertBatch(this.ctx, item.batch)));
        } catch (alone) {
          item.reject(storeError('saving a batch', alone));
        }
      }
      return;
    }
    items.forEach((item, i) => item.resolve(ids[i] as string));
  }

  claimBatches(c: { owner: string; limit: number; until: string; now: string }): Promise<StoredBatch[]> {
    return this.write('claiming batches', () => claimBatches(this.ctx, c));
  }

  withDecisionLock<T>(fn: () => Promise<T>): Promise<T> {
    if (this.slices.inside()) return fn();
    const result = this.decisionTail.then(fn, fn);
    this.decisionTail = result.catch(() => undefined);
    return result;
  }

  withDecisionSlice<T>(fn: () => Promise<T>): Promise<T> {
    if (this.slices.inside()) return fn();
    return this.withDecisionLock(() => {
      const wait = this.slices.waitFor();
      const run = () => this.slices.run(fn);
      return wait === null ? run() : wait.then(run);
    });
  }

  renewLeases(owner: string, until: string, runIds: readonly string[]): Promise<string[]> {
    return this.write('renewing leases', () => renewLeases(this.ctx, owner, until, runIds));
  }

  interruptExpired(at: string, reason: string): Promise<string[]> {
    return this.write('interrupting runs whose lease expired', () => interruptExpired(this.ctx, at, reason));
  }

  countPendingBatches(): Promise<number> {
    return this.wrap('counting pending batches', () => countPendingBatches(this.ctx));
  }

  markBatchProcessed(id: string, event: NewEvent): Promise<void> {
    return this.write('marking a batch processed', () => markBatchProcessed(this.ctx, id, event));
  }

  instanceRuns(keys: readonly { playbook: string; instanceKey: string }[]): Promise<Map<string, { id: string; state: string }>> {
    return this.wrap('reading the runs of alert instances', () => {
      const found = new Map<string, { id: string; state: string }>();
      const read = this.ctx.sql('SELECT id, state FROM runs WHERE playbook = ? AND instance_key = ?');
      for (const k of keys) {
        const row = read.get(k.playbook, k.instanceKey) as { id: string; state: string } | undefined;
        if (row) found.set(instancePair(k.playbook, k.instanceKey), { id: row.id, state: row.state });
      }
      return found;
    });
  }

  guardState(q: GuardQuery): Promise<GuardState> {
    return this.wrap('reading guard state', () => guardState(this.ctx, q));
  }

  globalState(q: { budgetSince: Date | null }): Promise<GlobalState> {
    return this.wrap('reading the pause and circuit', () => globalState(this.ctx, q));
  }

  setPause(p: { at: string; until: string; reason: string; by: string; via: string }): Promise<PauseRecord> {
    return this.write('setting the pause', () => setPause(this.ctx, p));
  }

  endPause(e: { at: string; by: string; via: string }): Promise<PauseRecord | null> {
    return this.write('lifting the pause', () => endPause(this.ctx, e));
  }

  openCircuit(o: { at: string; reason: string; by: string }): Promise<CircuitRecord | null> {
    return this.write('opening the circuit', () => openCircuit(this.ctx, o));
  }

  closeCircuit(c: { at: string; by: string; via: string; note: string }): Promise<CircuitRecord | null> {
    return this.write('closing the circuit', () => closeCircuit(this.ctx, c));
  }

  escalationState(q: { playbook: string; targetKey: string; instanceKey: string; since: Date }): Promise<EscalationState> {
    return this.wrap('reading escalations', () => escalations.escalationState(this.ctx, q));
  }

  openEscalation(o: {
    id: string;
    playbook: string;
    targetKey: string;
    at: string;
    reason: string;
    runs: EscalationRecord['runs'];
  }): Promise<EscalationRecord | null> {
    return this.write('opening an escalation', () => escalations.openEscalation(this.ctx, o));
  }

  clearEscalation(c: { id: string; at: string; by: string; via: string; note: string }): Promise<EscalationRecord | null> {
    return this.write('clearing an escalation', () => escalations.clearEscalation(this.ctx, c));
  }

  getEscalation(id: string): Promise<EscalationRecord | null> {
    return this.wrap('reading an escalation', () => escalations.getEscalation(this.ctx, id));
  }

  listEscalations(q: { all?: boolean; limit: number }): Promise<EscalationRecord[]> {
    return this.wrap('listing escalations', () => escalations.listEscalations(this.ctx, q));
  }

  recordGroupSeen(rows: readonly { playbook: string; groupKey: string; targetKey: string; at: string; runId: string | null }[]): Promise<void> {
    return this.write('recording group targets', () => {
      const insert = this.ctx.sql('INSERT INTO group_seen (playbook, group_key, target_key, seen_at, run_id) VALUES (?, ?, ?, ?, ?)');
      for (const r of rows) insert.run(r.playbook, r.groupKey, r.targetKey, r.at, r.runId);
    });
  }

  groupState(q: { playbook: string; groupKey: string; since: Date }): Promise<{ liveRuns: number; targetsSeen: number }> {
    return this.wrap('reading a group', () => {
      const row = this.ctx
        .sql(
          'SELECT COUNT(DISTINCT run_id) AS runs, COUNT(DISTINCT target_key) AS targets FROM group_seen WHERE playbook = ? AND group_key = ? AND seen_at >= ?',
        )
        .get(q.playbook, q.groupKey, q.since.toISOString()) as { runs: number; targets: number };
      return { liveRuns: Number(row.runs), targetsSeen: Number(row.targets) };
    });
  }

  stormWindow(w: { since: Date; targetsLimit: number }): Promise<{ open: StormRecord | null; instances: number; targets: string[] }> {
    return this.wrap('reading the storm window', () => storms.stormWindow(this.ctx, w));
  }

  recordStormSeen(rows: readonly StormSeen[], stormId: string | null): Promise<{ fresh: string[]; stormOf: Map<string, string> }> {
    return this.write('recording alerts for guards.storm', () => storms.recordStormSeen(this.ctx, rows, stormId));
  }

  openStorm(o: { id: string; at: string; since: string }): Promise<StormRecord | null> {
    return this.write('opening a storm', () => storms.openStorm(this.ctx, o));
  }

  growStorm(id: string, g: { at: string; seen: readonly StormSeen[] }): Promise<StormRecord | null> {
    return this.write('growing a storm', () => storms.growStorm(this.ctx, id, g));
  }

  endStorm(e: { at: string; quietSince: string }): Promise<StormRecord | null> {
    return this.write('ending a storm', () => storms.endStorm(this.ctx, e));
  }

  getStorm(id: string): Promise<StormRecord | null> {
    return this.wrap('reading a storm', () => storms.getStorm(this.ctx, id));
  }

  listStorms(l: { all?: boolean; limit: number }): Promise<StormRecord[]> {
    return this.wrap('listing storms', () => storms.listStorms(this.ctx, l));
  }

  stormRuns(id: string): Promise<Run[]> {
    return this.wrap("reading a storm's runs", () => storms.stormRuns(this.ctx, id));
  }

  setStormMessage(id: string, ref: MessageRef): Promise<void> {
    return this.write("recording a storm's message", () => storms.setStormMessage(this.ctx, id, ref));
  }

  createRun(run: NewRun, steps: RunStep[], events: NewEvent[]): Promise<Run | null> {
    return this.write('creating a run', () => createRun(this.ctx, run, steps, events));
  }

  transitionRun(id: string, change: RunTransition): Promise<boolean> {
    return this.write('updating a run', () => applyTransition(this.ctx, id, change), change.durable === true);
  }

  holdForApproval(runId: string, request: ApprovalRequest): Promise<Approval | null> {
    return this.write('holding a run for approval', () => holdForApproval(this.ctx, runId, request));
  }

  decideApproval(d: ApprovalVerdict): Promise<ApprovalOutcome> {
    // Durable: an approval is what lets the caller act on the world next.
    return this.write('deciding an approval', () => decideApproval(this.ctx, d), true);
  }

  expireApprovals(at: string): Promise<string[]> {
    return this.write('expiring approvals', () => expireApprovals(this.ctx, at));
  }

  nextApprovalExpiry(): Promise<string | null> {
    return this.wrap('reading approval expiry', () => nextApprovalExpiry(this.ctx));
  }

  countRunsInProgress(): Promise<Partial<Record<RunState, number>>> {
    return this.wrap('counting runs in progress', () => countRunsInProgress(this.ctx));
  }

  countOpenApprovals(): Promise<number> {
    return this.wrap('counting approvals', () => countOpenApprovals(this.ctx));
  }

  cancelRun(runId: string, c: { at: string; by: Identity; reason: string }): Promise<RunState | null> {
    return this.write('cancelling a run', () => cancelRun(this.ctx, runId, c));
  }

  reproposeRun(runId: string, r: Repropose): Promise<Run | null> {
    return this.write('re-proposing a held run', () => reproposeRun(this.ctx, runId, r));
  }

  runMessage(runId: string, notifier: string): Promise<MessageRef | null> {
    return this.wrap('reading a run message', () => runMessage(this.ctx, runId, notifier));
  }

  setRunMessage(runId: string, notifier: string, ref: MessageRef): Promise<void> {
    return this.write('saving a run message', () => setRunMessage(this.ctx, runId, notifier, ref));
  }

  rememberRequest(key: string, staleAt: string, now: string): Promise<boolean> {
    return this.write('remembering a request', () => rememberRequest(this.ctx, key, staleAt, now));
  }

  appendEvents(events: NewEvent[]): Promise<void> {
    return this.write('appending events', () => this.insertEvents(events));
  }

  setRunSilence(runId: string, silenceId: string | null, events: NewEvent[]): Promise<boolean> {
    return this.write('saving a run silence', () => {
      const changed = this.ctx.sql('UPDATE runs SET silence_id = ? WHERE id = ?').run(silenceId, runId).changes > 0;
      if (changed) this.insertEvents(events);
      return changed;
    });
  }

  recordResolved(fingerprint: string, startsAt: string, at: string, endsAt: string | null = null): Promise<string[]> {
    return this.write('recording a resolve', () => recordResolved(this.ctx, fingerprint, startsAt, at, endsAt));
  }

  cancelNotStarted(fingerprint: string, startsAt: string, at: string, reason: string, exceptPlaybooks: readonly string[] = []): Promise<string[]> {
    return this.write('cancelling runs', () => cancelNotStarted(this.ctx, fingerprint, startsAt, at, reason, exceptPlaybooks));
  }

  interruptRunning(at: string, reason: string): Promise<string[]> {
    return this.write('interrupting runs', () => interruptRunning(this.ctx, at, reason));
  }

  getRun(id: string): Promise<RunDetail | null> {
    return this.wrap('reading a run', () => getRun(this.ctx, id));
  }

  listRuns(q: RunQuery): Promise<RunPage> {
    return this.wrap('listing runs', () => listRuns(this.ctx, q));
  }

  listEvents(q: EventQuery): Promise<AuditEvent[]> {
    return this.wrap('listing events', () => listEvents(this.ctx, q));
  }

  auditHead(): Promise<AuditHead | null> {
    return this.wrap('reading the audit head', () => readAuditHead(this.db));
  }

  auditEvents(q: { afterId: number; throughId?: number; limit: number }): Promise<ChainedEvent[]> {
    return this.wrap('reading the audit chain', () =>
      (
        this.sql(`SELECT ${CHAIN_COLUMNS} FROM events WHERE id > ? AND id <= ? ORDER BY id LIMIT ?`).all(
          q.afterId,
          q.throughId ?? Number.MAX_SAFE_INTEGER,
          q.limit,
        ) as Row[]
      ).map(toChainedEvent),
    );
  }

  prune(r: { before: string; at: string; limit: number }): Promise<PruneResult> {
    return this.write('pruning old records', (): PruneResult => {
      const { moreDue, ...removed } = pruneChunk(this.db, r.before, r.limit);
      if (removed.events + removed.runs + removed.batches > 0) {
        this.insertEvents([{ kind: 'retention.pruned', at: r.at, data: { before: r.before, ...removed } }]);
      }
      return { ...removed, more: moreDue };
    });
  }

  /**
   * A durable write with no schema of its own: setting the file's application id (the same value
   * each time, "RMDR") writes a page and syncs it, so a full disk or a read-only file fails here.
   */
  ping(): Promise<void> {
    return this.wrap('ping', () => {
      this.durably(() => this.db.pragma('application_id = 1380795474'));
    });
  }

  close(): Promise<void> {
    this.flushBatches();
    this.writes.drain();
    if (this.db.open) {
      this.db.close();
      this.lock?.release();
    }
    return Promise.resolve();
  }
}

/** Disk full, read-only file, locked or closed database: all worth a retry by the caller. */
function storeError(what: string, err: unknown): RemediatorError {
  if (err instanceof RemediatorError) return err;
  return new RemediatorError('store_unavailable', `store: ${what} failed: ${(err as Error).message}`, { retryable: true, cause: err });
}
