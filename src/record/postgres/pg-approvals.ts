import type { Approval, Identity } from '../../domain/approval.js';
import type { Run, RunState } from '../../domain/run.js';
import type { ApprovalOutcome, ApprovalRequest, ApprovalVerdict, Repropose } from '../../domain/store.js';
import { applyTransition, insertSteps } from './pg-runs.js';
import { toApproval, toRun } from '../rows.js';
import { type Row } from './pg-rows.js';
import type { Tx } from './transaction.js';
import { cancelChange, reproposeEvents } from '../store-pieces.js';

/**
 * Approval requests. A method that reads a run and then decides what to write locks the run's
 * row first (SELECT … FOR UPDATE): of two replicas deciding the same run, the second waits and
 * then reads what the first committed, so the first decision wins, as in SQLite's single writer.
 * Run rows are always locked before approval rows, so these never deadlock with one another.
 */

/** Holds a running run for approval, with its request and events; null when it is no longer running. */
export async function holdForApproval(tx: Tx, runId: string, request: ApprovalRequest): Promise<Approval | null> {
  const base = await applyTransition(tx, runId, {
    from: ['running'],
    to: 'awaiting_approval',
    at: request.at,
    reason: `awaiting approval before step ${request.stepName} until ${request.expiresAt}`,
    ...(request.steps ? { steps: request.steps } : {}),
    events: [{ kind: 'run.state', data: { from: 'running', to: 'awaiting_approval', step: request.stepName } }],
  });
  if (base === null) return null;
  // The run's row is locked by the transition: no other request of this run can take the seq.
  const row = await tx.row(
    `INSERT INTO approvals (run_id, seq, phase, step_idx, step_name, requested_at, expires_at, approvers, message)
     VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM approvals WHERE run_id = $1), $2, $3, $4, $5, $6, $7, $8)
     RETURNING *`,
    [runId, request.phase, request.stepIndex, request.stepName, request.at, request.expiresAt, JSON.stringify(request.approvers), request.message],
  );
  const approval = toApproval(row as Row);
  tx.append(
    [
      {
        kind: 'approval.requested',
        at: request.at,
        data: {
          seq: approval.seq,
          step: request.stepName,
          phase: request.phase,
          expiresAt: request.expiresAt,
          approvers: request.approvers,
          message: request.message,
        },
      },
    ],
    base,
  );
  return approval;
}

