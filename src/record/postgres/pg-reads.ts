import type { AuditEvent, Run, RunDetail } from '../../domain/run.js';
import type { EventQuery, RunQuery } from '../../domain/store.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { toApproval, toEvent, toRun, toStep } from '../rows.js';
import { eventFilter } from '../store-pieces.js';
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
export async function listRuns(query: Query, q: RunQuery): Promise<{ runs: Run[]; next: string | null }> {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (clause: string, value: unknown) => {
    args.push(value);
    where.push(clause.replace('?', `$${args.length}`));
  };
  if (q.state) add('state = ?', q.state);
  if (q.playbook) add('playbook = ?', q.playbook);
  if (q.cursor) add('id < ?', decodeCursor(q.cursor));
  args.push(q.limit + 1);
  const rows = await query(`SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${args.length}`, args);
  const runs = rows.slice(0, q.limit).map(toRun);
  const last = runs[runs.length - 1];
  return { runs, next: rows.length > q.limit && last ? encodeCursor(last.id) : null };
}

/** Events in id order, filtered; `afterId` pages. */
export async function listEvents(query: Query, q: EventQuery): Promise<AuditEvent[]> {
  const filter = eventFilter(q);
  const args = [...filter.args];
  const where = filter.clauses.map((clause, i) => clause.replace('?', `$${i + 1}`));
  args.push(q.limit);
  return (await query(`SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT $${args.length}`, args)).map(toEvent);
}
