import { isTerminal, type NewEvent, type Run, type RunStep } from '../../domain/run.js';
import type { NewRun, RunTransition } from '../../domain/store.js';
import { toRun } from '../rows.js';
import type { Tx } from './transaction.js';

/** What every event of a run carries. */
export type RunEventBase = Required<Pick<NewEvent, 'runId' | 'playbook' | 'fingerprint' | 'batchId'>>;

/**
 * Creates a run with its steps and events; null, writing nothing, when a unique index refuses it
 * (same instance, same active target, same active lock). ON CONFLICT DO NOTHING without a target
 * yields to every unique index, the partial ones included; a concurrent insert of a conflicting
 * row makes this one wait for that transaction's end, then do nothing (or insert, if it rolled back).
 */
export async function createRun(tx: Tx, run: NewRun, steps: readonly RunStep[], events: readonly NewEvent[]): Promise<Run | null> {
  const terminal = isTerminal(run.state);
  const row = await tx.row(
    `INSERT INTO runs (id, playbook, playbook_hash, batch_id, alertname, fingerprint, starts_at, instance_key, target_key, active_key,
       lock_key, active_lock, dry_run, needs_approval, generator_url, state, reason, params, labels, annotations, created_at, updated_at, storm_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $21, $22)
     ON CONFLICT DO NOTHING
     RETURNING *`,
    [
      run.id,
      run.playbook,
      run.playbookHash,
      run.batchId,
      run.alertname,
      run.fingerprint,
      run.startsAt,
      run.instanceKey,
      run.targetKey,
      terminal ? null : run.targetKey,
      run.lockKey ?? null,
      terminal ? null : (run.lockKey ?? null),
      run.dryRun,
      run.needsApproval === true,
      run.generatorUrl ?? null,
      run.state,
      run.reason,
      JSON.stringify(run.params),
      JSON.stringify(run.labels),
      JSON.stringify(run.annotations),
      run.createdAt,
      run.stormId ?? null,
    ],
  );
  if (row === undefined) return null;
  await insertSteps(tx, run.id, steps);
  tx.append(events, { runId: run.id, batchId: run.batchId, playbook: run.playbook, fingerprint: run.fingerprint, at: run.createdAt });
  return toRun(row);
}

/** Inserts a run's planned steps, in one statement. */
export async function insertSteps(tx: Tx, runId: string, steps: readonly RunStep[]): Promise<void> {
  if (steps.length === 0) return;
  await tx.rows(
    `INSERT INTO run_steps (run_id, phase, idx, name, kind, read_only, rendered, deferred, state)
     SELECT $1::text, * FROM unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::boolean[], $7::text[], $8::boolean[], $9::text[])`,
    [
      runId,
      steps.map((s) => s.phase),
      steps.map((s) => s.index),
      steps.map((s) => s.name),
      steps.map((s) => s.kind),
      steps.map((s) => s.readOnly),
      steps.map((s) => JSON.stringify(s.rendered)),
      steps.map((s) => s.deferred),
      steps.map((s) => s.state),
    ],
  );
}

/**
 * Moves a run from one of `change.from` to `change.to` with its steps and events; returns what its
 * events carry, or null, writing nothing, when the run is in none of `from`. The UPDATE is the
 * condition: a concurrent one waits for the row, then checks the state it finds.
 */
export async function applyTransition(tx: Tx, id: string, change: RunTransition): Promise<RunEventBase | null> {
  const terminal = isTerminal(change.to);
  const row = await tx.row(
    `UPDATE runs SET state = $1, reason = COALESCE($2, reason), updated_at = $3,
         finished_at = CASE WHEN $4::boolean THEN $3 ELSE finished_at END,
         active_key = CASE WHEN $4::boolean THEN NULL ELSE active_key END,
         active_lock = CASE WHEN $4::boolean THEN NULL ELSE active_lock END,
         owner = COALESCE($7, owner), lease_until = COALESCE($8, lease_until)
     WHERE id = $5 AND state = ANY($6::text[])
     RETURNING playbook, fingerprint, batch_id`,
    [change.to, change.reason ?? null, change.at, terminal, id, change.from, change.lease?.owner ?? null, change.lease?.until ?? null],
  );
  if (row === undefined) return null;
  for (const s of change.steps ?? []) {
    await tx.rows(
      `UPDATE run_steps SET state = $4, rendered = COALESCE($5, rendered),
         started_at = COALESCE($6, started_at), finished_at = COALESCE($7, finished_at),
         exit_code = COALESCE($8, exit_code), output = COALESCE($9, output), error = COALESCE($10, error),
         vars = COALESCE($11, vars)
       WHERE run_id = $1 AND phase = $2 AND idx = $3`,
      [
        id,
        s.phase,
        s.index,
        s.state,
        s.rendered === undefined ? null : JSON.stringify(s.rendered),
        s.startedAt ?? null,
        s.finishedAt ?? null,
        s.exitCode ?? null,
        s.output ?? null,
        s.error ?? null,
        s.vars == null ? null : JSON.stringify(s.vars),
      ],
    );
  }
  const base: RunEventBase = {
    runId: id,
    playbook: String(row['playbook']),
    fingerprint: String(row['fingerprint']),
    batchId: (row['batch_id'] as string | null) ?? null,
  };
  tx.append(change.events ?? [], { ...base, at: change.at });
  return base;
}
