import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NewRun, Store } from '../../src/domain/store.js';
import { verifyStoreChain } from '../../src/record/audit-verify.js';

/**
 * Retention, on every store: the oldest events go in chain order and the rest still verifies
 * from the cut; finished runs go with their steps; what is recent or unfinished stays.
 */
export function retentionContract(withStore: (fn: (store: Store) => Promise<void>) => () => Promise<void>, run: (over?: Partial<NewRun>) => NewRun): void {
  test(
    'prune removes what guards.group and guards.storm counted long ago, and keeps the recent',
    withStore(async (store) => {
      const day = (d: number) => `2026-11-${String(d).padStart(2, '0')}T12:00:00.000Z`;
      const seen = (n: number, d: number) => ({
        instanceKey: `fp${n}@x`,
        targetKey: `t${n}`,
        playbook: 'rollback',
        alertname: 'A',
        labels: { alertname: 'A' },
        generatorUrl: null,
        at: day(d),
      });
      await store.recordStormSeen([seen(1, 1), seen(2, 2), seen(3, 20)], null);
      await store.recordGroupSeen([
        { playbook: 'rollback', groupKey: 'shop', targetKey: 't1', at: day(1), runId: null },
        { playbook: 'rollback', groupKey: 'shop', targetKey: 't3', at: day(20), runId: null },
      ]);
      await store.prune({ before: day(15), at: day(28), limit: 100 });
      const window = await store.stormWindow({ since: new Date(day(1)), targetsLimit: 10 });
      assert.deepEqual([window.instances, window.targets], [1, ['t3']]);
      assert.deepEqual(await store.groupState({ playbook: 'rollback', groupKey: 'shop', since: new Date(day(1)) }), { liveRuns: 0, targetsSeen: 1 });
      assert.deepEqual((await store.recordStormSeen([seen(1, 21)], null)).fresh, ['fp1@x'], 'an instance pruned long ago counts as new');
    }),
  );

  test(
    'prune removes what is older in chunks, keeps the chain verifiable from the cut, and records it',
    withStore(async (store) => {
      const day = (d: number) => `2026-11-${String(d).padStart(2, '0')}T12:00:00.000Z`;
      // Ten old events (Nov 1–10), an old finished run, an old unfinished one, then recent events.
      for (let d = 1; d <= 10; d++) await store.appendEvents([{ kind: 'auth.failed', at: day(d), data: { d } }]);
      const old = run({ instanceKey: 'old@x', fingerprint: 'fo', createdAt: day(2) });
      await store.createRun(old, [], []);
      await store.transitionRun(old.id, { from: ['pending'], to: 'succeeded', at: day(3) });
      const stuck = run({ instanceKey: 'stuck@x', fingerprint: 'fs', targetKey: 'stuck', createdAt: day(2) });
      await store.createRun(stuck, [], []);
      const batch = await store.saveBatch({
        receivedAt: new Date(day(1)),
        receiver: 'r',
        status: 'firing',
        groupKey: 'g',
        alertCount: 0,
        payload: {},
        source: {},
      });
      await store.markBatchProcessed(batch, { kind: 'batch.processed', at: day(1), data: {} });
      for (let d = 20; d <= 22; d++) await store.appendEvents([{ kind: 'auth.failed', at: day(d), data: { d } }]);
      const before = day(15);
      const eventsBefore = (await store.listEvents({ limit: 1000 })).length;

      const first = await store.prune({ before, at: day(28), limit: 4 });
      assert.equal(first.events, 4);
      assert.ok(first.more, 'more is due');
      assert.equal((await verifyStoreChain(store)).problem, null, 'verifiable after one chunk');
      let last = first;
      while (last.more) last = await store.prune({ before, at: day(28), limit: 4 });

      const left = await store.listEvents({ limit: 1000 });
      assert.ok(
        left.every((e) => e.at >= before || e.kind === 'retention.pruned'),
        'every old event is gone',
      );
      assert.deepEqual(
        left.filter((e) => e.kind === 'auth.failed').map((e) => e.data['d']),
        [20, 21, 22],
      );
      const pruned = left.filter((e) => e.kind === 'retention.pruned');
      assert.ok(pruned.length >= 2);
      assert.equal(pruned[0]?.data['before'], before);
      const verdict = await verifyStoreChain(store);
      assert.equal(verdict.problem, null, JSON.stringify(verdict));
      const head = await store.auditHead();
      const removed = pruned.reduce((n, e) => n + Number(e.data['events']), 0);
      assert.equal(removed, eventsBefore - 3, 'all but the recent three (the pruned records are new)');
      assert.deepEqual(head?.baseId, (pruned.at(-1)?.data['cut'] as { id: number } | null)?.id ?? head?.baseId);

      assert.equal(await store.getRun(old.id), null, 'the old finished run is gone');
      assert.equal((await store.getRun(stuck.id))?.state, 'pending', 'an unfinished run stays, however old');
      assert.deepEqual(
        await store.prune({ before, at: day(29), limit: 4 }),
        { events: 0, runs: 0, batches: 0, cut: null, more: false },
        'nothing more, nothing recorded',
      );
    }),
  );
}
