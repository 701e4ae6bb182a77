import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { BatchWorker } from '../../src/pipeline/batch-worker.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { SqliteStore } from '../../src/record/sqlite/sqlite-store.js';

test('a worker claims again half-way through its claim, so batches it has not reached yet are never left to expire', async () => {
  let now = Date.parse('2026-12-02T10:00:00.000Z');
  const clock = () => new Date(now);
  const store = SqliteStore.open(':memory:', clock);
  try {
    for (let i = 0; i < 4; i++) {
      await store.saveBatch({ receivedAt: new Date(now + i), receiver: 'r', status: 'firing', groupKey: `{}:${i}`, alertCount: 0, payload: { i }, source: {} });
    }
    const claims: string[] = [];
    const claimBatches = store.claimBatches.bind(store);
    store.claimBatches = (c) => {
      claims.push(c.until);
      return claimBatches(c);
    };
    const processed: string[] = [];
    const worker = new BatchWorker(
      store,
      async (batch) => {
        processed.push(batch.id);
        now += 600; // each batch takes 0.6 of the 1 s claim
        await store.markBatchProcessed(batch.id, { kind: 'batch.processed', data: {} });
      },
      silentLogger(),
      createMetrics(new Registry()),
      2000,
      { owner: 'me', claimMs: 1000, pollMs: 0, clock },
    );
    worker.kick();
    await worker.idle();
    await worker.stop();
    assert.equal(processed.length, 4);
    assert.equal(new Set(processed).size, 4, 'each batch once');
    // One claim per batch: the claim is renewed (claimed again) after every batch that passed half of it.
    assert.ok(claims.length >= 4, `claimed ${claims.length} times`);
    assert.equal(await store.countPendingBatches(), 0);
  } finally {
    await store.close();
  }
});
