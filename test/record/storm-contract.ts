import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NewRun, Store, StormSeen } from '../../src/domain/store.js';
import { instancePair } from '../../src/domain/store-records.js';
import { verifyStoreChain } from '../../src/record/audit-verify.js';

type WithStore = (fn: (store: Store) => Promise<void>) => () => Promise<void>;

/** guards.storm's rows: instances counted once, one open storm, figures kept as it grows, a conditional end. */
export function stormContract(withStore: WithStore, run: (over?: Partial<NewRun>) => NewRun): void {
  const at = (s: number) => new Date(Date.parse('2026-12-02T03:00:00Z') + s * 1000).toISOString();
  const seen = (n: number, s: number, over: Partial<StormSeen> = {}): StormSeen => ({
    instanceKey: `fp${n}@x`,
    targetKey: `shop/d${n}`,
    playbook: 'rollback',
    alertname: 'HighErrorRate',
    labels: { alertname: 'HighErrorRate', cluster: 'eu1', gateway: 'v2.3', deployment: `d${n}` },
    generatorUrl: 'http://prometheus/graph?g0.expr=errors',
    at: at(s),
    ...over,
  });

  test(
    'storm seen: each alert instance counts once, in the window, with its distinct targets',
    withStore(async (store) => {
      assert.deepEqual((await store.recordStormSeen([seen(1, 0), seen(2, 1), seen(3, 2, { targetKey: 'shop/d1' })], null)).fresh, ['fp1@x', 'fp2@x', 'fp3@x']);
      assert.deepEqual(await store.recordStormSeen([seen(2, 5), seen(4, 5)], null), { fresh: ['fp4@x'], stormOf: new Map() }, 'a redelivery is not new');
      const w = await store.stormWindow({ since: new Date(at(1)), targetsLimit: 10 });
      assert.equal(w.open, null);
      assert.equal(w.instances, 3);
      assert.deepEqual(w.targets, ['shop/d1', 'shop/d2', 'shop/d4']);
      assert.deepEqual((await store.stormWindow({ since: new Date(at(0)), targetsLimit: 2 })).targets, ['shop/d1', 'shop/d2']);
    }),
  );

  test(
    'one open storm: it takes the window, a second opening writes nothing, it grows and ends once',
    withStore(async (store) => {
      await store.recordStormSeen([seen(0, 0), seen(1, 10), seen(2, 11), seen(3, 12)], null);
      const storm = await store.openStorm({ id: 's1', at: at(12), since: at(5) });
      assert.ok(storm);
      assert.deepEqual(
        { alerts: storm.alerts, targets: storm.targets, playbooks: storm.playbooks, common: storm.commonLabels, url: storm.generatorUrl },
        {
          alerts: 3,
          targets: 3,
          playbooks: ['rollback'],
          common: { alertname: 'HighErrorRate', cluster: 'eu1', gateway: 'v2.3' },
          url: 'http://prometheus/graph?g0.expr=errors',
        },
      );
      assert.equal(await store.openStorm({ id: 's2', at: at(13), since: at(5) }), null, 'one open storm at a time');
      assert.equal((await store.stormWindow({ since: new Date(at(0)), targetsLimit: 5 })).open?.id, 's1');

      const more = [
        seen(4, 20, { playbook: 'degrade', targetKey: 'shop/d1', labels: { alertname: 'HighErrorRate', cluster: 'eu1', deployment: 'd1' } }),
        seen(5, 20),
      ];
      assert.deepEqual((await store.recordStormSeen(more, 's1')).fresh, ['fp4@x', 'fp5@x']);
      assert.deepEqual(
        await store.recordStormSeen([seen(1, 21), seen(0, 21), seen(9, 21)], null),
        { fresh: ['fp9@x'], stormOf: new Map([['fp1@x', 's1']]) },
        'seen before: the storm it is part of (fp0 was before the window, in none)',
      );
      const grown = await store.growStorm('s1', { at: at(20), seen: more });
      assert.deepEqual(
        { alerts: grown?.alerts, targets: grown?.targets, playbooks: grown?.playbooks, common: grown?.commonLabels, last: grown?.lastAlertAt },
        { alerts: 5, targets: 4, playbooks: ['degrade', 'rollback'], common: { alertname: 'HighErrorRate', cluster: 'eu1' }, last: at(20) },
      );

      assert.equal(await store.endStorm({ at: at(25), quietSince: at(19) }), null, 'not quiet long enough');
      const ended = await store.endStorm({ at: at(40), quietSince: at(20) });
      assert.equal(ended?.id, 's1');
      assert.equal(ended?.endedAt, at(40));
      assert.equal(await store.endStorm({ at: at(41), quietSince: at(41) }), null, 'ended once');
      assert.ok(await store.openStorm({ id: 's3', at: at(50), since: at(45) }), 'a new storm after the end');
      assert.deepEqual(
        (await store.listStorms({ all: true, limit: 10 })).map((s) => [s.id, s.endedAt === null]),
        [
          ['s3', true],
          ['s1', false],
        ],
      );
      assert.deepEqual(
        (await store.listStorms({ limit: 10 })).map((s) => s.id),
        ['s3'],
      );
      const kinds = (await store.listEvents({ limit: 100 })).map((e) => e.kind).filter((k) => k.startsWith('storm.'));
      assert.deepEqual(kinds.sort(), ['storm.ended', 'storm.opened', 'storm.opened']);
      assert.equal((await verifyStoreChain(store)).problem, null);
    }),
  );

  test(
    'the runs of alert instances, for many pairs in one read',
    withStore(async (store) => {
      const a = run({ playbook: 'rollback', instanceKey: 'fp1@x', targetKey: 't1' });
      const b = run({ playbook: 'scale', instanceKey: 'fp1@x', targetKey: 't1' });
      assert.ok(await store.createRun(a, [], []));
      assert.ok(await store.createRun(b, [], []));
      const found = await store.instanceRuns([
        { playbook: 'rollback', instanceKey: 'fp1@x' },
        { playbook: 'rollback', instanceKey: 'fp2@x' },
        { playbook: 'scale', instanceKey: 'fp1@x' },
      ]);
      assert.deepEqual([...found].sort(), [
        [instancePair('rollback', 'fp1@x'), { id: a.id, state: 'pending' }],
        [instancePair('scale', 'fp1@x'), { id: b.id, state: 'pending' }],
      ]);
      assert.equal((await store.instanceRuns([])).size, 0);
    }),
  );

  test(
    "a storm's runs and its message",
    withStore(async (store) => {
      await store.recordStormSeen([seen(1, 0)], null);
      assert.ok(await store.openStorm({ id: 's1', at: at(1), since: at(0) }));
      const held = run({ stormId: 's1', dryRun: false, needsApproval: true });
      assert.ok(await store.createRun(held, [], []));
      assert.ok(await store.createRun(run({ instanceKey: 'other', targetKey: 'other' }), [], []));
      assert.deepEqual(
        (await store.stormRuns('s1')).map((r) => [r.id, r.stormId]),
        [[held.id, 's1']],
      );
      assert.equal((await store.getRun(held.id))?.stormId, 's1');
      await store.setStormMessage('s1', { channel: 'C1', ts: '171.2' });
      assert.deepEqual((await store.getStorm('s1'))?.message, { channel: 'C1', ts: '171.2' });
      assert.equal(await store.getStorm('nope'), null);
    }),
  );
}
