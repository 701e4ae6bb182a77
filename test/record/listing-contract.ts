import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NewRun, Store } from '../../src/domain/store.js';
import { newId } from '../../src/record/ids.js';

/**
 * Listing on every store, as the console asks: runs by mode and by text over alertname and labels
 * (a bounded window per page, continued by the cursor), events newest first.
 */
export function listingContract(withStore: (fn: (store: Store) => Promise<void>) => () => Promise<void>, run: (over?: Partial<NewRun>) => NewRun): void {
  /** Runs created oldest first, so ids (time-ordered) follow the list. */
  async function seed(store: Store, runs: Partial<NewRun>[]): Promise<string[]> {
    const ids: string[] = [];
    for (const [i, over] of runs.entries()) {
      const r = run({ id: newId('r', new Date(Date.UTC(2026, 10, 28) + i * 1000)), instanceKey: `i${i}@x`, fingerprint: `f${i}`, targetKey: `t${i}`, ...over });
      assert.ok(await store.createRun(r, [], []));
      ids.push(r.id);
    }
    return ids;
  }

  test(
    'runs by mode and by text: alertname or labels, ignoring case; name=value matches one label exactly',
    withStore(async (store) => {
      const ids = await seed(store, [
        { alertname: 'DiskFull', labels: { alertname: 'DiskFull', namespace: 'shop', host: 'db-1' }, dryRun: true },
        { alertname: 'Burst', labels: { alertname: 'Burst', namespace: 'shop-eu', deployment: 'checkout' }, dryRun: false },
        { alertname: 'Burst', labels: { alertname: 'Burst', namespace: 'payments', note: '100% "quoted" a_b' }, dryRun: false },
      ]);
      const text = async (t: string, more: Partial<Parameters<Store['listRuns']>[0]> = {}) =>
        (await store.listRuns({ limit: 10, text: t, ...more })).runs.map((r) => ids.indexOf(r.id));
      assert.deepEqual(await text('burst'), [2, 1], 'alertname, any case');
      assert.deepEqual(await text('CHECKOUT'), [1], 'a label value');
      assert.deepEqual(await text('shop'), [1, 0], 'a part of a value');
      assert.deepEqual(await text('namespace=shop'), [0], 'name=value is the whole value');
      assert.deepEqual(await text('burst namespace=payments'), [2], 'every word must match');
      assert.deepEqual(await text('100%'), [2], '% is a character, not a wildcard');
      assert.deepEqual(await text('a_b'), [2], '_ is a character, not a wildcard');
      assert.deepEqual(await text('"quoted"'), [2], 'quotes inside values');
      assert.deepEqual(await text('nothing-like-this'), []);
      const live = (await store.listRuns({ limit: 10, dryRun: false })).runs.map((r) => ids.indexOf(r.id));
      assert.deepEqual(live, [2, 1]);
      assert.deepEqual(
        (await store.listRuns({ limit: 10, dryRun: true, text: 'shop' })).runs.map((r) => ids.indexOf(r.id)),
        [0],
      );
    }),
  );

  test(
    'a search looks through a bounded window per page and says so; the cursor goes on from its end',
    withStore(async (store) => {
      const ids = await seed(
        store,
        Array.from({ length: 7 }, (_, i) => ({ labels: { alertname: 'A', n: i % 3 === 0 ? 'hit' : 'miss' } })),
      );
      // Hits are runs 6, 3 and 0, newest first; the window looks through 2 runs per page.
      const pages: { hits: number[]; partial: boolean }[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 10; i++) {
        const page = await store.listRuns({ limit: 10, text: 'n=hit', window: 2, ...(cursor ? { cursor } : {}) });
        pages.push({ hits: page.runs.map((r) => ids.indexOf(r.id)), partial: page.partial === true });
        if (page.next === null) break;
        cursor = page.next;
      }
      assert.deepEqual(pages, [
        { hits: [6], partial: true },
        { hits: [3], partial: true },
        { hits: [], partial: true },
        { hits: [0], partial: false },
      ]);
      // A full page ends at its last run, whatever the window.
      const full = await store.listRuns({ limit: 1, text: 'n=hit', window: 100 });
      assert.deepEqual(
        full.runs.map((r) => ids.indexOf(r.id)),
        [6],
      );
      assert.equal(full.partial, undefined);
      const rest = await store.listRuns({ limit: 5, text: 'n=hit', window: 100, cursor: full.next as string });
      assert.deepEqual(
        rest.runs.map((r) => ids.indexOf(r.id)),
        [3, 0],
      );
      assert.equal(rest.next, null);
    }),
  );

  test(
    'events newest first, paged before an id',
    withStore(async (store) => {
      for (let n = 1; n <= 5; n++) await store.appendEvents([{ kind: n % 2 ? 'paused' : 'resumed', data: { n } }]);
      const newest = await store.listEvents({ limit: 2, newestFirst: true });
      assert.deepEqual(
        newest.map((e) => e.data['n']),
        [5, 4],
      );
      const older = await store.listEvents({ limit: 2, newestFirst: true, beforeId: newest[1]?.id });
      assert.deepEqual(
        older.map((e) => e.data['n']),
        [3, 2],
      );
      const paused = await store.listEvents({ limit: 10, newestFirst: true, kind: 'paused' });
      assert.deepEqual(
        paused.map((e) => e.data['n']),
        [5, 3, 1],
      );
    }),
  );
}
