import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { RemediatorError } from '../../src/domain/errors.js';
import { SqliteStore } from '../../src/record/sqlite/sqlite-store.js';
import { StoreHealth, watchedStore } from '../../src/record/store-health.js';
import { removeDir } from '../support/test-daemon.js';

test('a failed write holds readiness down for the hold time; a successful write clears it; reads and bad requests do not count', async () => {
  let now = 1_000_000;
  const health = new StoreHealth(30_000, () => now);
  let fail = true;
  const store = watchedStore(
    {
      write: () =>
        fail ? Promise.reject(new RemediatorError('store_unavailable', 'store: saving a batch failed: database or disk is full')) : Promise.resolve(1),
      getRun: () => Promise.resolve(null),
      refused: () => Promise.reject(new RemediatorError('bad_request', 'not a payload')),
    },
    health,
  );
  await assert.rejects(store.refused(), /not a payload/);
  assert.equal(health.problem(), null, 'a refused request says nothing about the store');
  await assert.rejects(store.write(), /disk is full/);
  assert.match(health.problem() ?? '', /failed a write 0 s ago \(write\): store: saving a batch failed: database or disk is full/);
  await store.getRun();
  assert.notEqual(health.problem(), null, 'a read that works does not mean writes do');
  now += 29_000;
  assert.notEqual(health.problem(), null);
  now += 1_000;
  assert.equal(health.problem(), null, 'after the hold time the probe decides again');
  await assert.rejects(store.write());
  assert.notEqual(health.problem(), null, 'the next failure holds it down again');
  fail = false;
  assert.equal(await store.write(), 1);
  assert.equal(health.problem(), null, 'a write that works clears it at once');
});

test('the readiness probe of SQLite writes: a closed or unwritable database fails it', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-health-'));
  const store = SqliteStore.open(path.join(dir, 'r.db'));
  try {
    await store.ping();
    await store.ping();
  } finally {
    await store.close();
    removeDir(dir);
  }
  await assert.rejects(store.ping(), /store: ping failed/);
});
