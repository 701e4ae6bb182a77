import type { PruneResult } from '../../domain/store.js';
import type { Tx } from './transaction.js';

/** Terminal states: only finished runs are removed, however old. */
const FINISHED = "('succeeded', 'failed', 'cancelled', 'rejected', 'expired', 'interrupted')";

/**
 * Finished runs (with their steps, requests and messages) and processed batches no run refers to,
 * older than `before`, up to `limit` of each. A transaction of its own, before the events': it
 * takes run row locks, and the chain lock must never be waited for while holding those.
 */
export async function pruneRuns(tx: Tx, before: string, limit: number): Promise<{ runs: number; batches: number; more: boolean }> {
  const ids = (
    await tx.rows(`SELECT id FROM runs WHERE finished_at IS NOT NULL AND finished_at < $1 AND state IN ${FINISHED} ORDER BY id LIMIT $2`, [before, limit + 1])
  ).map((r) => String(r['id']));
  const doomed = ids.slice(0, limit);
  for (const table of ['run_steps', 'approvals', 'run_messages']) await tx.rows(`DELETE FROM ${table} WHERE run_id = ANY($1::text[])`, [doomed]);
  const runs = (await tx.rows('DELETE FROM runs WHERE id = ANY($1::text[]) RETURNING id', [doomed])).length;
  const batches = (
    await tx.rows(
      `DELETE FROM batches WHERE id IN (SELECT id FROM batches WHERE processed_at IS NOT NULL AND received_at < $1
         AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.batch_id = batches.id) LIMIT $2) RETURNING id`,
      [before, limit],
    )
  ).length;
  // What guards.group and guards.storm counted, long past any window.
  let seen = 0;
  for (const table of ['group_seen', 'storm_seen']) {
    const gone = await tx.rows(`DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE seen_at < $1 LIMIT $2) RETURNING 1`, [before, limit]);
    seen = Math.max(seen, gone.length);
  }
  return { runs, batches, more: ids.length > limit || batches === limit || seen === limit };
}

/**
 * The oldest events recorded before `before`, up to `limit`, in id order: what stays is one
 * unbroken stretch of the chain, and the head's base moves to the last event removed. Under the
 * chain lock, taken first; the append-only trigger lets this transaction alone delete.
 */
export async function pruneEvents(tx: Tx, before: string, limit: number): Promise<{ events: number; cut: PruneResult['cut']; more: boolean }> {
  await tx.lockChain();
  const head = await tx.row('SELECT base_id, last_id FROM audit_head WHERE id = 1');
  if (!head) return { events: 0, cut: null, more: false };
  const baseId = Number(head['base_id']);
  const lastId = Number(head['last_id']);
  const firstKept = await tx.row('SELECT MIN(id) AS id FROM events WHERE at >= $1', [before]);
  // Keep at least the last event: the chain's head must stay readable.
  const due = Math.min(firstKept?.['id'] == null ? lastId : Number(firstKept['id']) - 1, lastId - 1);
  const upTo = Math.min(due, baseId + limit);
  if (upTo <= baseId) return { events: 0, cut: null, more: false };
  const last = await tx.row('SELECT id, hash FROM events WHERE id <= $1 ORDER BY id DESC LIMIT 1', [upTo]);
  if (!last) return { events: 0, cut: null, more: false };
  const cut = { id: Number(last['id']), hash: String(last['hash']) };
  await tx.rows("SET LOCAL remediator.pruning = 'on'");
  const events = (await tx.rows('DELETE FROM events WHERE id <= $1 RETURNING id', [cut.id])).length;
  await tx.rows("SET LOCAL remediator.pruning = 'off'");
  await tx.rows('UPDATE audit_head SET base_id = $1, base_hash = $2 WHERE id = 1', [cut.id, cut.hash]);
  return { events, cut, more: due > upTo };
}
