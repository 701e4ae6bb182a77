import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NewRun, Store } from '../../src/domain/store.js';
import type { RunStep } from '../../src/domain/run.js';
import { newId } from '../../src/record/ids.js';

/**
 * The behaviour every Store must have, whatever its database. Each implementation's test file
 * calls this with a factory that returns a fresh, empty store.
 */
export function storeContract(name: string, open: () => Promise<{ store: Store; cleanup: () => Promise<void> }>): void {
  const withStore = (fn: (store: Store) => Promise<void>) => async () => {
    const { store, cleanup } = await open();
    try {
      await fn(store);
    } finally {
      await store.close();
      await cleanup();
    }
  };

  const run = (over: Partial<NewRun> = {}): NewRun => ({
    id: newId('r'),
    playbook: 'rollback',
    playbookHash: 'h1',
    batchId: null,
    alertname: 'ServiceUpgradeErrorBurst',
    fingerprint: 'fp1',
    startsAt: '2026-11-28T21:12:23.687341347Z',
    instanceKey: 'fp1@2026-11-28T21:12:23.687341347Z',
    targetKey: 'shop/checkout',
    dryRun: true,
    state: 'pending',
    reason: 'execution is dry-run',
    params: { namespace: 'shop' },
    labels: { alertname: 'ServiceUpgradeErrorBurst' },
    annotations: {},
    createdAt: '2026-11-28T21:13:00.000Z',
    ...over,
  });
  const step: RunStep = {
    index: 0,
    name: 'undo',
    kind: 'run',
    phase: 'main',
    readOnly: false,
    rendered: { kind: 'run', argv: ['kubectl', 'rollout', 'undo'], dryRunArgv: null, env: {}, cwd: null },
    deferred: false,
    state: 'planned',
    startedAt: null,
    finishedAt: null,
    exitCode: null,
    output: null,
    error: null,
  };

  describe(`Store contract: ${name}`, () => {
    test('a saved batch is pending until marked processed', withStore(async (store) => {
      const id = await store.saveBatch({ receivedAt: new Date('2026-11-28T21:13:00Z'), receiver: 'remediator', status: 'firing', groupKey: '{}:{}', alertCount: 0, payload: { alerts: [] }, source: {} });
      const pending = await store.pendingBatches(10);
      assert.deepEqual(pending.map((b) => b.id), [id]);
      assert.deepEqual(pending[0]?.payload, { alerts: [] });
      assert.equal(await store.countPendingBatches(), 1);
      await store.markBatchProcessed(id, { kind: 'batch.processed', data: { runs: 0 } });
      assert.deepEqual(await store.pendingBatches(10), []);
      assert.equal(await store.countPendingBatches(), 0);
      const events = await store.listEvents({ limit: 10 });
      assert.deepEqual(events.map((e) => [e.kind, e.batchId]), [['batch.received', id], ['batch.processed', id]]);
    }));

    test('createRun stores the run, its steps and events together', withStore(async (store) => {
      const r = run();
      const created = await store.createRun(r, [step], [{ kind: 'run.created', data: { x: 1 } }]);
      assert.equal(created?.id, r.id);
      assert.equal(created?.state, 'pending');
      const detail = await store.getRun(r.id);
      assert.deepEqual(detail?.steps.map((s) => [s.name, s.state, s.rendered]), [['undo', 'planned', step.rendered]]);
      assert.deepEqual(detail?.events.map((e) => [e.kind, e.runId, e.playbook, e.fingerprint]), [['run.created', r.id, 'rollback', 'fp1']]);
      assert.deepEqual(detail?.params, { namespace: 'shop' });
    }));

    test('a second run for the same playbook and alert instance is refused, even when the first is over', withStore(async (store) => {
      const first = run();
      assert.ok(await store.createRun(first, [], []));
      assert.ok(await store.transitionRun(first.id, { from: ['pending'], to: 'succeeded', at: '2026-11-28T21:14:00.000Z' }));
      assert.equal(await store.createRun(run({ targetKey: 'other' }), [step], [{ kind: 'run.created', data: {} }]), null);
      assert.equal((await store.listRuns({ limit: 10 })).runs.length, 1);
      assert.equal((await store.listEvents({ limit: 10 })).length, 0, 'the refused run wrote no event');
      assert.ok(await store.createRun(run({ playbook: 'other-playbook' }), [], []), 'another playbook may act on the same alert');
    }));

    test('one active run per playbook and target key; the key is free again when the run ends', withStore(async (store) => {
      const first = run();
      assert.ok(await store.createRun(first, [], []));
      assert.equal(await store.createRun(run({ instanceKey: 'fp2@x', fingerprint: 'fp2' }), [], []), null);
      const state = await store.guardState({ playbook: 'rollback', instanceKey: 'fp2@x', targetKey: 'shop/checkout', since: new Date('2026-11-28T20:00:00Z') });
      assert.deepEqual(state.activeRun, { id: first.id, state: 'pending' });
      assert.equal(state.instanceRun, null);
      assert.equal(state.recentRuns, 1);
      assert.equal(state.lastRunAt?.toISOString(), '2026-11-28T21:13:00.000Z');
      assert.ok(await store.transitionRun(first.id, { from: ['pending'], to: 'failed', reason: 'x', at: '2026-11-28T21:14:00.000Z' }));
      assert.ok(await store.createRun(run({ instanceKey: 'fp2@x', fingerprint: 'fp2' }), [], []));
    }));

    test('transitionRun only moves a run from an expected state, once', withStore(async (store) => {
      const r = run();
      await store.createRun(r, [step], []);
      const change = { from: ['pending'] as const, to: 'running' as const, at: '2026-11-28T21:13:01.000Z', events: [{ kind: 'run.state' as const, data: { to: 'running' } }] };
      const results = await Promise.all([store.transitionRun(r.id, change), store.transitionRun(r.id, change)]);
      assert.deepEqual(results.sort(), [false, true]);
      const ok = await store.transitionRun(r.id, {
        from: ['running'],
        to: 'succeeded',
        reason: 'done',
        at: '2026-11-28T21:13:02.000Z',
        steps: [{ phase: 'main', index: 0, state: 'succeeded', exitCode: 0, output: 'ok', startedAt: '2026-11-28T21:13:01.500Z', finishedAt: '2026-11-28T21:13:02.000Z' }],
      });
      assert.ok(ok);
      const detail = await store.getRun(r.id);
      assert.equal(detail?.state, 'succeeded');
      assert.equal(detail?.reason, 'done');
      assert.equal(detail?.finishedAt, '2026-11-28T21:13:02.000Z');
      assert.deepEqual([detail?.steps[0]?.state, detail?.steps[0]?.exitCode, detail?.steps[0]?.output], ['succeeded', 0, 'ok']);
      assert.equal(detail?.events.filter((e) => e.kind === 'run.state').length, 1);
    }));

    test('recordResolved marks every run of the alert instance once', withStore(async (store) => {
      const a = run();
      const b = run({ playbook: 'notify-only' });
      const other = run({ fingerprint: 'fp9', instanceKey: 'fp9@y', targetKey: 'other' });
      for (const r of [a, b, other]) await store.createRun(r, [], []);
      const ids = await store.recordResolved('fp1', a.startsAt, '2026-11-28T21:20:00.000Z');
      assert.deepEqual(ids.sort(), [a.id, b.id].sort());
      assert.deepEqual(await store.recordResolved('fp1', a.startsAt, '2026-11-28T21:21:00.000Z'), [], 'a second resolve changes nothing');
      assert.equal((await store.getRun(a.id))?.resolvedAt, '2026-11-28T21:20:00.000Z');
      assert.equal((await store.getRun(other.id))?.resolvedAt, null);
    }));

    test('interruptRunning marks runs a dead process left running', withStore(async (store) => {
      const r = run();
      await store.createRun(r, [], []);
      await store.transitionRun(r.id, { from: ['pending'], to: 'running', at: '2026-11-28T21:13:01.000Z' });
      assert.deepEqual(await store.interruptRunning('2026-11-28T21:30:00.000Z', 'restarted'), [r.id]);
      const detail = await store.getRun(r.id);
      assert.equal(detail?.state, 'interrupted');
      assert.equal(detail?.reason, 'restarted');
      assert.deepEqual(detail?.events.map((e) => e.data), [{ from: 'running', to: 'interrupted', reason: 'restarted' }]);
      assert.ok(await store.createRun(run({ id: newId('r'), instanceKey: 'fp1@later', startsAt: 'later' }), [], []), 'the target key is free again');
    }));

    test('listRuns pages newest first with filters', withStore(async (store) => {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const r = run({ id: newId('r', new Date(Date.UTC(2026, 10, 28, 21, 0, i))), instanceKey: `fp@${i}`, targetKey: `t${i}`, playbook: i % 2 ? 'odd' : 'even' });
        ids.push(r.id);
        await store.createRun(r, [], []);
      }
      const page1 = await store.listRuns({ limit: 3 });
      assert.deepEqual(page1.runs.map((r) => r.id), ids.slice(4).reverse());
      assert.ok(page1.next);
      const page2 = await store.listRuns({ limit: 3, cursor: page1.next });
      assert.deepEqual(page2.runs.map((r) => r.id), ids.slice(1, 4).reverse());
      const page3 = await store.listRuns({ limit: 3, cursor: page2.next ?? '' });
      assert.deepEqual(page3.runs.map((r) => r.id), [ids[0]]);
      assert.equal(page3.next, null);
      assert.deepEqual((await store.listRuns({ limit: 10, playbook: 'odd' })).runs.map((r) => r.id), [ids[5], ids[3], ids[1]]);
      assert.deepEqual((await store.listRuns({ limit: 10, state: 'running' })).runs, []);
      await assert.rejects(store.listRuns({ limit: 3, cursor: 'not-a-cursor' }), /cursor is not valid/);
    }));

    test('getRun of an unknown id is null', withStore(async (store) => {
      assert.equal(await store.getRun('r_00000000000000000000000000'), null);
    }));
  });
}
