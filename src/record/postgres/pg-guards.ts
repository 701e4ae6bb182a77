import type { GuardState } from '../../domain/decision.js';
import type { CircuitRecord, GlobalState, GuardQuery, PauseRecord } from '../../domain/store.js';
import { toCircuit, toPause } from '../rows.js';
import { guardStateOf } from '../store-pieces.js';
import type { Row } from '../rows.js';
import type { Tx } from './transaction.js';

/**
 * The guards' reads and the daemon-wide rows (pause, circuit). Reads run in one snapshot (a read
 * transaction); the writes are single conditional statements, so of two replicas writing at once
 * the database lets one through, as SQLite's single writer does.
 */

/**
 * The budget's count, kept through one decision slice (which holds the decision lock, so no other
 * decision adds a live run meanwhile): counted once from `from`, then one more for every live run
 * the slice creates. A later `from` can only count fewer, and runs that stop counting (cancelled,
 * rejected) only lower it, so the kept count is never below the real one: the budget is never
 * overspent, and the query (a join whose plan depends on table statistics) runs once per slice.
 */
export interface BudgetCount {
  from: string;
  n: number;
}

/** What decide needs for one playbook and key (see Store.guardState). */
export async function guardState(tx: Tx, q: GuardQuery, kept?: { budget: BudgetCount | null }): Promise<GuardState> {
  // One round trip: each part a scalar subquery (the unique indexes make each at most one row).
  const row = await tx.row(
    `SELECT (SELECT row_to_json(x) FROM (SELECT id, state FROM runs WHERE playbook = $1 AND instance_key = $2) x) AS instance,
            (SELECT row_to_json(x) FROM (SELECT id, state FROM runs WHERE playbook = $1 AND active_key = $3) x) AS active,
            (SELECT row_to_json(x) FROM (SELECT created_at FROM runs WHERE playbook = $1 AND target_key = $3 AND ${MAY_ACT} ORDER BY created_at DESC LIMIT 1) x) AS last,
            (SELECT row_to_json(x) FROM (SELECT id, playbook, state FROM runs WHERE active_lock = $4) x) AS locker,
            (SELECT row_to_json(p) FROM pause p WHERE id = 1) AS pause,
            (SELECT row_to_json(c) FROM circuit c WHERE id = 1) AS circuit,
            CASE WHEN $5::text IS NULL THEN 0 ELSE (SELECT COUNT(*) FROM runs WHERE playbook = $1 AND created_at >= $5::text AND ${MAY_ACT}) END AS recent`,
    [q.playbook, q.instanceKey, q.targetKey, q.lockKey || null, q.since === null ? null : q.since.toISOString()],
  );
  const part = (name: string) => (row?.[name] ?? undefined) as Row | undefined;
  const [instance, active, last, locker] = [part('instance'), part('active'), part('last'), part('locker')];
  const pause = toPause(part('pause'));
  const circuit = toCircuit(part('circuit'));
  const recent = Number(row?.['recent'] ?? 0);
  const liveRuns = await liveRunsSince(tx, q.budgetSince ?? null, circuit, kept);
  return guardStateOf({ instance, active, last, locker, pause, circuit, recentRuns: recent, liveRunsInWindow: liveRuns });
}

/** The pause and circuit rows, and the live runs since `budgetSince`. */
export async function globalState(tx: Tx, q: { budgetSince: Date | null }): Promise<GlobalState> {
  const circuit = await readCircuit(tx);
  return { pause: await readPause(tx), circuit, liveRunsInWindow: await liveRunsSince(tx, q.budgetSince, circuit) };
}

/**
 * A run that acted or still may: with steps (a run refused for its params has none), and not
 * ended without acting — rejected or expired requests, and runs cancelled before a step that
 * changes something started, spent nothing. The budget, the cooldown and maxRuns count only these.
 */
const MAY_ACT = `state NOT IN ('rejected', 'expired')
  AND EXISTS (SELECT 1 FROM run_steps s WHERE s.run_id = runs.id)
  AND NOT (state = 'cancelled' AND NOT EXISTS (SELECT 1 FROM run_steps s WHERE s.run_id = runs.id AND s.started_at IS NOT NULL AND NOT s.read_only AND s.kind IN ('run', 'http')))`;

