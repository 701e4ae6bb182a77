import { closeOpenApproval } from './approvals.js';
import type { SqliteContext } from './context.js';
import type { Row } from '../rows.js';
import { resolvedEvents } from '../store-pieces.js';

/** What a resolve does to runs: marks them resolved, then cancels those that had not started. */

/** Records that an alert instance resolved on every run made for it; returns their ids (see Store.recordResolved). */
export function recordResolved(ctx: SqliteContext, fingerprint: string, startsAt: string, at: string, endsAt: string | null): string[] {
  let rows = ctx
    .sql('UPDATE runs SET resolved_at = ?, updated_at = ? WHERE fingerprint = ? AND starts_at = ? AND resolved_at IS NULL RETURNING id, playbook, starts_at')
    .all(at, at, fingerprint, startsAt) as Row[];
  const known = rows.length > 0 || ctx.sql('SELECT 1 FROM runs WHERE fingerprint = ? AND starts_at = ? LIMIT 1').get(fingerprint, startsAt) !== undefined;
  if (!known) {
    // Alertmanager can move an instance's startsAt (an alert re-added with an earlier start
    // merges into it): a resolve of the fingerprint still ends the earlier, unresolved runs
    // of it — those that started by the time it ended, not a later instance's.
    rows = ctx
      .sql(
        'UPDATE runs SET resolved_at = ?, updated_at = ? WHERE fingerprint = ? AND resolved_at IS NULL AND created_at <= ? AND starts_at <= ? RETURNING id, playbook, starts_at',
      )
      .all(at, at, fingerprint, at, endsAt ?? at) as Row[];
  }
  ctx.insertEvents(resolvedEvents(rows, fingerprint, startsAt, at));
  return rows.map((r) => String(r['id']));
}

/**
 * Cancels the not-started runs of an alert instance, and those of its fingerprint already
 * resolved, except runs of `exceptPlaybooks` (which act on the resolve); returns their ids.
 */
export function cancelNotStarted(
  ctx: SqliteContext,
  fingerprint: string,
  startsAt: string,
  at: string,
  reason: string,
  exceptPlaybooks: readonly string[],
): string[] {
  const rows = ctx
    .sql(
      `UPDATE runs SET state = 'cancelled', reason = ?, updated_at = ?, finished_at = ?, active_key = NULL, active_lock = NULL
     WHERE fingerprint = ? AND (starts_at = ? OR resolved_at IS NOT NULL) AND state IN ('pending', 'awaiting_approval')
       AND playbook NOT IN (SELECT value FROM json_each(?))
     RETURNING id, playbook, batch_id`,
    )
    .all(reason, at, at, fingerprint, startsAt, JSON.stringify(exceptPlaybooks)) as Row[];
  for (const r of rows) {
    const base = { at, runId: String(r['id']), playbook: String(r['playbook']), fingerprint, batchId: (r['batch_id'] as string | null) ?? null };
    const closed = closeOpenApproval(ctx, String(r['id']), 'cancelled', { id: 'remediator', via: 'system' }, reason, at);
    ctx.insertEvents([
      ...(closed ? [{ ...base, kind: 'approval.cancelled' as const, data: { seq: closed.seq, step: closed.stepName, reason } }] : []),
      { ...base, kind: 'run.state', data: { to: 'cancelled', reason } },
    ]);
  }
  return rows.map((r) => String(r['id']));
}
