import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { LeaseKeeper } from '../../src/execute/lease-keeper.js';
import { createLogger } from '../../src/observability/logger.js';
import { SqliteStore } from '../../src/record/sqlite/sqlite-store.js';
import { contractRun, contractStep } from '../record/store-contract.js';
import { removeDir } from '../support/test-daemon.js';

const T0 = Date.parse('2026-11-29T03:12:00.000Z');

/**
 * A run this replica took but no longer drives (its walk stopped on an error it could not record)
 * must not be kept alive by the heartbeat: its lease runs out and the sweep ends it, while the
 * runs it does drive are renewed and left alone, and a driven run ended elsewhere is reported lost.
 */
test('the lease keeper renews only the runs it drives; a stranded run of its own is swept; a run taken from it is reported', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-lease-'));
  let now = T0;
  const clock = () => new Date(now);
  const store = SqliteStore.open(path.join(dir, 'r.db'), clock);
  try {
    const [driven, stranded, taken] = ['a', 'b', 'c'].map((k) => contractRun({ dryRun: false, fingerprint: k, instanceKey: `${k}@x`, targetKey: k })) as [
      ReturnType<typeof contractRun>,
      ReturnType<typeof contractRun>,
      ReturnType<typeof contractRun>,
    ];
    const lease = { owner: 'me', until: new Date(T0 + 3000).toISOString() };
    for (const r of [driven, stranded, taken]) {
      await store.createRun(r, [contractStep], []);
      await store.transitionRun(r.id, { from: ['pending'], to: 'running', at: clock().toISOString(), lease });
    }
    let drivingNow = [driven.id, taken.id];
    const lost: string[] = [];
    const interrupted: string[] = [];
    const keeper = new LeaseKeeper({
      store,
      owner: 'me',
      leaseMs: 3000,
      clock,
      logger: createLogger('error'),
      onInterrupted: (ids) => interrupted.push(...ids),
      driving: () => drivingNow,
      onLost: (ids) => lost.push(...ids),
    });

    now = T0 + 2000;
    await store.transitionRun(taken.id, { from: ['running'], to: 'interrupted', at: clock().toISOString(), reason: 'another replica' });
    assert.deepEqual(await keeper.sweep(), [], 'nothing expired yet');
    assert.deepEqual(lost, [taken.id], 'the run ended elsewhere is reported lost, so its step is stopped here');
    drivingNow = [driven.id];

    now = T0 + 4000;
    assert.deepEqual(await keeper.sweep(), [stranded.id], 'the stranded run is swept once its lease ran out');
    assert.deepEqual(interrupted, [stranded.id]);
    assert.equal((await store.getRun(driven.id))?.state, 'running', 'the driven run was renewed before the sweep');
    assert.equal((await store.getRun(driven.id))?.leaseUntil, new Date(T0 + 7000).toISOString());
  } finally {
    await store.close();
    removeDir(dir);
  }
});
