import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NewRun, Store } from '../../src/domain/store.js';
import type { RunStep } from '../../src/domain/run.js';

const T0 = '2026-11-29T03:12:00.000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();

/**
 * What replicas on one database rely on: batches claimed by one replica at a time, leases on the
 * runs a replica executes, and one decision at a time. Called from storeContract; a second store
 * on the same database, when the implementation can open one (PostgreSQL), is tested there too.
 */
export function replicaContract(
  withStore: (fn: (store: Store) => Promise<void>) => () => Promise<void>,
  run: (over?: Partial<NewRun>) => NewRun,
  step: RunStep,
): void {
  const batch = (store: Store, second: number) =>
    store.saveBatch({
      receivedAt: new Date(Date.parse(T0) + second * 1000),
      receiver: 'remediator',
      status: 'firing',
      groupKey: `{}:${second}`,
      alertCount: 0,
      payload: { n: second },
      source: {},
    });

  test(
    'a claimed batch is not claimed by another owner until its claim expires; the owner may claim it again',
    withStore(async (store) => {
      const [b1, b2] = [await batch(store, 1), await batch(store, 2)];
      const a = await store.claimBatches({ owner: 'a', limit: 1, until: at(60), now: at(0) });
      assert.deepEqual(
        a.map((b) => b.id),
        [b1],
        'oldest first, at most the limit',
      );
      assert.deepEqual(
        (await store.claimBatches({ owner: 'b', limit: 10, until: at(60), now: at(0) })).map((b) => b.id),
        [b2],
      );
      assert.deepEqual(await store.claimBatches({ owner: 'c', limit: 10, until: at(60), now: at(30) }), [], 'both held');
      assert.deepEqual(
        (await store.claimBatches({ owner: 'a', limit: 10, until: at(90), now: at(30) })).map((b) => b.id),
        [b1],
        'its own again',
      );
      await store.markBatchProcessed(b1, { kind: 'batch.processed', data: {} });
      assert.deepEqual(
        (await store.claimBatches({ owner: 'c', limit: 10, until: at(200), now: at(61) })).map((b) => [b.id, b.payload]),
        [[b2, { n: 2 }]],
        'b died: its claim expired',
      );
      assert.deepEqual(await store.claimBatches({ owner: 'a', limit: 10, until: at(300), now: at(100) }), [], 'processed batches are never claimed');
    }),
  );

  test(
    'a run taken with a lease is renewed by its owner and interrupted once the lease runs out',
    withStore(async (store) => {
      const mine = run({ dryRun: false });
      const theirs = run({ instanceKey: 'fp2@x', fingerprint: 'fp2', targetKey: 'other' });
      for (const r of [mine, theirs]) {
        await store.createRun(r, [step], []);
        await store.transitionRun(r.id, { from: ['pending'], to: 'running', at: at(0), lease: { owner: r === mine ? 'a' : 'b', until: at(30) } });
      }
      await store.transitionRun(theirs.id, {
        from: ['running'],
        to: 'running',
        at: at(1),
        steps: [{ phase: 'main', index: 0, state: 'running', startedAt: at(1) }],
      });
      assert.deepEqual([(await store.getRun(mine.id))?.owner, (await store.getRun(mine.id))?.leaseUntil], ['a', at(30)]);
      assert.deepEqual(await store.renewLeases('a', at(60), [mine.id, theirs.id]), [mine.id], "only a's own running runs");
      assert.deepEqual(await store.renewLeases('a', at(60), []), [], 'nothing named, nothing renewed');
      assert.deepEqual(await store.interruptExpired(at(30), 'lease expired'), [], 'not yet: at the lease is not before it');
      assert.deepEqual(await store.interruptExpired(at(31), 'lease expired'), [theirs.id], 'b stopped renewing');
      const dead = await store.getRun(theirs.id);
      assert.deepEqual(
        [dead?.state, dead?.reason, dead?.steps[0]?.state, dead?.events.at(-1)?.data['owner']],
        ['interrupted', 'lease expired', 'interrupted', 'b'],
      );
      assert.equal((await store.getRun(mine.id))?.state, 'running');
      assert.deepEqual(await store.interruptExpired(at(61), 'lease expired'), [mine.id]);
      assert.deepEqual(await store.renewLeases('a', at(90), [mine.id]), [], 'a finished or interrupted run is not renewed');
    }),
  );

  test(
    'the decision lock runs one holder at a time, in order, and survives a holder that throws',
    withStore(async (store) => {
      const order: string[] = [];
      let inside = 0;
      const holder = (name: string, fail = false) =>
        store.withDecisionLock(async () => {
          inside++;
          assert.equal(inside, 1, 'one holder at a time');
          order.push(`${name}:in`);
          await new Promise((r) => setTimeout(r, 5));
          order.push(`${name}:out`);
          inside--;
          if (fail) throw new Error(`${name} failed`);
          return name;
        });
      const results = await Promise.allSettled([holder('a'), holder('b', true), holder('c')]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.deepEqual(order, ['a:in', 'a:out', 'b:in', 'b:out', 'c:in', 'c:out']);
    }),
  );
}
