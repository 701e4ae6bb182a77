// Past the usual size on purpose: the Store's one PostgreSQL facade, one short method per member
// of the interface (a transaction and a call into the file of its concept: pg-runs, pg-approvals…).
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
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
import { cancelRun, decideApproval, expireApprovals, holdForApproval, reproposeRun } from './pg-approvals.js';
import { claimBatches, insertBatch, markBatchProcessed } from './pg-batches.js';
import { checkSchemaName, passwordScrubber, poolConfig, redactUrl, schemaKey } from './pg-connection.js';
import { DecisionLock } from './pg-decision-lock.js';
import { CHAIN_COLUMNS, readAuditHead } from './pg-event-chain.js';
import { closeCircuit, endPause, globalState, guardState, openCircuit, setPause, type BudgetCount } from './pg-guards.js';
import * as pgEscalations from './pg-escalations.js';
import * as pgStorms from './pg-storms.js';
import type { EscalationState } from '../../domain/decision.js';
import { migrate } from './pg-migrations.js';
import { ANALYZE_AFTER_RUNS, AnalyzeOnceGrown } from './pg-analyze.js';
import { getRun, listEvents, listRuns } from './pg-reads.js';
import { cancelNotStarted, recordResolved } from './pg-resolve.js';
import { toChainedEvent } from './pg-rows.js';
import { interruptExpired, interruptRunning, renewLeases } from './pg-leases.js';
import { pruneEvents, pruneRuns } from './pg-retention.js';
import { applyTransition, createRun } from './pg-runs.js';
import { describeError, Transactions, type Tx, type TxKind } from './transaction.js';

/** Options of PostgresStore.open. */
export interface PostgresStoreOptions {
  readonly clock?: () => Date;
  /** The schema to use (created when missing); default: the connection's current schema. */
  readonly schema?: string;
  /** Connections in the pool (default 10, at least 2): each transaction holds one, the decision lock one more. */
  readonly poolSize?: number;
  /** Runs created before the one ANALYZE after the start (default ANALYZE_AFTER_RUNS; see pg-analyze.ts). */
  readonly analyzeAfterRuns?: number;
}

/**
 * The store for several replicas sharing one PostgreSQL database, behaving as SqliteStore does
 * (the same contract tests): each method is one transaction on one pooled connection; the unique
 * indexes, conditional UPDATEs and row locks decide races between replicas as SQLite's single
 * writer does between callers; the audit chain stays one linear chain (see pg-event-chain.ts).
 */
export class PostgresStore implements Store {
  /** Replicas share the database: a run left running may be a live replica's (see interruptExpired). */
  readonly exclusive = false;
  private closed = false;
  private readonly decisionLock: DecisionLock;
  /** The decision slice whose transaction this async context's calls join (withDecisionSlice). */
  private readonly slice = new AsyncLocalStorage<{ tx: Tx; open: boolean; budget: BudgetCount | null }>();

  private constructor(
    private readonly pool: pg.Pool,
    private readonly db: Transactions,
    decisionKey: number,
    private readonly analyzer: AnalyzeOnceGrown,
  ) {
    this.decisionLock = new DecisionLock(pool, decisionKey, (what, err) => db.error(what, err));
  }

