import type Database from 'better-sqlite3';
import type { PruneResult } from '../../domain/store.js';

/** The append-only trigger on deletes, as migration 1 created it; lifted only for the cut. */
const EVENTS_NO_DELETE = "CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;";

/**
 * One chunk of retention, inside the caller's transaction (which then appends `retention.pruned`).
 * Events go in id order up to the first one recorded at or after `before`, so what stays is one
 * unbroken stretch of the chain; the head's base moves to the last event removed. Only here is
 * the delete trigger lifted, and it is back before the transaction commits.
 */
export function pruneChunk(db: Database.Database, before: string, limit: number): Omit<PruneResult, 'more'> & { moreDue: boolean } {
  const head = db.prepare('SELECT base_id, last_id FROM audit_head WHERE id = 1').get() as { base_id: number; last_id: number } | undefined;
  let events = 0;
  let cut: PruneResult['cut'] = null;
  let moreEvents = false;
  if (head) {
    const firstKept = db.prepare('SELECT MIN(id) AS id FROM events WHERE at >= ?').get(before) as { id: number | null };
    // Keep at least the last event: the chain's head must stay readable.
    const due = Math.min(firstKept.id === null ? head.last_id : firstKept.id - 1, head.last_id - 1);
    const upTo = Math.min(due, head.base_id + limit);
    if (upTo > head.base_id) {
      const last = db.prepare('SELECT id, hash FROM events WHERE id <= ? ORDER BY id DESC LIMIT 1').get(upTo) as { id: number; hash: string } | undefined;
      if (last) {
        db.exec('DROP TRIGGER events_no_delete');
        events = db.prepare('DELETE FROM events WHERE id <= ?').run(last.id).changes;
        db.exec(EVENTS_NO_DELETE);
        db.prepare('UPDATE audit_head SET base_id = ?, base_hash = ? WHERE id = 1').run(last.id, last.hash);
        cut = { id: last.id, hash: last.hash };
      }
    }
    moreEvents = due > upTo;
  }
  const runIds = (
    db
      .prepare(
        `SELECT id FROM runs WHERE finished_at IS NOT NULL AND finished_at < ?
           AND state IN ('succeeded', 'failed', 'cancelled', 'rejected', 'expired', 'interrupted') ORDER BY id LIMIT ?`,
      )
      .all(before, limit + 1) as { id: string }[]
  ).map((r) => r.id);
  const moreRuns = runIds.length > limit;
  const doomed = runIds.slice(0, limit);
  const ids = JSON.stringify(doomed);
  for (const table of ['run_steps', 'approvals', 'run_messages']) db.prepare(`DELETE FROM ${table} WHERE run_id IN (SELECT value FROM json_each(?))`).run(ids);
  const runs = db.prepare('DELETE FROM runs WHERE id IN (SELECT value FROM json_each(?))').run(ids).changes;
  const batches = db
    .prepare(
      `DELETE FROM batches WHERE id IN (SELECT id FROM batches WHERE processed_at IS NOT NULL AND received_at < ?
         AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.batch_id = batches.id) LIMIT ?)`,
    )
    .run(before, limit).changes;
  // What guards.group and guards.storm counted, long past any window.
  let seen = 0;
  for (const table of ['group_seen', 'storm_seen']) {
    seen = Math.max(seen, db.prepare(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE seen_at < ? LIMIT ?)`).run(before, limit).changes);
  }
  return { events, runs, batches, cut, moreDue: moreEvents || moreRuns || batches === limit || seen === limit };
}
