import { isTerminal, type NewEvent, type Run, type RunStep } from '../../domain/run.js';
import type { NewRun, RunTransition } from '../../domain/store.js';
import type { SqliteContext } from './context.js';
import { toRun, type Row } from '../rows.js';

/**
 * Creates a run with its steps and events; null, writing nothing, when a unique index refuses it
 * (same instance, same active target, same active lock).
 */
export function createRun(ctx: SqliteContext, run: NewRun, steps: RunStep[], events: NewEvent[]): Run | null {
  const result = ctx
    .sql(
      `INSERT INTO runs (id, playbook, playbook_hash, batch_id, alertname, fingerprint, starts_at, instance_key, target_key, active_key,
         lock_key, active_lock, dry_run, needs_approval, generator_url, state, reason, params, labels, annotations, created_at, updated_at, storm_id)
       VALUES (@id, @playbook, @playbookHash, @batchId, @alertname, @fingerprint, @startsAt, @instanceKey, @targetKey, @activeKey,
         @lockKey, @activeLock, @dryRun, @needsApproval, @generatorUrl, @state, @reason, @params, @labels, @annotations, @createdAt, @createdAt, @stormId)
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
      stormId: run.stormId ?? null,
      params: JSON.stringify(run.params),
      labels: JSON.stringify(run.labels),
      annotations: JSON.stringify(run.annotations),
    });
  if (result.changes === 0) return null;
  insertSteps(ctx, run.id, steps);
  ctx.insertEvents(events, { runId: run.id, batchId: run.batchId, playbook: run.playbook, fingerprint: run.fingerprint, at: run.createdAt });
  return toRun(ctx.sql('SELECT * FROM runs WHERE id = ?').get(run.id) as Row);
}

/** Inserts a run's planned steps. */
export function insertSteps(ctx: SqliteContext, runId: string, steps: readonly RunStep[]): void {
  const insertStep = ctx.sql(
    `INSERT INTO run_steps (run_id, phase, idx, name, kind, read_only, rendered, deferred, state)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const s of steps) {
    insertStep.run(runId, s.phase, s.index, s.name, s.kind, s.readOnly ? 1 : 0, JSON.stringify(s.rendered), s.deferred ? 1 : 0, s.state);
  }
}

/**
 * The body of transitionRun, for use inside a transaction: moves a run from one of `change.from`
 * to `change.to` with its steps and events; false, writing nothing, when it is in none of `from`.
 */
export function applyTransition(ctx: SqliteContext, id: string, change: RunTransition): boolean {
  const placeholders = change.from.map(() => '?').join(', ');
  const terminal = isTerminal(change.to);
  const result = ctx
    .sql(
      `UPDATE runs SET state = ?, reason = COALESCE(?, reason), updated_at = ?,
         finished_at = CASE WHEN ? THEN ? ELSE finished_at END,
         active_key = CASE WHEN ? THEN NULL ELSE active_key END,
         active_lock = CASE WHEN ? THEN NULL ELSE active_lock END,
       owner = COALESCE(?, owner), lease_until = COALESCE(?, lease_until)
     WHERE id = ? AND state IN (${placeholders})`,
    )
    .run(
      change.to,
      change.reason ?? null,
      change.at,
      terminal ? 1 : 0,
      change.at,
      terminal ? 1 : 0,
      terminal ? 1 : 0,
      change.lease?.owner ?? null,
      change.lease?.until ?? null,
      id,
      ...change.from,
    );
  if (result.changes === 0) return false;
  const updateStep = ctx.sql(
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
  ctx.insertEvents(change.events ?? [], { ...runEventBase(ctx, id), at: change.at });
  return true;
}

/** What every event of a run carries. */
export function runEventBase(ctx: SqliteContext, runId: string): Partial<NewEvent> {
  const run = ctx.sql('SELECT playbook, fingerprint, batch_id FROM runs WHERE id = ?').get(runId) as Row;
  return { runId, playbook: String(run['playbook']), fingerprint: String(run['fingerprint']), batchId: (run['batch_id'] as string | null) ?? null };
}
