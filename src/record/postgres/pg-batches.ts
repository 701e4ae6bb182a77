import type { NewEvent } from '../../domain/run.js';
import type { NewBatch, StoredBatch } from '../../domain/store.js';
import { newId } from '../ids.js';
import type { Query } from './pg-reads.js';
import type { Tx } from './transaction.js';

/** Stores a webhook delivery with its "batch.received" event; returns its id. */
export async function insertBatch(tx: Tx, batch: NewBatch): Promise<string> {
  const id = newId('b', batch.receivedAt);
  const at = batch.receivedAt.toISOString();
  await tx.rows('INSERT INTO batches (id, received_at, receiver, status, group_key, alert_count, payload) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
    id,
    at,
    batch.receiver,
    batch.status,
    batch.groupKey,
    batch.alertCount,
    JSON.stringify(batch.payload),
  ]);
  tx.append([
    {
      kind: 'batch.received',
      at,
      batchId: id,
      data: { receiver: batch.receiver, status: batch.status, groupKey: batch.groupKey, alerts: batch.alertCount, ...batch.source },
    },
  ]);
  return id;
}

/** Marks a batch processed, with its closing event. */
export async function markBatchProcessed(tx: Tx, id: string, event: NewEvent): Promise<void> {
  await tx.rows('UPDATE batches SET processed_at = $1 WHERE id = $2', [tx.now(), id]);
  tx.append([event], { batchId: id });
}

/**
 * Claims up to `limit` unprocessed batches for `owner` until `until`, oldest first: those never
 * claimed, whose claim expired before `now`, or already the owner's. FOR UPDATE SKIP LOCKED lets
 * two replicas claiming at once take different batches instead of waiting for each other.
 */
export async function claimBatches(query: Query, c: { owner: string; limit: number; until: string; now: string }): Promise<StoredBatch[]> {
  const rows = await query(
    `UPDATE batches SET claimed_by = $1, claimed_until = $2
     WHERE id IN (SELECT id FROM batches WHERE processed_at IS NULL AND (claimed_until IS NULL OR claimed_until < $3 OR claimed_by = $1)
                  ORDER BY received_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
     RETURNING id, received_at, payload`,
    [c.owner, c.until, c.now, c.limit],
  );
  return rows
    .map((r) => ({ id: String(r['id']), receivedAt: String(r['received_at']), payload: JSON.parse(String(r['payload'])) as unknown }))
    .sort((a, b) => (a.receivedAt < b.receivedAt ? -1 : a.receivedAt > b.receivedAt ? 1 : a.id < b.id ? -1 : 1))
    .map((b) => ({ ...b, receivedAt: new Date(b.receivedAt) }));
}
