import type { SqliteContext } from './context.js';
import type { Row } from '../rows.js';
import { INTERRUPTED_STEP_ERROR, interruptedEvents } from '../store-pieces.js';

/** Leases of running runs, and interrupting the runs whose process stopped. */

/** Extends the leases of the named runs `owner` is executing; returns the ids renewed. */
export function renewLeases(ctx: SqliteContext, owner: string, until: string, runIds: readonly string[]): string[] {
  if (runIds.length === 0) return [];
  const rows = ctx
    .sql("UPDATE runs SET lease_until = ? WHERE owner = ? AND state = 'running' AND id IN (SELECT value FROM json_each(?)) RETURNING id")
    .all(until, owner, JSON.stringify(runIds)) as Row[];
  return rows.map((r) => String(r['id']));
}

/** Marks runs left `running` by a previous process as interrupted; returns their ids. */
export function interruptRunning(ctx: SqliteContext, at: string, reason: string): string[] {
  return interruptWhere(ctx, '1 = 1', [], at, reason);
}

/** Marks `running` runs whose lease ran out before `at` as interrupted; returns their ids. */
export function interruptExpired(ctx: SqliteContext, at: string, reason: string): string[] {
  return interruptWhere(ctx, 'lease_until IS NOT NULL AND lease_until < ?', [at], at, reason);
}

/** Interrupts the running runs that also match `where`, with their running step; inside a transaction. */
function interruptWhere(ctx: SqliteContext, where: string, args: unknown[], at: string, reason: string): string[] {
  const rows = ctx
    .sql(
      `UPDATE runs SET state = 'interrupted', reason = ?, updated_at = ?, finished_at = ?, active_key = NULL, active_lock = NULL
     WHERE state = 'running' AND ${where} RETURNING id, playbook, fingerprint, owner`,
    )
    .all(reason, at, at, ...args) as Row[];
  // A step that was running may or may not have done its work: say so, never "running" forever.
  const closeStep = ctx.sql("UPDATE run_steps SET state = 'interrupted', finished_at = ?, error = ? WHERE run_id = ? AND state = 'running'");
  for (const r of rows) closeStep.run(at, INTERRUPTED_STEP_ERROR, String(r['id']));
  ctx.insertEvents(interruptedEvents(rows, at, reason));
  return rows.map((r) => String(r['id']));
}
