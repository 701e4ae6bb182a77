import type { AuditEvent, RunDetail } from '../../domain/run.js';
import type { EventQuery, RunPage, RunQuery } from '../../domain/store.js';
import { toApproval, toEvent, toRun, toStep } from '../rows.js';
import { eventFilter, runFilter, runPage, searchOffset } from '../store-pieces.js';
import { type Row } from './pg-rows.js';
import type { Tx } from './transaction.js';

/** Runs one statement (its own transaction) and returns its rows. */
export type Query = (text: string, values: readonly unknown[]) => Promise<Row[]>;

/** A run with its steps, approvals and events, read in one snapshot. */
export async function getRun(tx: Tx, id: string): Promise<RunDetail | null> {
  const row = await tx.row('SELECT * FROM runs WHERE id = $1', [id]);
  if (!row) return null;
  const steps = (await tx.rows("SELECT * FROM run_steps WHERE run_id = $1 ORDER BY phase = 'onFailure', idx", [id])).map(toStep);
  const approvals = (await tx.rows('SELECT * FROM approvals WHERE run_id = $1 ORDER BY seq', [id])).map(toApproval);
  const events = (await tx.rows('SELECT * FROM events WHERE run_id = $1 ORDER BY id', [id])).map(toEvent);
  return { ...toRun(row), steps, approvals, events };
}

/** Runs newest first, filtered, a page at a time. */
export async function listRuns(query: Query, q: RunQuery): Promise<RunPage> {
  const { indexed, scanned } = runFilter(q, 'ILIKE');
  // `?` numbered in order: $1, $2, …
  const numbered = (clauses: readonly string[]) => {
    let n = 0;
    const text = clauses.join(' AND ').replace(/\?/g, () => `$${++n}`);
    return { where: text ? `WHERE ${text}` : '', next: n + 1 };
  };
  if (scanned.clauses.length === 0) {
    const w = numbered(indexed.clauses);
    return runPage(await query(`SELECT * FROM runs ${w.where} ORDER BY id DESC LIMIT $${w.next}`, [...indexed.args, q.limit + 1]), q.limit);
  }
  // A search looks through a window of runs the indexes find, newest first (see the SQLite store).
  const w = numbered(indexed.clauses);
  const [end] = await query(`SELECT id FROM runs ${w.where} ORDER BY id DESC LIMIT 1 OFFSET $${w.next}`, [...indexed.args, searchOffset(q)]);
  const endId = end ? String(end['id']) : null;
  const all = numbered([...indexed.clauses, ...scanned.clauses, ...(endId ? ['id >= ?'] : [])]);
  const args = [...indexed.args, ...scanned.args, ...(endId ? [endId] : []), q.limit + 1];
  return runPage(await query(`SELECT * FROM runs ${all.where} ORDER BY id DESC LIMIT $${all.next}`, args), q.limit, endId);
}

/** Events in id order, filtered; `afterId` pages. */
export async function listEvents(query: Query, q: EventQuery): Promise<AuditEvent[]> {
  const filter = eventFilter(q);
  const args = [...filter.args];
  const where = filter.clauses.map((clause, i) => clause.replace('?', `$${i + 1}`));
  args.push(q.limit);
  return (
    await query(
      `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id${q.newestFirst ? ' DESC' : ''} LIMIT $${args.length}`,
      args,
    )
  ).map(toEvent);
}
