import type { EscalationState } from '../../domain/decision.js';
import type { EscalationRecord } from '../../domain/store.js';
import { countFrom, unfixedRunsSql } from '../escalation-sql.js';
import { toEscalation, toUnfixedRun } from '../rows.js';
import type { Tx } from './transaction.js';

/** Escalations (see EscalationStore); the open one is unique per playbook and key for every replica. */

export async function escalationState(tx: Tx, q: { playbook: string; targetKey: string; instanceKey: string; since: Date }): Promise<EscalationState> {
  const open = toEscalation(
    await tx.row('SELECT * FROM escalations WHERE playbook = $1 AND target_key = $2 AND cleared_at IS NULL', [q.playbook, q.targetKey]),
  );
  if (open !== null) return { open: { id: open.id, openedAt: new Date(open.openedAt), reason: open.reason }, unfixed: open.runs };
  const cleared = await tx.row('SELECT MAX(cleared_at) AS at FROM escalations WHERE playbook = $1 AND target_key = $2', [q.playbook, q.targetKey]);
  const rows = await tx.rows(
    unfixedRunsSql((n) => `$${n}`, 'NOT dry_run'),
    [q.playbook, q.targetKey, countFrom(q.since, cleared?.['at']), q.instanceKey],
  );
  return { open: null, unfixed: rows.map(toUnfixedRun) };
}

export async function openEscalation(
  tx: Tx,
  o: { id: string; playbook: string; targetKey: string; at: string; reason: string; runs: EscalationRecord['runs'] },
): Promise<EscalationRecord | null> {
  const inserted = await tx.rows(
    `INSERT INTO escalations (id, playbook, target_key, opened_at, reason, runs) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (playbook, target_key) WHERE cleared_at IS NULL DO NOTHING RETURNING id`,
    [o.id, o.playbook, o.targetKey, o.at, o.reason, JSON.stringify(o.runs)],
  );
  if (inserted.length === 0) return null;
  tx.append([
    { kind: 'escalation.opened', at: o.at, playbook: o.playbook, data: { id: o.id, targetKey: o.targetKey, reason: o.reason, runs: o.runs.map((r) => r.id) } },
  ]);
  return getEscalation(tx, o.id);
}

export async function clearEscalation(tx: Tx, c: { id: string; at: string; by: string; via: string; note: string }): Promise<EscalationRecord | null> {
  const updated = await tx.rows('UPDATE escalations SET cleared_at = $1, cleared_by = $2, clear_note = $3 WHERE id = $4 AND cleared_at IS NULL RETURNING id', [
    c.at,
    c.by,
    c.note,
    c.id,
  ]);
  if (updated.length === 0) return null;
  const e = (await getEscalation(tx, c.id)) as EscalationRecord;
  tx.append([
    {
      kind: 'escalation.cleared',
      at: c.at,
      playbook: e.playbook,
      data: { id: e.id, targetKey: e.targetKey, by: c.by, via: c.via, note: c.note, openedAt: e.openedAt },
    },
  ]);
  return e;
}

export async function getEscalation(tx: Tx, id: string): Promise<EscalationRecord | null> {
  return toEscalation(await tx.row('SELECT * FROM escalations WHERE id = $1', [id]));
}

export async function listEscalations(tx: Tx, q: { all?: boolean; limit: number }): Promise<EscalationRecord[]> {
  const where = q.all ? '' : 'WHERE cleared_at IS NULL';
  const rows = await tx.rows(`SELECT * FROM escalations ${where} ORDER BY opened_at DESC, id DESC LIMIT $1`, [q.limit]);
  return rows.map((r) => toEscalation(r) as EscalationRecord);
}
