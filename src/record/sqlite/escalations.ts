import type { EscalationState } from '../../domain/decision.js';
import type { EscalationRecord } from '../../domain/store.js';
import { countFrom, unfixedRunsSql } from '../escalation-sql.js';
import { toEscalation, toUnfixedRun, type Row } from '../rows.js';
import type { SqliteContext } from './context.js';

/** Escalations (see EscalationStore). */

export function escalationState(ctx: SqliteContext, q: { playbook: string; targetKey: string; instanceKey: string; since: Date }): EscalationState {
  const open = toEscalation(
    ctx.sql('SELECT * FROM escalations WHERE playbook = ? AND target_key = ? AND cleared_at IS NULL').get(q.playbook, q.targetKey) as Row | undefined,
  );
  if (open !== null) return { open: { id: open.id, openedAt: new Date(open.openedAt), reason: open.reason }, unfixed: open.runs };
  const cleared = ctx.sql('SELECT MAX(cleared_at) AS at FROM escalations WHERE playbook = ? AND target_key = ?').get(q.playbook, q.targetKey) as Row;
  const rows = ctx.sql(unfixedRunsSql(() => '?', 'dry_run = 0')).all(q.playbook, q.targetKey, countFrom(q.since, cleared['at']), q.instanceKey) as Row[];
  return { open: null, unfixed: rows.map(toUnfixedRun) };
}

export function openEscalation(
  ctx: SqliteContext,
  o: { id: string; playbook: string; targetKey: string; at: string; reason: string; runs: EscalationRecord['runs'] },
): EscalationRecord | null {
  const result = ctx
    .sql(
      `INSERT INTO escalations (id, playbook, target_key, opened_at, reason, runs) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (playbook, target_key) WHERE cleared_at IS NULL DO NOTHING`,
    )
    .run(o.id, o.playbook, o.targetKey, o.at, o.reason, JSON.stringify(o.runs));
  if (result.changes === 0) return null;
  ctx.insertEvents([
    { kind: 'escalation.opened', at: o.at, playbook: o.playbook, data: { id: o.id, targetKey: o.targetKey, reason: o.reason, runs: o.runs.map((r) => r.id) } },
  ]);
  return getEscalation(ctx, o.id);
}

export function clearEscalation(ctx: SqliteContext, c: { id: string; at: string; by: string; via: string; note: string }): EscalationRecord | null {
  const result = ctx
    .sql('UPDATE escalations SET cleared_at = ?, cleared_by = ?, clear_note = ? WHERE id = ? AND cleared_at IS NULL')
    .run(c.at, c.by, c.note, c.id);
  if (result.changes === 0) return null;
  const e = getEscalation(ctx, c.id) as EscalationRecord;
  ctx.insertEvents([
    {
      kind: 'escalation.cleared',
      at: c.at,
      playbook: e.playbook,
      data: { id: e.id, targetKey: e.targetKey, by: c.by, via: c.via, note: c.note, openedAt: e.openedAt },
    },
  ]);
  return e;
}

export function getEscalation(ctx: SqliteContext, id: string): EscalationRecord | null {
  return toEscalation(ctx.sql('SELECT * FROM escalations WHERE id = ?').get(id) as Row | undefined);
}

export function listEscalations(ctx: SqliteContext, q: { all?: boolean; limit: number }): EscalationRecord[] {
  const where = q.all ? '' : 'WHERE cleared_at IS NULL';
  const rows = ctx.sql(`SELECT * FROM escalations ${where} ORDER BY opened_at DESC, id DESC LIMIT ?`).all(q.limit) as Row[];
  return rows.map((r) => toEscalation(r) as EscalationRecord);
}
