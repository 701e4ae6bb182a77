import type { GuardState } from '../../domain/decision.js';
import type { CircuitRecord, GlobalState, GuardQuery, PauseRecord } from '../../domain/store.js';
import type { SqliteContext } from './context.js';
import { toCircuit, toPause, type Row } from '../rows.js';
import { guardStateOf } from '../store-pieces.js';

/** The guards' reads and the daemon-wide rows (pause, circuit). */

/** What decide needs for one playbook and key (see Store.guardState). */
export function guardState(ctx: SqliteContext, q: GuardQuery): GuardState {
  const instance = ctx.sql('SELECT id, state FROM runs WHERE playbook = ? AND instance_key = ?').get(q.playbook, q.instanceKey) as Row | undefined;
  const active = ctx.sql('SELECT id, state FROM runs WHERE playbook = ? AND active_key = ?').get(q.playbook, q.targetKey) as Row | undefined;
  const last = ctx
    .sql(`SELECT created_at FROM runs WHERE playbook = ? AND target_key = ? AND ${MAY_ACT} ORDER BY created_at DESC LIMIT 1`)
    .get(q.playbook, q.targetKey) as Row | undefined;
  const locker = q.lockKey ? (ctx.sql('SELECT id, playbook, state FROM runs WHERE active_lock = ?').get(q.lockKey) as Row | undefined) : undefined;
  const pause = readPause(ctx);
  const circuit = readCircuit(ctx);
  const recent =
    q.since === null
      ? 0
      : (
          ctx.sql(`SELECT COUNT(*) AS n FROM runs WHERE playbook = ? AND created_at >= ? AND ${MAY_ACT}`).get(q.playbook, q.since.toISOString()) as {
            n: number;
          }
        ).n;
  const liveRuns = liveRunsSince(ctx, q.budgetSince ?? null, circuit);
  return guardStateOf({ instance, active, last, locker, pause, circuit, recentRuns: recent, liveRunsInWindow: liveRuns });
}

/** The pause and circuit rows, and the live runs since `budgetSince` (as guardState counts them). */
export function globalState(ctx: SqliteContext, q: { budgetSince: Date | null }): GlobalState {
  const circuit = readCircuit(ctx);
  return { pause: readPause(ctx), circuit, liveRunsInWindow: liveRunsSince(ctx, q.budgetSince, circuit) };
}

/** Sets (or replaces) the pause, with its "paused" event. */
export function setPause(ctx: SqliteContext, p: { at: string; until: string; reason: string; by: string; via: string }): PauseRecord {
  const before = readPause(ctx);
  ctx
    .sql(
      `INSERT INTO pause (id, paused_at, until, reason, paused_by) VALUES (1, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET paused_at = excluded.paused_at, until = excluded.until, reason = excluded.reason,
       paused_by = excluded.paused_by, resumed_at = NULL, resumed_by = NULL`,
    )
    .run(p.at, p.until, p.reason, p.by);
  const replaced =
    before && before.resumedAt === null && before.until > p.at ? { replaced: { until: before.until, by: before.by, reason: before.reason } } : {};
  ctx.insertEvents([{ kind: 'paused', at: p.at, data: { until: p.until, reason: p.reason, by: p.by, via: p.via, ...replaced } }]);
  return readPause(ctx) as PauseRecord;
}

/** Lifts a pause still in force at `at`, with its "resumed" event; null when there was none. */
export function endPause(ctx: SqliteContext, e: { at: string; by: string; via: string }): PauseRecord | null {
  const result = ctx.sql('UPDATE pause SET resumed_at = ?, resumed_by = ? WHERE id = 1 AND resumed_at IS NULL AND until > ?').run(e.at, e.by, e.at);
  if (result.changes === 0) return null;
  const pause = readPause(ctx) as PauseRecord;
  ctx.insertEvents([
    { kind: 'resumed', at: e.at, data: { by: e.by, via: e.via, pausedBy: pause.by, pausedAt: pause.pausedAt, until: pause.until, reason: pause.reason } },
  ]);
  return pause;
}

/** Opens the circuit, with its "circuit.opened" event; null, writing nothing, when it is open already. */
export function openCircuit(ctx: SqliteContext, o: { at: string; reason: string; by: string }): CircuitRecord | null {
  // Conditional: of two deciders that both spent the last of the budget, one opens it.
  const result = ctx
    .sql(
      `INSERT INTO circuit (id, opened_at, reason, opened_by) VALUES (1, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET opened_at = excluded.opened_at, reason = excluded.reason, opened_by = excluded.opened_by,
       closed_at = NULL, closed_by = NULL, close_note = NULL
     WHERE circuit.closed_at IS NOT NULL`,
    )
    .run(o.at, o.reason, o.by);
  if (result.changes === 0) return null;
  ctx.insertEvents([{ kind: 'circuit.opened', at: o.at, data: { reason: o.reason, by: o.by } }]);
  return readCircuit(ctx);
}

/** Closes the open circuit, with its "circuit.closed" event; null, writing nothing, when it is not open. */
export function closeCircuit(ctx: SqliteContext, c: { at: string; by: string; via: string; note: string }): CircuitRecord | null {
  const result = ctx.sql('UPDATE circuit SET closed_at = ?, closed_by = ?, close_note = ? WHERE id = 1 AND closed_at IS NULL').run(c.at, c.by, c.note);
  if (result.changes === 0) return null;
  const circuit = readCircuit(ctx) as CircuitRecord;
  ctx.insertEvents([{ kind: 'circuit.closed', at: c.at, data: { by: c.by, via: c.via, note: c.note, openedAt: circuit.openedAt, reason: circuit.reason } }]);
  return circuit;
}

/**
 * A run that acted or still may: with steps (a run refused for its params has none), and not
 * ended without acting — rejected or expired requests, and runs cancelled before a step that
 * changes something started, spent nothing. The budget, the cooldown and maxRuns count only these.
 */
const MAY_ACT = `state NOT IN ('rejected', 'expired')
  AND EXISTS (SELECT 1 FROM run_steps s WHERE s.run_id = runs.id)
  AND NOT (state = 'cancelled' AND NOT EXISTS (SELECT 1 FROM run_steps s WHERE s.run_id = runs.id AND s.started_at IS NOT NULL AND s.read_only = 0 AND s.kind IN ('run', 'http')))`;

const LIVE_RUNS_SQL = `SELECT COUNT(*) AS n FROM runs WHERE dry_run = 0 AND created_at >= ? AND ${MAY_ACT}`;

/**
 * Live runs that were allowed to act (not those refused before any step, which have no steps),
 * created since `since` and since the circuit last closed: a person who closes the circuit
 * starts a fresh budget.
 */
function liveRunsSince(ctx: SqliteContext, since: Date | null, circuit: CircuitRecord | null): number {
  if (since === null) return 0;
  const from = circuit?.closedAt && circuit.closedAt > since.toISOString() ? circuit.closedAt : since.toISOString();
  return (ctx.sql(LIVE_RUNS_SQL).get(from) as { n: number }).n;
}

function readPause(ctx: SqliteContext): PauseRecord | null {
  return toPause(ctx.sql('SELECT * FROM pause WHERE id = 1').get() as Row | undefined);
}

function readCircuit(ctx: SqliteContext): CircuitRecord | null {
  return toCircuit(ctx.sql('SELECT * FROM circuit WHERE id = 1').get() as Row | undefined);
}
