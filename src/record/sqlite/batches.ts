import type { NewEvent } from '../../domain/run.js';
import type { NewBatch, StoredBatch } from '../../domain/store.js';
import { newId } from '../ids.js';
import type { SqliteContext } from './context.js';
import type { Row } from '../rows.js';

/**
 * Stored webhook deliveries. Writing them (group commit, durably) is SqliteStore's: these are
 * the statements, run inside the transaction it opens.
 */

/** Stores a webhook delivery with its "batch.received" event; returns its id. */
export function insertBatch(ctx: SqliteContext, batch: NewBatch): string {
  const id = newId('b', batch.receivedAt);
  const at = batch.receivedAt.toISOString();
  ctx
    .sql('INSERT INTO batches (id, received_at, receiver, status, group_key, alert_count, payload) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(id, at, batch.receiver, batch.status, batch.groupKey, batch.alertCount, JSON.stringify(batch.payload));
  ctx.insertEvents([
    {
      kind: 'batch.received',
      at,
      batchId: id,
      data: { receiver: batch.receiver, status: batch.status, groupKey: batch.groupKey, alerts: batch.alertCount, ...batch.source },
    },
  ]);
  return id;
}

/**
 * Claims up to `limit` unprocessed batches for `owner` until `until`, oldest first: those never
 * claimed, whose claim expired before `now`, or already the owner's.
 */
export function claimBatches(ctx: SqliteContext, c: { owner: string; limit: number; until: string; now: string }): StoredBatch[] {
  const rows = ctx
    .sql(
      `UPDATE batches SET claimed_by = @owner, claimed_until = @until
     WHERE id IN (SELECT id FROM batches WHERE processed_at IS NULL AND (claimed_until IS NULL OR claimed_until < @now OR claimed_by = @owner)
                  ORDER BY received_at, id LIMIT @limit)
     RETURNING id, received_at, payload`,
    )
    .all(c) as Row[];
  return rows.map(toBatch).sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime() || (a.id < b.id ? -1 : 1));
}

/** How many batches are stored but not yet processed. */
export function countPendingBatches(ctx: SqliteContext): number {
  return (ctx.sql('SELECT COUNT(*) AS n FROM batches WHERE processed_at IS NULL').get() as { n: number }).n;
}

/** Marks a batch processed, with its closing event. */
export function markBatchProcessed(ctx: SqliteContext, id: string, event: NewEvent): void {
  ctx.sql('UPDATE batches SET processed_at = ? WHERE id = ?').run(ctx.clock().toISOString(), id);
  ctx.insertEvents([event], { batchId: id });
}

function toBatch(r: Row): StoredBatch {
  return { id: String(r['id']), receivedAt: new Date(String(r['received_at'])), payload: JSON.parse(String(r['payload'])) as unknown };
}
