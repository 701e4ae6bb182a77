import type { Approval, Identity } from '../../domain/approval.js';
import type { Run, RunState } from '../../domain/run.js';
import type { ApprovalOutcome, ApprovalRequest, ApprovalVerdict, Repropose } from '../../domain/store.js';
import type { SqliteContext } from './context.js';
import { toApproval, toRun, type Row } from '../rows.js';
import { applyTransition, insertSteps, runEventBase } from './runs.js';
import { cancelChange, reproposeEvents } from '../store-pieces.js';

/**
 * Approval requests. Each function runs inside the store's transaction; SQLite's single writer
 * keeps a run from being decided twice between its read and its write.
 */

/** Holds a running run for approval, with its request and events; null when it is no longer running. */
export function holdForApproval(ctx: SqliteContext, runId: string, request: ApprovalRequest): Approval | null {
  const held = applyTransition(ctx, runId, {
    from: ['running'],
    to: 'awaiting_approval',
    at: request.at,
    reason: `awaiting approval before step ${request.stepName} until ${request.expiresAt}`,
    ...(request.steps ? { steps: request.steps } : {}),
    events: [{ kind: 'run.state', data: { from: 'running', to: 'awaiting_approval', step: request.stepName } }],
  });
  if (!held) return null;
  const seq = (ctx.sql('SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM approvals WHERE run_id = ?').get(runId) as { n: number }).n;
  ctx
    .sql(
      `INSERT INTO approvals (run_id, seq, phase, step_idx, step_name, requested_at, expires_at, approvers, message)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(runId, seq, request.phase, request.stepIndex, request.stepName, request.at, request.expiresAt, JSON.stringify(request.approvers), request.message);
  const approval = readApproval(ctx, runId, seq) as Approval;
  ctx.insertEvents(
    [
      {
        kind: 'approval.requested',
        at: request.at,
        data: { seq, step: request.stepName, phase: request.phase, expiresAt: request.expiresAt, approvers: request.approvers, message: request.message },
      },
    ],
    runEventBase(ctx, runId),
  );
  return approval;
}

/** Records a verdict on the run's open request; the first wins (see Store.decideApproval). */
export function decideApproval(ctx: SqliteContext, d: ApprovalVerdict): ApprovalOutcome {
  const row = ctx.sql('SELECT * FROM runs WHERE id = ?').get(d.runId) as Row | undefined;
  if (!row) return { ok: false, why: 'not_found', run: null, approval: null };
  const open = ctx.sql('SELECT * FROM approvals WHERE run_id = ? AND decision IS NULL ORDER BY seq DESC LIMIT 1').get(d.runId) as Row | undefined;
  if (row['state'] !== 'awaiting_approval' || !open || (d.seq !== undefined && Number(open['seq']) !== d.seq)) {
    const last = ctx.sql('SELECT * FROM approvals WHERE run_id = ? ORDER BY seq DESC LIMIT 1').get(d.runId) as Row | undefined;
    return { ok: false, why: 'not_awaiting', run: toRun(row), approval: last ? toApproval(last) : null };
  }
  const request = toApproval(open);
  if (request.expiresAt <= d.at) {
    expireOne(ctx, d.runId, request, d.at);
    return {
      ok: false,
      why: 'expired',
      run: toRun(ctx.sql('SELECT * FROM runs WHERE id = ?').get(d.runId) as Row),
      approval: readApproval(ctx, d.runId, request.seq),
    };
  }
  const approved = d.verdict === 'approve';
  const to = approved ? 'running' : 'rejected';
  const who = `${d.by.id} via ${d.by.via}`;
  const closed = closeOpenApproval(ctx, d.runId, approved ? 'approved' : 'rejected', d.by, d.comment, d.at) as Approval;
  applyTransition(ctx, d.runId, {
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
  return { ok: true, approval: closed, run: toRun(ctx.sql('SELECT * FROM runs WHERE id = ?').get(d.runId) as Row) };
}

/** Expires every open request whose time is up; returns the ids of the runs that became `expired`. */
export function expireApprovals(ctx: SqliteContext, at: string): string[] {
  const due = (ctx.sql('SELECT * FROM approvals WHERE decision IS NULL AND expires_at <= ? ORDER BY expires_at, run_id, seq').all(at) as Row[]).map(toApproval);
  return due.filter((a) => expireOne(ctx, a.runId, a, at)).map((a) => a.runId);
}

/** Expires one open request and its run; false when the run was not held (nothing written). */
function expireOne(ctx: SqliteContext, runId: string, request: Approval, at: string): boolean {
  const reason = `no decision on the approval before step ${request.stepName} by ${request.expiresAt}`;
  const moved = applyTransition(ctx, runId, {
    from: ['awaiting_approval'],
    to: 'expired',
    at,
    reason,
    events: [
      { kind: 'approval.expired', data: { seq: request.seq, step: request.stepName, requestedAt: request.requestedAt, expiresAt: request.expiresAt } },
      { kind: 'run.state', data: { from: 'awaiting_approval', to: 'expired', reason } },
    ],
  });
  if (moved) closeOpenApproval(ctx, runId, 'expired', { id: 'remediator', via: 'system' }, null, at);
  return moved;
}

/** When the next open request expires, or null when none is open. */
export function nextApprovalExpiry(ctx: SqliteContext): string | null {
  const row = ctx.sql('SELECT MIN(expires_at) AS at FROM approvals WHERE decision IS NULL').get() as { at: string | null };
  return row.at;
}

/** Open approval requests, counted (the pending-approvals gauge). */
export function countOpenApprovals(ctx: SqliteContext): number {
  return (ctx.sql('SELECT COUNT(*) AS n FROM approvals WHERE decision IS NULL').get() as { n: number }).n;
}

/** Cancels a pending or held run, closing its open request; the state it left, or null when it was in neither. */
export function cancelRun(ctx: SqliteContext, runId: string, c: { at: string; by: Identity; reason: string }): RunState | null {
  const row = ctx.sql('SELECT state FROM runs WHERE id = ?').get(runId) as Row | undefined;
  const from = row?.['state'] as RunState | undefined;
  if (from !== 'pending' && from !== 'awaiting_approval') return null;
  const closed = closeOpenApproval(ctx, runId, 'cancelled', c.by, c.reason, c.at);
  applyTransition(ctx, runId, {
    from: [from],
    to: 'cancelled',
    at: c.at,
    ...cancelChange(from, c, closed),
  });
  return from;
}

/** Puts a held run back to pending under a changed playbook (see Store.reproposeRun). */
export function reproposeRun(ctx: SqliteContext, runId: string, r: Repropose): Run | null {
  const moved = ctx
    .sql(
      `UPDATE runs SET state = 'pending', playbook_hash = ?, reason = ?, updated_at = ?, owner = NULL, lease_until = NULL
     WHERE id = ? AND state = 'awaiting_approval' AND playbook_hash = ?`,
    )
    .run(r.playbookHash, r.reason, r.at, runId, r.fromHash);
  if (moved.changes === 0) return null;
  const closed = closeOpenApproval(ctx, runId, 'cancelled', r.by, r.why, r.at);
  ctx.sql('DELETE FROM run_steps WHERE run_id = ?').run(runId);
  insertSteps(ctx, runId, r.steps);
  ctx.insertEvents(reproposeEvents(closed, r), { ...runEventBase(ctx, runId), at: r.at });
  return toRun(ctx.sql('SELECT * FROM runs WHERE id = ?').get(runId) as Row);
}

/** Decides the run's open request, if any; returns it as decided. Inside a transaction only. */
export function closeOpenApproval(
  ctx: SqliteContext,
  runId: string,
  decision: Approval['decision'],
  by: Identity,
  comment: string | null,
  at: string,
): Approval | null {
  const row = ctx
    .sql(
      `UPDATE approvals SET decision = ?, decided_by = ?, decided_via = ?, decided_at = ?, comment = ?
     WHERE run_id = ? AND decision IS NULL RETURNING seq`,
    )
    .get(decision, by.id, by.via, at, comment, runId) as { seq: number } | undefined;
  return row ? readApproval(ctx, runId, row.seq) : null;
}

function readApproval(ctx: SqliteContext, runId: string, seq: number): Approval | null {
  const row = ctx.sql('SELECT * FROM approvals WHERE run_id = ? AND seq = ?').get(runId, seq) as Row | undefined;
  return row ? toApproval(row) : null;
}
