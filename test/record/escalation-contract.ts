import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NewRun, Store } from '../../src/domain/store.js';
import type { RunStep } from '../../src/domain/run.js';

type WithStore = (fn: (store: Store) => Promise<void>) => () => Promise<void>;

/** Escalations: which runs count as not fixing a target, one open escalation per key, clearing. */
export function escalationContract(withStore: WithStore, run: (over?: Partial<NewRun>) => NewRun, step: RunStep): void {
  const at = (m: number) => new Date(Date.parse('2026-11-28T21:00:00Z') + m * 60_000).toISOString();
  const ended = async (store: Store, over: Partial<NewRun>, state: 'failed' | 'succeeded' | 'rejected', steps = [step]) => {
    const r = run({ dryRun: false, reason: 'playbook mode is live', ...over });
    assert.ok(await store.createRun(r, steps, []));
    assert.ok(await store.transitionRun(r.id, { from: ['pending'], to: state, at: over.createdAt ?? at(0) }));
    return r.id;
  };
  const query = { playbook: 'rollback', targetKey: 'shop/checkout', instanceKey: 'fp9@now', since: new Date(at(0)) };

  test(
    'escalation state: failed live runs and succeeded ones the alert fired again after count, nothing else',
    withStore(async (store) => {
      const failed = await ended(store, { instanceKey: 'fp1@1', createdAt: at(1) }, 'failed');
      await ended(store, { instanceKey: 'fp2@1', createdAt: at(2), dryRun: true }, 'failed');
      await ended(store, { instanceKey: 'fp3@1', createdAt: at(3) }, 'failed', []);
      await ended(store, { instanceKey: 'fp4@1', createdAt: at(4) }, 'rejected');
      await ended(store, { instanceKey: 'fp5@1', createdAt: at(5), targetKey: 'shop/cart' }, 'failed');
      const fixedThenFiredAgain = await ended(store, { instanceKey: 'fp6@1', createdAt: at(6) }, 'succeeded');
      await ended(store, { instanceKey: 'fp9@now', createdAt: at(7) }, 'succeeded');
      await ended(store, { instanceKey: 'fp7@1', createdAt: '2026-11-28T20:59:00.000Z' }, 'failed');
      const state = await store.escalationState(query);
      assert.equal(state.open, null);
      assert.deepEqual(
        state.unfixed.map((r) => [r.id, r.state]),
        [
          [failed, 'failed'],
          [fixedThenFiredAgain, 'succeeded'],
        ],
      );
    }),
  );

  test(
    'an escalation opens once per key, is read back, and after clearing only later runs count',
    withStore(async (store) => {
      const id1 = await ended(store, { instanceKey: 'fp1@1', createdAt: at(1) }, 'failed');
      const runs = (await store.escalationState(query)).unfixed;
      const open = { playbook: 'rollback', targetKey: 'shop/checkout', at: at(2), reason: 'two failed', runs };
      const first = await store.openEscalation({ id: 'e1', ...open });
      assert.equal(first?.id, 'e1');
      assert.deepEqual(
        first?.runs.map((r) => r.id),
        [id1],
      );
      assert.equal(await store.openEscalation({ id: 'e2', ...open }), null, 'one open escalation per playbook and key');
      const state = await store.escalationState(query);
      assert.equal(state.open?.id, 'e1');
      assert.equal(state.open?.openedAt.toISOString(), at(2));
      assert.deepEqual(
        (await store.listEscalations({ limit: 10 })).map((e) => e.id),
        ['e1'],
      );

      const cleared = await store.clearEscalation({ id: 'e1', at: at(3), by: 'alice', via: 'cli', note: 'fixed the gateway' });
      assert.equal(cleared?.clearedBy, 'alice');
      assert.equal(cleared?.clearNote, 'fixed the gateway');
      assert.equal(await store.clearEscalation({ id: 'e1', at: at(4), by: 'bob', via: 'cli', note: '' }), null, 'cleared once');
      assert.deepEqual(await store.escalationState(query), { open: null, unfixed: [] }, 'runs before the clearing no longer count');
      const later = await ended(store, { instanceKey: 'fp2@1', createdAt: at(5) }, 'failed');
      assert.deepEqual(
        (await store.escalationState(query)).unfixed.map((r) => r.id),
        [later],
      );
      assert.deepEqual(await store.listEscalations({ limit: 10 }), []);
      assert.equal((await store.listEscalations({ all: true, limit: 10 })).length, 1);
      assert.equal((await store.openEscalation({ id: 'e3', ...open, at: at(6) }))?.id, 'e3', 'a key may escalate again after clearing');
      const kinds = (await store.listEvents({ limit: 100 })).filter((e) => e.kind.startsWith('escalation.'));
      assert.deepEqual(
        kinds.map((e) => [e.kind, e.data['id']]),
        [
          ['escalation.opened', 'e1'],
          ['escalation.cleared', 'e1'],
          ['escalation.opened', 'e3'],
        ],
      );
      assert.equal(kinds[1]?.data['by'], 'alice');
    }),
  );
}