  /** Connects, and brings the schema up to date (once, whichever replica gets there first). */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    if (options.schema !== undefined) checkSchemaName(options.schema);
    const clock = options.clock ?? (() => new Date());
    const scrub = passwordScrubber(url);
    let pool: pg.Pool;
    try {
      pool = new pg.Pool(poolConfig(url, options.schema, Math.max(2, options.poolSize ?? 10)));
    } catch (err) {
      throw new RemediatorError('invalid_config', `cannot use PostgreSQL URL ${redactUrl(url)}: ${scrub(describeError(err))}`);
    }
    // An idle connection that fails (a server restart) is dropped by the pool; the next
    // transaction connects anew. Without a listener the error would end the process.
    pool.on('error', () => undefined);
    try {
      const schema = options.schema ?? (await currentSchema(pool));
      await migrate(pool, schema, clock);
      const analyzer = new AnalyzeOnceGrown(pool, options.analyzeAfterRuns ?? ANALYZE_AFTER_RUNS);
      return new PostgresStore(pool, new Transactions(pool, clock, schemaKey(schema), scrub), schemaKey(schema), analyzer);
    } catch (err) {
      await pool.end().catch(() => undefined);
      if (err instanceof RemediatorError) throw err;
      // No cause: a URL the driver cannot parse is quoted, password and all, in its error's `input`.
      throw new RemediatorError('store_unavailable', `cannot open the PostgreSQL store at ${redactUrl(url)}: ${scrub(describeError(err))}`, {
        retryable: true,
      });
    }
  }

  private tx<T>(what: string, fn: (tx: Tx) => Promise<T>, kind: TxKind = 'write'): Promise<T> {
    const slice = this.slice.getStore();
    if (slice?.open === true) return fn(slice.tx).catch((err: unknown) => Promise.reject(this.db.error(what, err)));
    return this.db.run(what, kind, fn);
  }

  /** One durable transaction per batch: a PostgreSQL commit is on disk when it returns. */
  saveBatch(batch: NewBatch): Promise<string> {
    return this.tx('saving a batch', (tx) => insertBatch(tx, batch), 'durable');
  }

  claimBatches(claim: { owner: string; limit: number; until: string; now: string }): Promise<StoredBatch[]> {
    return claimBatches((text, values) => this.db.query('claiming batches', text, values), claim);
  }

  async countPendingBatches(): Promise<number> {
    const rows = await this.db.query('counting pending batches', 'SELECT COUNT(*) AS n FROM batches WHERE processed_at IS NULL');
    return Number(rows[0]?.['n'] ?? 0);
  }

  markBatchProcessed(id: string, event: NewEvent): Promise<void> {
    return this.tx('marking a batch processed', (tx) => markBatchProcessed(tx, id, event));
  }

  instanceRuns(keys: readonly { playbook: string; instanceKey: string }[]): Promise<Map<string, { id: string; state: string }>> {
    if (keys.length === 0) return Promise.resolve(new Map<string, { id: string; state: string }>());
    return this.tx(
      'reading the runs of alert instances',
      async (tx) => {
        const rows = await tx.rows(
          `SELECT r.playbook, r.instance_key, r.id, r.state FROM runs r
             JOIN unnest($1::text[], $2::text[]) AS k (playbook, instance_key) ON r.playbook = k.playbook AND r.instance_key = k.instance_key`,
          [keys.map((k) => k.playbook), keys.map((k) => k.instanceKey)],
        );
        return new Map(rows.map((r) => [instancePair(String(r['playbook']), String(r['instance_key'])), { id: String(r['id']), state: String(r['state']) }]));
      },
      'read',
    );
  }

  guardState(query: GuardQuery): Promise<GuardState> {
    const slice = this.slice.getStore();
    return this.tx('reading guard state', (tx) => guardState(tx, query, slice?.open === true ? slice : undefined), 'read');
  }

  globalState(query: { budgetSince: Date | null }): Promise<GlobalState> {
    return this.tx('reading the pause and circuit', (tx) => globalState(tx, query), 'read');
  }

  setPause(pause: { at: string; until: string; reason: string; by: string; via: string }): Promise<PauseRecord> {
    return this.tx('setting the pause', (tx) => setPause(tx, pause));
  }

  endPause(end: { at: string; by: string; via: string }): Promise<PauseRecord | null> {
    return this.tx('lifting the pause', (tx) => endPause(tx, end));
  }

  openCircuit(open: { at: string; reason: string; by: string }): Promise<CircuitRecord | null> {
    return this.tx('opening the circuit', (tx) => openCircuit(tx, open));
  }

  closeCircuit(close: { at: string; by: string; via: string; note: string }): Promise<CircuitRecord | null> {
    return this.tx('closing the circuit', (tx) => closeCircuit(tx, close));
  }

  escalationState(query: { playbook: string; targetKey: string; instanceKey: string; since: Date }): Promise<EscalationState> {
    return this.tx('reading escalations', (tx) => pgEscalations.escalationState(tx, query), 'read');
  }

  openEscalation(open: {
    id: string;
    playbook: string;
    targetKey: string;
    at: string;
    reason: string;
    runs: EscalationRecord['runs'];
  }): Promise<EscalationRecord | null> {
    return this.tx('opening an escalation', (tx) => pgEscalations.openEscalation(tx, open));
  }

  clearEscalation(clear: { id: string; at: string; by: string; via: string; note: string }): Promise<EscalationRecord | null> {
    return this.tx('clearing an escalation', (tx) => pgEscalations.clearEscalation(tx, clear));
  }

  getEscalation(id: string): Promise<EscalationRecord | null> {
    return this.tx('reading an escalation', (tx) => pgEscalations.getEscalation(tx, id), 'read');
  }

  listEscalations(query: { all?: boolean; limit: number }): Promise<EscalationRecord[]> {
    return this.tx('listing escalations', (tx) => pgEscalations.listEscalations(tx, query), 'read');
  }

  recordGroupSeen(rows: readonly { playbook: string; groupKey: string; targetKey: string; at: string; runId: string | null }[]): Promise<void> {
    return this.tx('recording group targets', async (tx) => {
      for (const r of rows) {
        await tx.rows('INSERT INTO group_seen (playbook, group_key, target_key, seen_at, run_id) VALUES ($1, $2, $3, $4, $5)', [
          r.playbook,
          r.groupKey,
          r.targetKey,
          r.at,
          r.runId,
        ]);
      }
    });
  }

  groupState(q: { playbook: string; groupKey: string; since: Date }): Promise<{ liveRuns: number; targetsSeen: number }> {
    return this.tx(
      'reading a group',
      async (tx) => {
        const row = await tx.row(
          'SELECT COUNT(DISTINCT run_id) AS runs, COUNT(DISTINCT target_key) AS targets FROM group_seen WHERE playbook = $1 AND group_key = $2 AND seen_at >= $3',
          [q.playbook, q.groupKey, q.since.toISOString()],
        );
        return { liveRuns: Number(row?.['runs'] ?? 0), targetsSeen: Number(row?.['targets'] ?? 0) };
      },
      'read',
    );
  }

  stormWindow(w: { since: Date; targetsLimit: number }): Promise<{ open: StormRecord | null; instances: number; targets: string[] }> {
    return this.tx('reading the storm window', (tx) => pgStorms.stormWindow(tx, w));
  }

  recordStormSeen(rows: readonly StormSeen[], stormId: string | null): Promise<{ fresh: string[]; stormOf: Map<string, string> }> {
    return this.tx('recording alerts for guards.storm', (tx) => pgStorms.recordStormSeen(tx, rows, stormId));
  }

  openStorm(o: { id: string; at: string; since: string }): Promise<StormRecord | null> {
    return this.tx('opening a storm', (tx) => pgStorms.openStorm(tx, o));
  }

  growStorm(id: string, g: { at: string; seen: readonly StormSeen[] }): Promise<StormRecord | null> {
    return this.tx('growing a storm', (tx) => pgStorms.growStorm(tx, id, g));
  }

  endStorm(e: { at: string; quietSince: string }): Promise<StormRecord | null> {
    return this.tx('ending a storm', (tx) => pgStorms.endStorm(tx, e));
  }

  getStorm(id: string): Promise<StormRecord | null> {
    return this.tx('reading a storm', (tx) => pgStorms.getStorm(tx, id), 'read');
  }

  listStorms(l: { all?: boolean; limit: number }): Promise<StormRecord[]> {
    return this.tx('listing storms', (tx) => pgStorms.listStorms(tx, l), 'read');
  }

  stormRuns(id: string): Promise<Run[]> {
    return this.tx("reading a storm's runs", (tx) => pgStorms.stormRuns(tx, id), 'read');
  }

  setStormMessage(id: string, ref: MessageRef): Promise<void> {
    return this.tx("recording a storm's message", (tx) => pgStorms.setStormMessage(tx, id, ref));
  }

  async createRun(run: NewRun, steps: RunStep[], events: NewEvent[]): Promise<Run | null> {
    const created = await this.tx('creating a run', async (tx) => {
      const created = await createRun(tx, run, steps, events);
      // A live run that may act counts against the budget the slice keeps (see BudgetCount).
      const slice = this.slice.getStore();
      if (created !== null && slice?.open === true && slice.budget !== null && !run.dryRun && steps.length > 0) slice.budget.n++;
      return created;
    });
    if (created !== null) this.analyzer.created();
    return created;
  }

  transitionRun(id: string, change: RunTransition): Promise<boolean> {
    return this.tx('updating a run', async (tx) => (await applyTransition(tx, id, change)) !== null, change.durable ? 'durable' : 'write');
  }

  appendEvents(events: NewEvent[]): Promise<void> {
    return this.tx('appending events', (tx) => Promise.resolve(tx.append(events)));
  }

  setRunSilence(runId: string, silenceId: string | null, events: NewEvent[]): Promise<boolean> {
    return this.tx('saving a run silence', async (tx) => {
      const changed = (await tx.rows('UPDATE runs SET silence_id = $1 WHERE id = $2 RETURNING id', [silenceId, runId])).length > 0;
      if (changed) tx.append(events);
      return changed;
    });
  }

  recordResolved(fingerprint: string, startsAt: string, at: string, endsAt: string | null = null): Promise<string[]> {
    return this.tx('recording a resolve', (tx) => recordResolved(tx, fingerprint, startsAt, at, endsAt));
  }

  cancelNotStarted(fingerprint: string, startsAt: string, at: string, reason: string, exceptPlaybooks: readonly string[] = []): Promise<string[]> {
    return this.tx('cancelling runs', (tx) => cancelNotStarted(tx, fingerprint, startsAt, at, reason, exceptPlaybooks));
  }

  holdForApproval(runId: string, request: ApprovalRequest): Promise<Approval | null> {
    return this.tx('holding a run for approval', (tx) => holdForApproval(tx, runId, request));
  }

  /** Durable: an approval is what lets the caller act on the world next. */
  decideApproval(decision: ApprovalVerdict): Promise<ApprovalOutcome> {
    return this.tx('deciding an approval', (tx) => decideApproval(tx, decision), 'durable');
  }

  expireApprovals(at: string): Promise<string[]> {
    return this.tx('expiring approvals', (tx) => expireApprovals(tx, at));
  }

  async nextApprovalExpiry(): Promise<string | null> {
    const rows = await this.db.query('reading approval expiry', 'SELECT MIN(expires_at) AS at FROM approvals WHERE decision IS NULL');
    return (rows[0]?.['at'] as string | null | undefined) ?? null;
  }

  async countRunsInProgress(): Promise<Partial<Record<RunState, number>>> {
    const rows = await this.db.query(
      'counting runs in progress',
      "SELECT state, COUNT(*)::int AS n FROM runs WHERE state IN ('pending', 'awaiting_approval', 'running') GROUP BY state",
    );
    return Object.fromEntries(rows.map((r) => [String(r['state']), Number(r['n'])]));
  }

  async countOpenApprovals(): Promise<number> {
    const rows = await this.db.query('counting approvals', 'SELECT COUNT(*) AS n FROM approvals WHERE decision IS NULL');
    return Number(rows[0]?.['n'] ?? 0);
  }

  cancelRun(runId: string, cancel: { at: string; by: Identity; reason: string }): Promise<RunState | null> {
    return this.tx('cancelling a run', (tx) => cancelRun(tx, runId, cancel));
  }

  reproposeRun(runId: string, r: Repropose): Promise<Run | null> {
    return this.tx('re-proposing a held run', (tx) => reproposeRun(tx, runId, r));
  }

  async runMessage(runId: string, notifier: string): Promise<MessageRef | null> {
    const [row] = await this.db.query('reading a run message', 'SELECT channel, ts FROM run_messages WHERE run_id = $1 AND notifier = $2', [runId, notifier]);
    return row ? { channel: String(row['channel']), ts: String(row['ts']) } : null;
  }

  rememberRequest(key: string, staleAt: string, now: string): Promise<boolean> {
    return this.tx('remembering a request', async (tx) => {
      await tx.rows('DELETE FROM seen_requests WHERE stale_at <= $1', [now]);
      return (
        (await tx.rows('INSERT INTO seen_requests (key, stale_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key', [key, staleAt])).length === 1
      );
    });
  }

  async setRunMessage(runId: string, notifier: string, ref: MessageRef): Promise<void> {
    await this.db.query(
      'saving a run message',
      'INSERT INTO run_messages (run_id, notifier, channel, ts) VALUES ($1, $2, $3, $4) ON CONFLICT (run_id, notifier) DO UPDATE SET channel = excluded.channel, ts = excluded.ts',
      [runId, notifier, ref.channel, ref.ts],
    );
  }

  withDecisionLock<T>(fn: () => Promise<T>): Promise<T> {
    if (this.slice.getStore()?.open === true) return fn();
    return this.decisionLock.run(fn);
  }

  /** The decision lock, then one transaction that every store call of `fn` joins (by its async context). */
  withDecisionSlice<T>(fn: () => Promise<T>): Promise<T> {
    if (this.slice.getStore()?.open === true) return fn();
    return this.decisionLock.run(() =>
      this.db.run('deciding a slice', 'write', async (tx) => {
        const slice = { tx, open: true, budget: null };
        try {
          return await this.slice.run(slice, fn);
        } finally {
          slice.open = false;
        }
      }),
    );
  }

  async prune(r: { before: string; at: string; limit: number }): Promise<PruneResult> {
    const old = await this.tx('pruning old runs', (tx) => pruneRuns(tx, r.before, r.limit));
    return this.tx('pruning old events', async (tx) => {
      const { more, ...events } = await pruneEvents(tx, r.before, r.limit);
      const removed = { events: events.events, runs: old.runs, batches: old.batches, cut: events.cut };
      if (removed.events + removed.runs + removed.batches > 0) tx.append([{ kind: 'retention.pruned', at: r.at, data: { before: r.before, ...removed } }]);
      return { ...removed, more: more || old.more };
    });
  }

  renewLeases(owner: string, until: string, runIds: readonly string[]): Promise<string[]> {
    return renewLeases((text, values) => this.db.query('renewing leases', text, values), owner, until, runIds);
  }

  interruptExpired(at: string, reason: string): Promise<string[]> {
    return this.tx('interrupting runs whose lease expired', (tx) => interruptExpired(tx, at, reason));
  }

  interruptRunning(at: string, reason: string): Promise<string[]> {
    return this.tx('interrupting runs', (tx) => interruptRunning(tx, at, reason));
  }

  getRun(id: string): Promise<RunDetail | null> {
    return this.tx('reading a run', (tx) => getRun(tx, id), 'read');
  }

  listRuns(query: RunQuery): Promise<RunPage> {
    return listRuns((text, values) => this.db.query('listing runs', text, values), query);
  }

  listEvents(query: EventQuery): Promise<AuditEvent[]> {
    return listEvents((text, values) => this.db.query('listing events', text, values), query);
  }

  async auditHead(): Promise<AuditHead | null> {
    try {
      return await readAuditHead(this.pool);
    } catch (err) {
      throw this.db.error('reading the audit head', err);
    }
  }

  async auditEvents(q: { afterId: number; throughId?: number; limit: number }): Promise<ChainedEvent[]> {
    const rows = await this.db.query('reading the audit chain', `SELECT ${CHAIN_COLUMNS} FROM events WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3`, [
      q.afterId,
      q.throughId ?? Number.MAX_SAFE_INTEGER,
      q.limit,
    ]);
    return rows.map(toChainedEvent);
  }

  /** txid_current() makes the statement a write (an xid, a commit record flushed): a read-only or full database fails it. */
  async ping(): Promise<void> {
    await this.db.query('ping', 'SELECT txid_current()');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.analyzer.idle();
    await this.pool.end();
  }
}

/** The schema the connection works in when none is given. */
async function currentSchema(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ schema: string | null }>('SELECT current_schema() AS schema');
  const schema = rows[0]?.schema ?? null;
  if (schema === null) {
    throw new RemediatorError(
      'invalid_config',
      'the PostgreSQL connection has no current schema (its search_path names none that exists): give the store a schema',
    );
  }
  return schema;
}
