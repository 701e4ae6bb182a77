import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Approval, Identity } from '../../domain/approval.js';
import type { AuditHead, ChainedEvent } from '../../domain/audit-chain.js';
import type { GuardState } from '../../domain/decision.js';
import { RemediatorError } from '../../domain/errors.js';
import { isTerminal, type AuditEvent, type NewEvent, type Run, type RunDetail, type RunState, type RunStep } from '../../domain/run.js';
import type {
  ApprovalOutcome,
  ApprovalRequest,
  ApprovalVerdict,
  CircuitRecord,
  EventQuery,
  GlobalState,
  GuardQuery,
  MessageRef,
  NewBatch,
  NewRun,
  PauseRecord,
  PruneResult,
  RunQuery,
  RunTransition,
  Store,
  StoredBatch,
} from '../../domain/store.js';
import { newId } from '../ids.js';
import { CHAIN_COLUMNS, EventChainWriter, readAuditHead, toChainedEvent } from './event-chain.js';
import { MIGRATION_CODE, MIGRATIONS } from './migrations.js';
import { ProcessLock } from './process-lock.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { pruneChunk } from './retention.js';
import { toApproval, toEvent, toRun, toStep, type Row } from './rows.js';

/**
 * The embedded store. better-sqlite3 is synchronous, so each method is one transaction that
 * cannot interleave with another in this process. WAL mode; a webhook batch is committed with
 * synchronous=FULL, so it is on disk before the webhook is answered.
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

  private constructor(
    db: Database.Database,
    private readonly clock: () => Date,
    private readonly lock: ProcessLock | null,
  ) {
    this.db = db;
    this.chain = new EventChainWriter(db);
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
    this.db.pragma('synchronous = FULL');
    try {
      return this.transaction(fn)();
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
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
    let db: Database.Database;
    try {
      db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
    } catch (err) {
      lock?.release();
      throw new RemediatorError('store_unavailable', `cannot open SQLite database ${file}: ${(err as Error).message}`, { cause: err });
    }
    const store = new SqliteStore(db, clock, lock);
    try {
      store.migrate();
      // One process per file: claims left by a previous process died with it.
      if (lock !== null) db.prepare('UPDATE batches SET claimed_by = NULL, claimed_until = NULL WHERE processed_at IS NULL AND claimed_by IS NOT NULL').run();
    } catch (err) {
      db.close();
      lock?.release();
      throw err;
    }
    return store;
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    const row = this.db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
    const current = row.v ?? 0;
    if (current > MIGRATIONS.length) {
      throw new RemediatorError('store_unavailable', `database schema version ${current} is newer than this remediator knows (${MIGRATIONS.length}): upgrade remediator`);
    }
    MIGRATIONS.slice(current).forEach((sql, i) => {
      this.db.transaction(() => {
        this.db.exec(sql);
        MIGRATION_CODE.get(current + i + 1)?.(this.db);
        this.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(current + i + 1, this.clock().toISOString());
      })();
    });
  }

  private wrap<T>(what: string, fn: () => T): Promise<T> {
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
    const items = this.batchQueue.splice(0);
    if (items.length === 0) return;
    let ids: string[];
    try {
      ids = this.durably(() => items.map((item) => this.insertBatch(item.batch)));
    } catch (err) {
      const error = storeError('saving a batch', err);
      for (const item of items) item.reject(error);
      return;
    }
    items.forEach((item, i) => item.resolve(ids[i] as string));
  }

  private insertBatch(batch: NewBatch): string {
    const id = newId('b', batch.receivedAt);
    const at = batch.receivedAt.toISOString();
    this.sql('INSERT INTO batches (id, received_at, receiver, status, group_key, alert_count, payload) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      id,
      at,
      batch.receiver,
      batch.status,
      batch.groupKey,
      batch.alertCount,
      JSON.stringify(batch.payload),
    );
    this.insertEvents([
      { kind: 'batch.received', at, batchId: id, data: { receiver: batch.receiver, status: batch.status, groupKey: batch.groupKey, alerts: batch.alertCount, ...batch.source } },
    ]);
    return id;
  }

  pendingBatches(limit: number): Promise<StoredBatch[]> {
    return this.wrap('reading pending batches', () => {
      const rows = this.sql('SELECT id, received_at, payload FROM batches WHERE processed_at IS NULL ORDER BY received_at, id LIMIT ?').all(limit) as Row[];
      return rows.map((r) => ({ id: String(r['id']), receivedAt: new Date(String(r['received_at'])), payload: JSON.parse(String(r['payload'])) as unknown }));
    });
  }

  claimBatches(c: { owner: string; limit: number; until: string; now: string }): Promise<StoredBatch[]> {
    return this.wrap('claiming batches', () =>
      this.transaction(() => {
        const rows = this.sql(
          `UPDATE batches SET claimed_by = @owner, claimed_until = @until
           WHERE id IN (SELECT id FROM batches WHERE processed_at IS NULL AND (claimed_until IS NULL OR claimed_until < @now OR claimed_by = @owner)
                        ORDER BY received_at, id LIMIT @limit)
           RETURNING id, received_at, payload`,
        ).all(c) as Row[];
        return rows
          .map((r) => ({ id: String(r['id']), receivedAt: new Date(String(r['received_at'])), payload: JSON.parse(String(r['payload'])) as unknown }))
          .sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime() || (a.id < b.id ? -1 : 1));
      })(),
    );
  }

  withDecisionLock<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.decisionTail.then(fn, fn);
    this.decisionTail = result.catch(() => undefined);
    return result;
  }

  renewLeases(owner: string, until: string): Promise<number> {
    return this.wrap('renewing leases', () => this.sql("UPDATE runs SET lease_until = ? WHERE owner = ? AND state = 'running'").run(until, owner).changes);
  }

  interruptExpired(at: string, reason: string): Promise<string[]> {
    return this.wrap('interrupting runs whose lease expired', () => this.transaction(() => this.interruptWhere("lease_until IS NOT NULL AND lease_until < ?", [at], at, reason))());
  }

  countPendingBatches(): Promise<number> {
    return this.wrap('counting pending batches', () => (this.sql('SELECT COUNT(*) AS n FROM batches WHERE processed_at IS NULL').get() as { n: number }).n);
  }

  markBatchProcessed(id: string, event: NewEvent): Promise<void> {
    return this.wrap('marking a batch processed', () =>
      this.transaction(() => {
        this.sql('UPDATE batches SET processed_at = ? WHERE id = ?').run(this.clock().toISOString(), id);
        this.insertEvents([event], { batchId: id });
      })(),
    );
  }

  guardState(q: GuardQuery): Promise<GuardState> {
    return this.wrap('reading guard state', () => {
      const instance = this.sql('SELECT id, state FROM runs WHERE playbook = ? AND instance_key = ?').get(q.playbook, q.instanceKey) as Row | undefined;
      const active = this.sql('SELECT id, state FROM runs WHERE playbook = ? AND active_key = ?').get(q.playbook, q.targetKey) as Row | undefined;
      const last = this.sql('SELECT created_at FROM runs WHERE playbook = ? AND target_key = ? ORDER BY created_at DESC LIMIT 1')
        .get(q.playbook, q.targetKey) as Row | undefined;
      const locker = q.lockKey ? (this.sql('SELECT id, playbook, state FROM runs WHERE active_lock = ?').get(q.lockKey) as Row | undefined) : undefined;
      const pause = this.readPause();
      const circuit = this.readCircuit();
      const recent =
        q.since === null
          ? 0
          : (this.sql('SELECT COUNT(*) AS n FROM runs WHERE playbook = ? AND created_at >= ?').get(q.playbook, q.since.toISOString()) as { n: number }).n;
      return {
        instanceRun: instance ? { id: String(instance['id']), state: String(instance['state']) } : null,
        activeRun: active ? { id: String(active['id']), state: String(active['state']) } : null,
        lastRunAt: last ? new Date(String(last['created_at'])) : null,
        recentRuns: recent,
        lockedBy: locker ? { id: String(locker['id']), playbook: String(locker['playbook']), state: String(locker['state']) } : null,
        paused: pause && pause.resumedAt === null ? { at: new Date(pause.pausedAt), until: new Date(pause.until), reason: pause.reason, by: pause.by } : null,
        circuit: circuit && circuit.closedAt === null ? { openedAt: new Date(circuit.openedAt), reason: circuit.reason } : null,
        liveRunsInWindow: this.liveRunsSince(q.budgetSince ?? null, circuit),
      };
    });
  }

  /**
   * Live runs that were allowed to act (not those refused before any step, which have no steps),
   * created since `since` and since the circuit last closed: a person who closes the circuit
   * starts a fresh budget.
   */
  private liveRunsSince(since: Date | null, circuit: CircuitRecord | null): number {
    if (since === null) return 0;
    const from = circuit?.closedAt && circuit.closedAt > since.toISOString() ? circuit.closedAt : since.toISOString();
    return (
      this.sql(LIVE_RUNS_SQL).get(from) as {
        n: number;
      }
    ).n;
  }

  private readPause(): PauseRecord | null {
    const row = this.sql('SELECT * FROM pause WHERE id = 1').get() as Row | undefined;
    if (!row) return null;
    return {
      pausedAt: String(row['paused_at']),
      until: String(row['until']),
      reason: String(row['reason']),
      by: String(row['paused_by']),
      resumedAt: (row['resumed_at'] as string | null) ?? null,
      resumedBy: (row['resumed_by'] as string | null) ?? null,
    };
  }

  private readCircuit(): CircuitRecord | null {
    const row = this.sql('SELECT * FROM circuit WHERE id = 1').get() as Row | undefined;
    if (!row) return null;
    return {
      openedAt: String(row['opened_at']),
      reason: String(row['reason']),
      openedBy: String(row['opened_by']),
      closedAt: (row['closed_at'] as string | null) ?? null,
      closedBy: (row['closed_by'] as string | null) ?? null,
      closeNote: (row['close_note'] as string | null) ?? null,
    };
  }

  globalState(q: { budgetSince: Date | null }): Promise<GlobalState> {
    return this.wrap('reading the pause and circuit', () => {
      const circuit = this.readCircuit();
      return { pause: this.readPause(), circuit, liveRunsInWindow: this.liveRunsSince(q.budgetSince, circuit) };
    });
  }

  setPause(p: { at: string; until: string; reason: string; by: string; via: string }): Promise<PauseRecord> {
    return this.wrap('setting the pause', () =>
      this.transaction(() => {
        const before = this.readPause();
        this.sql(
          `INSERT INTO pause (id, paused_at, until, reason, paused_by) VALUES (1, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET paused_at = excluded.paused_at, until = excluded.until, reason = excluded.reason,
             paused_by = excluded.paused_by, resumed_at = NULL, resumed_by = NULL`,
        ).run(p.at, p.until, p.reason, p.by);
        const replaced = before && before.resumedAt === null && before.until > p.at ? { replaced: { until: before.until, by: before.by, reason: before.reason } } : {};
        this.insertEvents([{ kind: 'paused', at: p.at, data: { until: p.until, reason: p.reason, by: p.by, via: p.via, ...replaced } }]);
        return this.readPause() as PauseRecord;
      })(),
    );
  }

  endPause(e: { at: string; by: string; via: string }): Promise<PauseRecord | null> {
    return this.wrap('lifting the pause', () =>
      this.transaction(() => {
        const result = this.sql('UPDATE pause SET resumed_at = ?, resumed_by = ? WHERE id = 1 AND resumed_at IS NULL AND until > ?').run(e.at, e.by, e.at);
        if (result.changes === 0) return null;
        const pause = this.readPause() as PauseRecord;
        this.insertEvents([{ kind: 'resumed', at: e.at, data: { by: e.by, via: e.via, pausedBy: pause.by, pausedAt: pause.pausedAt, until: pause.until, reason: pause.reason } }]);
        return pause;
      })(),
    );
  }

  openCircuit(o: { at: string; reason: string; by: string }): Promise<CircuitRecord | null> {
    return this.wrap('opening the circuit', () =>
      this.transaction(() => {
        // Conditional: of two deciders that both spent the last of the budget, one opens it.
        const result = this.sql(
          `INSERT INTO circuit (id, opened_at, reason, opened_by) VALUES (1, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET opened_at = excluded.opened_at, reason = excluded.reason, opened_by = excluded.opened_by,
             closed_at = NULL, closed_by = NULL, close_note = NULL
           WHERE circuit.closed_at IS NOT NULL`,
        ).run(o.at, o.reason, o.by);
        if (result.changes === 0) return null;
        this.insertEvents([{ kind: 'circuit.opened', at: o.at, data: { reason: o.reason, by: o.by } }]);
        return this.readCircuit();
      })(),
    );
  }

  closeCircuit(c: { at: string; by: string; via: string; note: string }): Promise<CircuitRecord | null> {
    return this.wrap('closing the circuit', () =>
      this.transaction(() => {
        const result = this.sql('UPDATE circuit SET closed_at = ?, closed_by = ?, close_note = ? WHERE id = 1 AND closed_at IS NULL').run(c.at, c.by, c.note);
        if (result.changes === 0) return null;
        const circuit = this.readCircuit() as CircuitRecord;
        this.insertEvents([{ kind: 'circuit.closed', at: c.at, data: { by: c.by, via: c.via, note: c.note, openedAt: circuit.openedAt, reason: circuit.reason } }]);
        return circuit;
      })(),
    );
  }

  createRun(run: NewRun, steps: RunStep[], events: NewEvent[]): Promise<Run | null> {
    return this.wrap('creating a run', () =>
      this.transaction(() => {
        const result = this.sql(
            `INSERT INTO runs (id, playbook, playbook_hash, batch_id, alertname, fingerprint, starts_at, instance_key, target_key, active_key,
               lock_key, active_lock, dry_run, needs_approval, generator_url, state, reason, params, labels, annotations, created_at, updated_at)
             VALUES (@id, @playbook, @playbookHash, @batchId, @alertname, @fingerprint, @startsAt, @instanceKey, @targetKey, @activeKey,
               @lockKey, @activeLock, @dryRun, @needsApproval, @generatorUrl, @state, @reason, @params, @labels, @annotations, @createdAt, @createdAt)
             ON CONFLICT DO NOTHING`,
          )
          .run({
            ...run,
            activeKey: isTerminal(run.state) ? null : run.targetKey,
            lockKey: run.lockKey ?? null,
            activeLock: isTerminal(run.state) ? null : (run.lockKey ?? null),
            dryRun: run.dryRun ? 1 : 0,
            needsApproval: run.needsApproval === true ? 1 : 0,
            generatorUrl: run.generatorUrl ?? null,
            params: JSON.stringify(run.params),
            labels: JSON.stringify(run.labels),
            annotations: JSON.stringify(run.annotations),
          });
        if (result.changes === 0) return null;
        const insertStep = this.sql(
          `INSERT INTO run_steps (run_id, phase, idx, name, kind, read_only, rendered, deferred, state)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        );
        for (const s of steps) {
          insertStep.run(run.id, s.phase, s.index, s.name, s.kind, s.readOnly ? 1 : 0, JSON.stringify(s.rendered), s.deferred ? 1 : 0, s.state);
        }
        this.insertEvents(events, { runId: run.id, batchId: run.batchId, playbook: run.playbook, fingerprint: run.fingerprint, at: run.createdAt });
        return toRun(this.sql('SELECT * FROM runs WHERE id = ?').get(run.id) as Row);
      })(),
    );
  }

  transitionRun(id: string, change: RunTransition): Promise<boolean> {
    return this.wrap('updating a run', () =>
      (change.durable ? this.durably.bind(this) : <T>(fn: () => T) => this.transaction(fn)())(() => this.applyTransition(id, change)),
    );
  }

  /** The body of transitionRun, for use inside a transaction. */
  private applyTransition(id: string, change: RunTransition): boolean {
    const placeholders = change.from.map(() => '?').join(', ');
    const terminal = isTerminal(change.to);
    const result = this.sql(
      `UPDATE runs SET state = ?, reason = COALESCE(?, reason), updated_at = ?,
           finished_at = CASE WHEN ? THEN ? ELSE finished_at END,
           active_key = CASE WHEN ? THEN NULL ELSE active_key END,
           active_lock = CASE WHEN ? THEN NULL ELSE active_lock END,
         owner = COALESCE(?, owner), lease_until = COALESCE(?, lease_until)
       WHERE id = ? AND state IN (${placeholders})`,
    ).run(change.to, change.reason ?? null, change.at, terminal ? 1 : 0, change.at, terminal ? 1 : 0, terminal ? 1 : 0, change.lease?.owner ?? null, change.lease?.until ?? null, id, ...change.from);
    if (result.changes === 0) return false;
    const updateStep = this.sql(
      `UPDATE run_steps SET state = @state, rendered = COALESCE(@rendered, rendered),
         started_at = COALESCE(@startedAt, started_at), finished_at = COALESCE(@finishedAt, finished_at),
         exit_code = COALESCE(@exitCode, exit_code), output = COALESCE(@output, output), error = COALESCE(@error, error),
         vars = COALESCE(@vars, vars)
       WHERE run_id = @runId AND phase = @phase AND idx = @index`,
    );
    for (const s of change.steps ?? []) {
      updateStep.run({
        runId: id,
        phase: s.phase,
        index: s.index,
        state: s.state,
        rendered: s.rendered === undefined ? null : JSON.stringify(s.rendered),
        startedAt: s.startedAt ?? null,
        finishedAt: s.finishedAt ?? null,
        exitCode: s.exitCode ?? null,
        output: s.output ?? null,
        error: s.error ?? null,
        vars: s.vars == null ? null : JSON.stringify(s.vars),
      });
    }
    this.insertEvents(change.events ?? [], { ...this.runEventBase(id), at: change.at });
    return true;
  }

  holdForApproval(runId: string, request: ApprovalRequest): Promise<Approval | null> {
    return this.wrap('holding a run for approval', () =>
      this.transaction(() => {
        const held = this.applyTransition(runId, {
          from: ['running'],
          to: 'awaiting_approval',
          at: request.at,
          reason: `awaiting approval before step ${request.stepName} until ${request.expiresAt}`,
          ...(request.steps ? { steps: request.steps } : {}),
          events: [{ kind: 'run.state', data: { from: 'running', to: 'awaiting_approval', step: request.stepName } }],
        });
        if (!held) return null;
        const seq = (this.sql('SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM approvals WHERE run_id = ?').get(runId) as { n: number }).n;
        this.sql(
          `INSERT INTO approvals (run_id, seq, phase, step_idx, step_name, requested_at, expires_at, approvers, message)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(runId, seq, request.phase, request.stepIndex, request.stepName, request.at, request.expiresAt, JSON.stringify(request.approvers), request.message);
        const approval = this.readApproval(runId, seq) as Approval;
        this.insertEvents([
          {
            kind: 'approval.requested',
            at: request.at,
            data: { seq, step: request.stepName, phase: request.phase, expiresAt: request.expiresAt, approvers: request.approvers, message: request.message },
          },
        ], this.runEventBase(runId));
        return approval;
      })(),
    );
  }

  decideApproval(d: ApprovalVerdict): Promise<ApprovalOutcome> {
    return this.wrap('deciding an approval', () =>
      // Durable: an approval is what lets the caller act on the world next.
      this.durably((): ApprovalOutcome => {
        const row = this.sql('SELECT * FROM runs WHERE id = ?').get(d.runId) as Row | undefined;
        if (!row) return { ok: false, why: 'not_found', run: null, approval: null };
        const open = this.sql('SELECT * FROM approvals WHERE run_id = ? AND decision IS NULL ORDER BY seq DESC LIMIT 1').get(d.runId) as Row | undefined;
        if (row['state'] !== 'awaiting_approval' || !open || (d.seq !== undefined && Number(open['seq']) !== d.seq)) {
          const last = this.sql('SELECT * FROM approvals WHERE run_id = ? ORDER BY seq DESC LIMIT 1').get(d.runId) as Row | undefined;
          return { ok: false, why: 'not_awaiting', run: toRun(row), approval: last ? toApproval(last) : null };
        }
        const request = toApproval(open);
        if (request.expiresAt <= d.at) {
          this.expireOne(d.runId, request, d.at);
          return { ok: false, why: 'expired', run: toRun(this.sql('SELECT * FROM runs WHERE id = ?').get(d.runId) as Row), approval: this.readApproval(d.runId, request.seq) };
        }
        const approved = d.verdict === 'approve';
        const to = approved ? 'running' : 'rejected';
        const who = `${d.by.id} via ${d.by.via}`;
        const closed = this.closeOpenApproval(d.runId, approved ? 'approved' : 'rejected', d.by, d.comment, d.at) as Approval;
        this.applyTransition(d.runId, {
          from: ['awaiting_approval'],
          to,
          at: d.at,
          ...(approved && d.lease ? { lease: d.lease } : {}),
          reason: approved ? `approved by ${who}` : `rejected by ${who}${d.comment ? `: ${d.comment}` : ''}`,
          events: [
            {
              kind: approved ? 'approval.granted' : 'approval.rejected',
              data: { seq: closed.seq, step: closed.stepName, by: d.by.id, via: d.by.via, ...(d.by.name ? { name: d.by.name } : {}), comment: d.comment },
            },
            { kind: 'run.state', data: { from: 'awaiting_approval', to, by: d.by.id, via: d.by.via } },
          ],
        });
        return { ok: true, approval: closed, run: toRun(this.sql('SELECT * FROM runs WHERE id = ?').get(d.runId) as Row) };
      }),
    );
  }

  expireApprovals(at: string): Promise<string[]> {
    return this.wrap('expiring approvals', () =>
      this.transaction(() => {
        const due = (this.sql('SELECT * FROM approvals WHERE decision IS NULL AND expires_at <= ? ORDER BY expires_at').all(at) as Row[]).map(toApproval);
        return due.filter((a) => this.expireOne(a.runId, a, at)).map((a) => a.runId);
      })(),
    );
  }

  /** Expires one open request and its run; false when the run was not held (nothing written). */
  private expireOne(runId: string, request: Approval, at: string): boolean {
    const reason = `no decision on the approval before step ${request.stepName} by ${request.expiresAt}`;
    const moved = this.applyTransition(runId, {
      from: ['awaiting_approval'],
      to: 'expired',
      at,
      reason,
      events: [
        { kind: 'approval.expired', data: { seq: request.seq, step: request.stepName, requestedAt: request.requestedAt, expiresAt: request.expiresAt } },
        { kind: 'run.state', data: { from: 'awaiting_approval', to: 'expired', reason } },
      ],
    });
    this.closeOpenApproval(runId, 'expired', { id: 'remediator', via: 'system' }, null, at);
    return moved;
  }

  nextApprovalExpiry(): Promise<string | null> {
    return this.wrap('reading approval expiry', () => {
      const row = this.sql('SELECT MIN(expires_at) AS at FROM approvals WHERE decision IS NULL').get() as { at: string | null };
      return row.at;
    });
  }

  countRunsInProgress(): Promise<Partial<Record<RunState, number>>> {
    return this.wrap('counting runs in progress', () =>
      Object.fromEntries(
        (this.sql("SELECT state, COUNT(*) AS n FROM runs WHERE state IN ('pending', 'awaiting_approval', 'running') GROUP BY state").all() as { state: string; n: number }[]).map((r) => [
          r.state,
          r.n,
        ]),
      ),
    );
  }

  countOpenApprovals(): Promise<number> {
    return this.wrap('counting approvals', () => (this.sql('SELECT COUNT(*) AS n FROM approvals WHERE decision IS NULL').get() as { n: number }).n);
  }

  cancelRun(runId: string, c: { at: string; by: Identity; reason: string }): Promise<RunState | null> {
    return this.wrap('cancelling a run', () =>
      this.transaction((): RunState | null => {
        const row = this.sql('SELECT state FROM runs WHERE id = ?').get(runId) as Row | undefined;
        const from = row?.['state'] as RunState | undefined;
        if (from !== 'pending' && from !== 'awaiting_approval') return null;
        const closed = this.closeOpenApproval(runId, 'cancelled', c.by, c.reason, c.at);
        this.applyTransition(runId, {
          from: [from],
          to: 'cancelled',
          at: c.at,
          reason: `cancelled by ${c.by.id} via ${c.by.via}: ${c.reason}`,
          events: [
            ...(closed ? [{ kind: 'approval.cancelled' as const, data: { seq: closed.seq, step: closed.stepName, by: c.by.id, via: c.by.via, reason: c.reason } }] : []),
            { kind: 'run.state', data: { from, to: 'cancelled', by: c.by.id, via: c.by.via, reason: c.reason } },
          ],
        });
        return from;
      })(),
    );
  }

  /** Decides the run's open request, if any; returns it as decided. Inside a transaction only. */
  private closeOpenApproval(runId: string, decision: Approval['decision'], by: Identity, comment: string | null, at: string): Approval | null {
    const row = this.sql(
      `UPDATE approvals SET decision = ?, decided_by = ?, decided_via = ?, decided_at = ?, comment = ?
       WHERE run_id = ? AND decision IS NULL RETURNING seq`,
    ).get(decision, by.id, by.via, at, comment, runId) as { seq: number } | undefined;
    return row ? this.readApproval(runId, row.seq) : null;
  }

  private readApproval(runId: string, seq: number): Approval | null {
    const row = this.sql('SELECT * FROM approvals WHERE run_id = ? AND seq = ?').get(runId, seq) as Row | undefined;
    return row ? toApproval(row) : null;
  }

  /** What every event of a run carries. */
  private runEventBase(runId: string): Partial<NewEvent> {
    const run = this.sql('SELECT playbook, fingerprint, batch_id FROM runs WHERE id = ?').get(runId) as Row;
    return { runId, playbook: String(run['playbook']), fingerprint: String(run['fingerprint']), batchId: (run['batch_id'] as string | null) ?? null };
  }

  runMessage(runId: string, notifier: string): Promise<MessageRef | null> {
    return this.wrap('reading a run message', () => {
      const row = this.sql('SELECT channel, ts FROM run_messages WHERE run_id = ? AND notifier = ?').get(runId, notifier) as Row | undefined;
      return row ? { channel: String(row['channel']), ts: String(row['ts']) } : null;
    });
  }

  setRunMessage(runId: string, notifier: string, ref: MessageRef): Promise<void> {
    return this.wrap('saving a run message', () => {
      this.sql('INSERT INTO run_messages (run_id, notifier, channel, ts) VALUES (?, ?, ?, ?) ON CONFLICT (run_id, notifier) DO UPDATE SET channel = excluded.channel, ts = excluded.ts').run(
        runId,
        notifier,
        ref.channel,
        ref.ts,
      );
    });
  }

  appendEvents(events: NewEvent[]): Promise<void> {
    return this.wrap('appending events', () => this.transaction(() => this.insertEvents(events))());
  }

  recordResolved(fingerprint: string, startsAt: string, at: string, endsAt: string | null = null): Promise<string[]> {
    return this.wrap('recording a resolve', () =>
      this.transaction(() => {
        let rows = this.sql('UPDATE runs SET resolved_at = ?, updated_at = ? WHERE fingerprint = ? AND starts_at = ? AND resolved_at IS NULL RETURNING id, playbook, starts_at')
          .all(at, at, fingerprint, startsAt) as Row[];
        const known = rows.length > 0 || this.sql('SELECT 1 FROM runs WHERE fingerprint = ? AND starts_at = ? LIMIT 1').get(fingerprint, startsAt) !== undefined;
        if (!known) {
          // Alertmanager can move an instance's startsAt (an alert re-added with an earlier start
          // merges into it): a resolve of the fingerprint still ends the earlier, unresolved runs
          // of it — those that started by the time it ended, not a later instance's.
          rows = this.sql(
            'UPDATE runs SET resolved_at = ?, updated_at = ? WHERE fingerprint = ? AND resolved_at IS NULL AND created_at <= ? AND starts_at <= ? RETURNING id, playbook, starts_at',
          ).all(at, at, fingerprint, at, endsAt ?? at) as Row[];
        }
        this.insertEvents(
          rows.map((r) => ({
            kind: 'alert.resolved',
            at,
            runId: String(r['id']),
            playbook: String(r['playbook']),
            fingerprint,
            data: { startsAt, ...(r['starts_at'] === startsAt ? {} : { runStartsAt: String(r['starts_at']) }) },
          })),
        );
        return rows.map((r) => String(r['id']));
      })(),
    );
  }

  cancelNotStarted(fingerprint: string, startsAt: string, at: string, reason: string, exceptPlaybooks: readonly string[] = []): Promise<string[]> {
    return this.wrap('cancelling runs', () =>
      this.transaction(() => {
        const rows = this.sql(
          `UPDATE runs SET state = 'cancelled', reason = ?, updated_at = ?, finished_at = ?, active_key = NULL, active_lock = NULL
           WHERE fingerprint = ? AND (starts_at = ? OR resolved_at IS NOT NULL) AND state IN ('pending', 'awaiting_approval')
             AND playbook NOT IN (SELECT value FROM json_each(?))
           RETURNING id, playbook, batch_id`,
        ).all(reason, at, at, fingerprint, startsAt, JSON.stringify(exceptPlaybooks)) as Row[];
        for (const r of rows) {
          const base = { at, runId: String(r['id']), playbook: String(r['playbook']), fingerprint, batchId: (r['batch_id'] as string | null) ?? null };
          const closed = this.closeOpenApproval(String(r['id']), 'cancelled', { id: 'remediator', via: 'system' }, reason, at);
          this.insertEvents([
            ...(closed ? [{ ...base, kind: 'approval.cancelled' as const, data: { seq: closed.seq, step: closed.stepName, reason } }] : []),
            { ...base, kind: 'run.state', data: { to: 'cancelled', reason } },
          ]);
        }
        return rows.map((r) => String(r['id']));
      })(),
    );
  }

  interruptRunning(at: string, reason: string): Promise<string[]> {
    return this.wrap('interrupting runs', () => this.transaction(() => this.interruptWhere('1 = 1', [], at, reason))());
  }

  /** Interrupts the running runs that also match `where`, with their running step; inside a transaction. */
  private interruptWhere(where: string, args: unknown[], at: string, reason: string): string[] {
    const rows = this.sql(
      `UPDATE runs SET state = 'interrupted', reason = ?, updated_at = ?, finished_at = ?, active_key = NULL, active_lock = NULL
       WHERE state = 'running' AND ${where} RETURNING id, playbook, fingerprint, owner`,
    ).all(reason, at, at, ...args) as Row[];
    // A step that was running may or may not have done its work: say so, never "running" forever.
    const closeStep = this.sql("UPDATE run_steps SET state = 'interrupted', finished_at = ?, error = ? WHERE run_id = ? AND state = 'running'");
    for (const r of rows) closeStep.run(at, 'the daemon stopped while this step ran: it may or may not have completed', String(r['id']));
    this.insertEvents(
      rows.map((r) => ({
        kind: 'run.state',
        at,
        runId: String(r['id']),
        playbook: String(r['playbook']),
        fingerprint: String(r['fingerprint']),
        data: { from: 'running', to: 'interrupted', reason, ...(typeof r['owner'] === 'string' ? { owner: r['owner'] } : {}) },
      })),
    );
    return rows.map((r) => String(r['id']));
  }

  getRun(id: string): Promise<RunDetail | null> {
    return this.wrap('reading a run', () => {
      const row = this.sql('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined;
      if (!row) return null;
      const steps = (this.sql("SELECT * FROM run_steps WHERE run_id = ? ORDER BY phase = 'onFailure', idx").all(id) as Row[]).map(toStep);
      const approvals = (this.sql('SELECT * FROM approvals WHERE run_id = ? ORDER BY seq').all(id) as Row[]).map(toApproval);
      const events = (this.sql('SELECT * FROM events WHERE run_id = ? ORDER BY id').all(id) as Row[]).map(toEvent);
      return { ...toRun(row), steps, approvals, events };
    });
  }

  listRuns(q: RunQuery): Promise<{ runs: Run[]; next: string | null }> {
    return this.wrap('listing runs', () => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (q.state) {
        where.push('state = ?');
        args.push(q.state);
      }
      if (q.playbook) {
        where.push('playbook = ?');
        args.push(q.playbook);
      }
      if (q.cursor) {
        where.push('id < ?');
        args.push(decodeCursor(q.cursor));
      }
      const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
      const rows = this.sql(sql).all(...args, q.limit + 1) as Row[];
      const runs = rows.slice(0, q.limit).map(toRun);
      const last = runs[runs.length - 1];
      return { runs, next: rows.length > q.limit && last ? encodeCursor(last.id) : null };
    });
  }

  listEvents(q: EventQuery): Promise<AuditEvent[]> {
    return this.wrap('listing events', () => {
      const where: string[] = [];
      const args: unknown[] = [];
      const add = (clause: string, value: unknown) => {
        where.push(clause);
        args.push(value);
      };
      if (q.runId !== undefined) add('run_id = ?', q.runId);
      if (q.playbook !== undefined) add('playbook = ?', q.playbook);
      if (q.kind !== undefined) add('kind = ?', q.kind);
      if (q.since !== undefined) add('at >= ?', q.since);
      if (q.until !== undefined) add('at < ?', q.until);
      if (q.afterId !== undefined) add('id > ?', q.afterId);
      const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
      // With a time window and no run, ordering by id would lead the planner to walk the table
      // from the first event; `+id` makes it pick the ids through the time indexes first (a
      // million events: 300 ms → 1 ms for the last day; bench/listing.ts).
      const sql =
        q.since !== undefined && q.runId === undefined
          ? `SELECT * FROM events WHERE id IN (SELECT id FROM events ${filter} ORDER BY +id LIMIT ?) ORDER BY id`
          : `SELECT * FROM events ${filter} ORDER BY id LIMIT ?`;
      return (this.sql(sql).all(...args, q.limit) as Row[]).map(toEvent);
    });
  }

  auditHead(): Promise<AuditHead | null> {
    return this.wrap('reading the audit head', () => readAuditHead(this.db));
  }

  auditEvents(q: { afterId: number; throughId?: number; limit: number }): Promise<ChainedEvent[]> {
    return this.wrap('reading the audit chain', () =>
      (this.sql(`SELECT ${CHAIN_COLUMNS} FROM events WHERE id > ? AND id <= ? ORDER BY id LIMIT ?`).all(q.afterId, q.throughId ?? Number.MAX_SAFE_INTEGER, q.limit) as Row[]).map(
        toChainedEvent,
      ),
    );
  }

  prune(r: { before: string; at: string; limit: number }): Promise<PruneResult> {
    return this.wrap('pruning old records', () =>
      this.transaction((): PruneResult => {
        const { moreDue, ...removed } = pruneChunk(this.db, r.before, r.limit);
        if (removed.events + removed.runs + removed.batches > 0) {
          this.insertEvents([{ kind: 'retention.pruned', at: r.at, data: { before: r.before, ...removed } }]);
        }
        return { ...removed, more: moreDue };
      })(),
    );
  }

  ping(): Promise<void> {
    return this.wrap('ping', () => {
      this.sql('SELECT 1').get();
    });
  }

  close(): Promise<void> {
    this.flushBatches();
    if (this.db.open) {
      this.db.close();
      this.lock?.release();
    }
    return Promise.resolve();
  }
}

/**
 * Live runs that may act, for the budget: created since a time, with steps (a run refused for its
 * params has none), and not ended without acting — rejected or expired requests, and runs
 * cancelled before any step started, spent nothing.
 */
const LIVE_RUNS_SQL = `SELECT COUNT(*) AS n FROM runs WHERE dry_run = 0 AND created_at >= ?
  AND state NOT IN ('rejected', 'expired')
  AND EXISTS (SELECT 1 FROM run_steps s WHERE s.run_id = runs.id)
  AND NOT (state = 'cancelled' AND NOT EXISTS (SELECT 1 FROM run_steps s WHERE s.run_id = runs.id AND s.started_at IS NOT NULL))`;

/** Disk full, read-only file, locked or closed database: all worth a retry by the caller. */
function storeError(what: string, err: unknown): RemediatorError {
  if (err instanceof RemediatorError) return err;
  return new RemediatorError('store_unavailable', `store: ${what} failed: ${(err as Error).message}`, { retryable: true, cause: err });
}
