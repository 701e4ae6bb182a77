import type { Tx } from './transaction.js';
import { closeOpenApproval } from './pg-approvals.js';
import { resolvedEvents } from '../store-pieces.js';

/**
 * What a resolve does to runs: marks them resolved, then cancels those that had not started.
 * Both are single conditional UPDATEs, so a resolve heard by two replicas changes each run once.
 */

/** Records that an alert instance resolved on every run made for it; returns their ids (see Store.recordResolved). */
export async function recordResolved(tx: Tx, fingerprint: string, startsAt: string, at: string, endsAt: string | null = null): Promise<string[]> {
  let rows = await tx.rows(
    'UPDATE runs SET resolved_at = $1, updated_at = $1 WHERE fingerprint = $2 AND starts_at = $3 AND resolved_at IS NULL RETURNING id, playbook, starts_at',
    [at, fingerprint, startsAt],
  );
  const known =
    rows.length > 0 || (await tx.row('SELECT 1 FROM runs WHERE fingerprint = $1 AND starts_at = $2 LIMIT 1', [fingerprint, startsAt])) !== undefined;
  if (!known) {
    // Alertmanager can move an instance's startsAt (an alert re-added with an earlier start merges
    // into it): a resolve of the fingerprint still ends the earlier, unresolved runs of it — those
    // that started by the time it ended, not a later instance's.
    rows = await tx.rows(
      'UPDATE runs SET resolved_at = $1, updated_at = $1 WHERE fingerprint = $2 AND resolved_at IS NULL AND created_at <= $1 AND starts_at <= $3 RETURNING id, playbook, starts_at',
      [at, fingerprint, endsAt ?? at],
    );
  }
  tx.append(resolvedEvents(rows, fingerprint, startsAt, at));
  return rows.map((r) => String(r['id']));
}

/**
 * Cancels the not-started runs of an alert instance, and those of its fingerprint already
 * resolved, except runs of `exceptPlaybooks` (which act on the resolve); returns their ids.
 */
export async function cancelNotStarted(
  tx: Tx,
  fingerprint: string,
  startsAt: string,
  at: string,
  reason: string,
  exceptPlaybooks: readonly string[] = [],
): Promise<string[]> {
  const rows = await tx.rows(
    `UPDATE runs SET state = 'cancelled', reason = $1, updated_at = $2, finished_at = $2, active_key = NULL, active_lock = NULL
     WHERE fingerprint = $3 AND (starts_at = $4 OR resolved_at IS NOT NULL) AND state IN ('pending', 'awaiting_approval')
       AND playbook <> ALL($5::text[])
     RETURNING id, playbook, batch_id`,
    [reason, at, fingerprint, startsAt, exceptPlaybooks],
  );
  for (const r of rows) {
    const base = { at, runId: String(r['id']), playbook: String(r['playbook']), fingerprint, batchId: (r['batch_id'] as string | null) ?? null };
    const closed = await closeOpenApproval(tx, base.runId, 'cancelled', { id: 'remediator', via: 'system' }, reason, at);
    tx.append([
      ...(closed ? [{ ...base, kind: 'approval.cancelled' as const, data: { seq: closed.seq, step: closed.stepName, reason } }] : []),
      { ...base, kind: 'run.state', data: { to: 'cancelled', reason } },
    ]);
  }
  return rows.map((r) => String(r['id']));
}