/** Live runs that may act, created since `since` and since the circuit last closed (a person who closes the circuit starts a fresh budget). */
async function liveRunsSince(tx: Tx, since: Date | null, circuit: CircuitRecord | null, kept?: { budget: BudgetCount | null }): Promise<number> {
  if (since === null) return 0;
  const from = circuit?.closedAt && circuit.closedAt > since.toISOString() ? circuit.closedAt : since.toISOString();
  if (kept?.budget && kept.budget.from <= from) return kept.budget.n;
  const n = await tx.count(`SELECT COUNT(*) AS n FROM runs WHERE NOT dry_run AND created_at >= $1 AND ${MAY_ACT}`, [from]);
  if (kept) kept.budget = { from, n };
  return n;
}

async function readPause(tx: Tx, lock = ''): Promise<PauseRecord | null> {
  return toPause(await tx.row(`SELECT * FROM pause WHERE id = 1 ${lock}`));
}

async function readCircuit(tx: Tx): Promise<CircuitRecord | null> {
  return toCircuit(await tx.row('SELECT * FROM circuit WHERE id = 1'));
}

/** Sets (or replaces) the pause, with its "paused" event. */
export async function setPause(tx: Tx, p: { at: string; until: string; reason: string; by: string; via: string }): Promise<PauseRecord> {
  // Locked, so that of two replicas replacing a pause each names the one it really replaced.
  const before = await readPause(tx, 'FOR UPDATE');
  const row = await tx.row(
    `INSERT INTO pause (id, paused_at, until, reason, paused_by) VALUES (1, $1, $2, $3, $4)
     ON CONFLICT (id) DO UPDATE SET paused_at = excluded.paused_at, until = excluded.until, reason = excluded.reason,
       paused_by = excluded.paused_by, resumed_at = NULL, resumed_by = NULL
     RETURNING *`,
    [p.at, p.until, p.reason, p.by],
  );
  const replaced =
    before && before.resumedAt === null && before.until > p.at ? { replaced: { until: before.until, by: before.by, reason: before.reason } } : {};
  tx.append([{ kind: 'paused', at: p.at, data: { until: p.until, reason: p.reason, by: p.by, via: p.via, ...replaced } }]);
  return toPause(row) as PauseRecord;
}

/** Lifts a pause still in force at `at`, with its "resumed" event; null when there was none. */
export async function endPause(tx: Tx, e: { at: string; by: string; via: string }): Promise<PauseRecord | null> {
  const pause = toPause(
    await tx.row('UPDATE pause SET resumed_at = $1, resumed_by = $2 WHERE id = 1 AND resumed_at IS NULL AND until > $1 RETURNING *', [e.at, e.by]),
  );
  if (pause === null) return null;
  tx.append([
    { kind: 'resumed', at: e.at, data: { by: e.by, via: e.via, pausedBy: pause.by, pausedAt: pause.pausedAt, until: pause.until, reason: pause.reason } },
  ]);
  return pause;
}

/** Opens the circuit; null, writing nothing, when it is open already. */
export async function openCircuit(tx: Tx, o: { at: string; reason: string; by: string }): Promise<CircuitRecord | null> {
  // Conditional: of two deciders (on any replicas) that both spent the last of the budget, one opens it.
  const circuit = toCircuit(
    await tx.row(
      `INSERT INTO circuit (id, opened_at, reason, opened_by) VALUES (1, $1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET opened_at = excluded.opened_at, reason = excluded.reason, opened_by = excluded.opened_by,
         closed_at = NULL, closed_by = NULL, close_note = NULL
       WHERE circuit.closed_at IS NOT NULL
       RETURNING *`,
      [o.at, o.reason, o.by],
    ),
  );
  if (circuit === null) return null;
  tx.append([{ kind: 'circuit.opened', at: o.at, data: { reason: o.reason, by: o.by } }]);
  return circuit;
}

/** Closes the open circuit; null, writing nothing, when it is not open. */
export async function closeCircuit(tx: Tx, c: { at: string; by: string; via: string; note: string }): Promise<CircuitRecord | null> {
  const circuit = toCircuit(
    await tx.row('UPDATE circuit SET closed_at = $1, closed_by = $2, close_note = $3 WHERE id = 1 AND closed_at IS NULL RETURNING *', [c.at, c.by, c.note]),
  );
  if (circuit === null) return null;
  tx.append([{ kind: 'circuit.closed', at: c.at, data: { by: c.by, via: c.via, note: c.note, openedAt: circuit.openedAt, reason: circuit.reason } }]);
  return circuit;
}
