import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NewEvent } from '../../src/domain/run.js';
import type { NewRun, Store } from '../../src/domain/store.js';
import { verifyStoreChain } from '../../src/record/audit-verify.js';

const at = '2026-11-29T04:00:00.000Z';

/**
 * Store.withDecisionSlice: many store calls as one transaction under the decision lock. Called
 * from storeContract.
 */
export function sliceContract(withStore: (fn: (store: Store) => Promise<void>) => () => Promise<void>, run: (over?: Partial<NewRun>) => NewRun): void {
  const nth = (n: number) => run({ fingerprint: `fp${n}`, instanceKey: `fp${n}@${at}`, targetKey: `t${n}` });
  const created = (n: number): NewEvent => ({ kind: 'run.created', at, data: { n } });

  test(
    'a decision slice commits all it wrote together, reads its own writes, and the chain verifies',
    withStore(async (store) => {
      const ids = await store.withDecisionSlice(async () => {
        const out: string[] = [];
        for (let n = 0; n < 5; n++) {
          const r = await store.createRun(nth(n), [], [created(n)]);
          assert.ok(r);
          out.push(r.id);
          await store.appendEvents([{ kind: 'decision', at, data: { n } }]);
        }
        // The slice sees what it wrote: a second run of the same instance is refused inside it.
        assert.equal(await store.createRun({ ...nth(0), id: `${nth(0).id}x` }, [], []), null);
        // withDecisionLock inside a slice runs at once (the slice holds the lock).
        assert.equal(await store.withDecisionLock(() => Promise.resolve('nested')), 'nested');
        return out;
      });
      assert.equal(ids.length, 5);
      for (const id of ids) assert.ok(await store.getRun(id));
      const verdict = await verifyStoreChain(store);
      assert.equal(verdict.problem, null);
      assert.equal(verdict.count, 10);
    }),
  );

  test(
    'a decision slice that throws leaves nothing behind, and the chain goes on from where it was',
    withStore(async (store) => {
      await store.appendEvents([{ kind: 'decision', at, data: { before: true } }]);
      const failed = store.withDecisionSlice(async () => {
        await store.createRun(nth(1), [], [created(1)]);
        await store.appendEvents([{ kind: 'decision', at, data: { n: 1 } }]);
        throw new Error('deciding failed');
      });
      await assert.rejects(failed, /deciding failed/);
      assert.equal((await store.listRuns({ limit: 10 })).runs.length, 0);
      assert.equal((await store.auditHead())?.lastId, 1);
      assert.ok(await store.createRun(nth(1), [], [created(1)]));
      const verdict = await verifyStoreChain(store);
      assert.equal(verdict.problem, null);
      assert.equal(verdict.count, 2);
    }),
  );

  test(
    'calls from outside a slice are not part of it: a batch saved meanwhile is committed whatever the slice does',
    withStore(async (store) => {
      // Someone else (a webhook) saves a batch while the slice is open: started from outside its context.
      let go!: () => void;
      const saved = new Promise<void>((resolve) => (go = resolve)).then(() =>
        store.saveBatch({ receivedAt: new Date(at), receiver: 'r', status: 'firing', groupKey: '{}:x', alertCount: 0, payload: {}, source: {} }),
      );
      const failed = store.withDecisionSlice(async () => {
        await store.createRun(nth(2), [], [created(2)]);
        go();
        await new Promise((r) => setImmediate(r));
        throw new Error('rolled back');
      });
      await assert.rejects(failed, /rolled back/);
      await saved;
      assert.equal(await store.countPendingBatches(), 1);
      assert.equal((await store.listRuns({ limit: 10 })).runs.length, 0);
      assert.equal((await verifyStoreChain(store)).problem, null);
    }),
  );

  test(
    'decision slices and decision-lock holders take turns',
    withStore(async (store) => {
      const order: string[] = [];
      const slice = (name: string) =>
        store.withDecisionSlice(async () => {
          order.push(`${name}:in`);
          await store.appendEvents([{ kind: 'decision', at, data: { name } }]);
          await new Promise((r) => setTimeout(r, 5));
          order.push(`${name}:out`);
        });
      const lock = () =>
        store.withDecisionLock(async () => {
          order.push('lock:in');
          await new Promise((r) => setTimeout(r, 5));
          order.push('lock:out');
        });
      await Promise.all([slice('a'), lock(), slice('b')]);
      assert.deepEqual(order, ['a:in', 'a:out', 'lock:in', 'lock:out', 'b:in', 'b:out']);
      assert.equal((await verifyStoreChain(store)).count, 2);
    }),
  );
}
