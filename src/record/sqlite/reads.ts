import type { AuditEvent, Run, RunDetail, RunState } from '../../domain/run.js';
import type { EventQuery, RunQuery } from '../../domain/store.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import type { SqliteContext } from './context.js';
import { toApproval, toEvent, toRun, toStep, type Row } from '../rows.js';
import { eventFilter } from '../store-pieces.js';

/** A run with its steps, approvals and events. */
export function getRun(ctx: SqliteContext, id: string): RunDetail | null {
  const row = ctx.sql('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined;
  if (!row) return null;
  const steps = (ctx.sql("SELECT * FROM run_steps WHERE run_id = ? ORDER BY phase = 'onFailure', idx").all(id) as Row[]).map(toStep);
  const approvals = (ctx.sql('SELECT * FROM approvals WHERE run_id = ? ORDER BY seq').all(id) as Row[]).map(toApproval);
  const events = (ctx.sql('SELECT * FROM events WHERE run_id = ? ORDER BY id').all(id) as Row[]).map(toEvent);
  return { ...toRun(row), steps, approvals, events };
}

/** Runs newest first, filtered, a page at a time. */
export function listRuns(ctx: SqliteContext, q: RunQuery): { runs: Run[]; next: string | null } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.state) {
    where.push('state = ?');
    args.push(q.state);
  }
  if (q.playbook) {
    where.push('playbook = ?');
    args.push(q.playbook);
  }
  if (q.cursor) {
    where.push('id < ?');
    args.push(decodeCursor(q.cursor));
  }
  const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
  const rows = ctx.sql(sql).all(...args, q.limit + 1) as Row[];
  const runs = rows.slice(0, q.limit).map(toRun);
  const last = runs[runs.length - 1];
  return { runs, next: rows.length > q.limit && last ? encodeCursor(last.id) : null };
}

/** Events in id order, filtered; `afterId` pages. */
export function listEvents(ctx: SqliteContext, q: EventQuery): AuditEvent[] {
  const { clauses: where, args } = eventFilter(q);
  const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
  // With a time window and no run, ordering by id would lead the planner to walk the table
  // from the first event; `+id` makes it pick the ids through the time indexes first (a
  // million events: 300 ms → 1 ms for the last day; bench/listing.ts).
  const sql =
    q.since !== undefined && q.runId === undefined
      ? `SELECT * FROM events WHERE id IN (SELECT id FROM events ${filter} ORDER BY +id LIMIT ?) ORDER BY id`
      : `SELECT * FROM events ${filter} ORDER BY id LIMIT ?`;
  return (ctx.sql(sql).all(...args, q.limit) as Row[]).map(toEvent);
}

/** Runs not over yet, counted by state (the in-progress gauge). */
export function countRunsInProgress(ctx: SqliteContext): Partial<Record<RunState, number>> {
  const rows = ctx.sql("SELECT state, COUNT(*) AS n FROM runs WHERE state IN ('pending', 'awaiting_approval', 'running') GROUP BY state").all() as {
    state: string;
    n: number;
  }[];
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}