/** Records a verdict on the run's open request; the first wins (see Store.decideApproval). */
export async function decideApproval(tx: Tx, d: ApprovalVerdict): Promise<ApprovalOutcome> {
  const row = await tx.row('SELECT * FROM runs WHERE id = $1 FOR UPDATE', [d.runId]);
  if (!row) return { ok: false, why: 'not_found', run: null, approval: null };
  const open = await tx.row('SELECT * FROM approvals WHERE run_id = $1 AND decision IS NULL ORDER BY seq DESC LIMIT 1', [d.runId]);
  if (row['state'] !== 'awaiting_approval' || !open || (d.seq !== undefined && Number(open['seq']) !== d.seq)) {
    const last = await tx.row('SELECT * FROM approvals WHERE run_id = $1 ORDER BY seq DESC LIMIT 1', [d.runId]);
    return { ok: false, why: 'not_awaiting', run: toRun(row), approval: last ? toApproval(last) : null };
  }
  const request = toApproval(open);
  if (request.expiresAt <= d.at) {
    await expireOne(tx, d.runId, request, d.at);
    return { ok: false, why: 'expired', run: await readRun(tx, d.runId), approval: await readApproval(tx, d.runId, request.seq) };
  }
  const approved = d.verdict === 'approve';
  const to = approved ? 'running' : 'rejected';
  const who = `${d.by.id} via ${d.by.via}`;
  const closed = (await closeOpenApproval(tx, d.runId, approved ? 'approved' : 'rejected', d.by, d.comment, d.at)) as Approval;
  await applyTransition(tx, d.runId, {
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
  return { ok: true, approval: closed, run: await readRun(tx, d.runId) };
}

/** Expires every open request whose time is up; returns the ids of the runs that became `expired`. */
export async function expireApprovals(tx: Tx, at: string): Promise<string[]> {
  const due = (await tx.rows('SELECT * FROM approvals WHERE decision IS NULL AND expires_at <= $1 ORDER BY expires_at, run_id, seq', [at])).map(toApproval);
  const expired: string[] = [];
  for (const request of due) {
    // Another replica may have decided it since the read: lock the run, then look again.
    await tx.rows('SELECT 1 FROM runs WHERE id = $1 FOR UPDATE', [request.runId]);
    const still = await tx.row('SELECT 1 FROM approvals WHERE run_id = $1 AND seq = $2 AND decision IS NULL', [request.runId, request.seq]);
    if (still && (await expireOne(tx, request.runId, request, at))) expired.push(request.runId);
  }
  return expired;
}

/** Expires one open request and its run; false when the run was not held. */
async function expireOne(tx: Tx, runId: string, request: Approval, at: string): Promise<boolean> {
  const reason = `no decision on the approval before step ${request.stepName} by ${request.expiresAt}`;
  const moved = await applyTransition(tx, runId, {
    from: ['awaiting_approval'],
    to: 'expired',
    at,
    reason,
    events: [
      { kind: 'approval.expired', data: { seq: request.seq, step: request.stepName, requestedAt: request.requestedAt, expiresAt: request.expiresAt } },
      { kind: 'run.state', data: { from: 'awaiting_approval', to: 'expired', reason } },
    ],
  });
  if (moved !== null) await closeOpenApproval(tx, runId, 'expired', { id: 'remediator', via: 'system' }, null, at);
  return moved !== null;
}

/** Cancels a pending or held run, closing its open request; the state it left, or null when it was in neither. */
export async function cancelRun(tx: Tx, runId: string, c: { at: string; by: Identity; reason: string }): Promise<RunState | null> {
  const row = await tx.row('SELECT state FROM runs WHERE id = $1 FOR UPDATE', [runId]);
  const from = row?.['state'] as RunState | undefined;
  if (from !== 'pending' && from !== 'awaiting_approval') return null;
  const closed = await closeOpenApproval(tx, runId, 'cancelled', c.by, c.reason, c.at);
  await applyTransition(tx, runId, {
    from: [from],
    to: 'cancelled',
    at: c.at,
    ...cancelChange(from, c, closed),
  });
  return from;
}

/** Puts a held run back to pending under a changed playbook (see Store.reproposeRun). */
export async function reproposeRun(tx: Tx, runId: string, r: Repropose): Promise<Run | null> {
  const row = await tx.row(
    `UPDATE runs SET state = 'pending', playbook_hash = $1, reason = $2, updated_at = $3, owner = NULL, lease_until = NULL
     WHERE id = $4 AND state = 'awaiting_approval' AND playbook_hash = $5
     RETURNING *`,
    [r.playbookHash, r.reason, r.at, runId, r.fromHash],
  );
  if (row === undefined) return null;
  const closed = await closeOpenApproval(tx, runId, 'cancelled', r.by, r.why, r.at);
  await tx.rows('DELETE FROM run_steps WHERE run_id = $1', [runId]);
  await insertSteps(tx, runId, r.steps);
  const run = toRun(row);
  tx.append(reproposeEvents(closed, r), { runId, playbook: run.playbook, fingerprint: run.fingerprint, batchId: run.batchId, at: r.at });
  return run;
}

/** Decides the run's open request, if any; returns it as decided. */
export async function closeOpenApproval(
  tx: Tx,
  runId: string,
  decision: Approval['decision'],
  by: Identity,
  comment: string | null,
  at: string,
): Promise<Approval | null> {
  const row = await tx.row(
    `UPDATE approvals SET decision = $1, decided_by = $2, decided_via = $3, decided_at = $4, comment = $5
     WHERE run_id = $6 AND decision IS NULL RETURNING *`,
    [decision, by.id, by.via, at, comment, runId],
  );
  return row ? toApproval(row) : null;
}

async function readApproval(tx: Tx, runId: string, seq: number): Promise<Approval | null> {
  const row = await tx.row('SELECT * FROM approvals WHERE run_id = $1 AND seq = $2', [runId, seq]);
  return row ? toApproval(row) : null;
}

/** A run this transaction has locked (it exists). */
async function readRun(tx: Tx, runId: string): Promise<Run> {
  return toRun((await tx.row('SELECT * FROM runs WHERE id = $1', [runId])) as Row);
}
