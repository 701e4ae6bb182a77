import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GuardQuery, NewRun, Store } from '../../src/domain/store.js';
import type { RunStep } from '../../src/domain/run.js';
import { newId } from '../../src/record/ids.js';
import { verifyStoreChain } from '../../src/record/audit-verify.js';
import { GENESIS_HASH } from '../../src/domain/audit-chain.js';
import { approvalContract } from './approval-contract.js';
import { escalationContract } from './escalation-contract.js';
import { listingContract } from './listing-contract.js';
import { replicaContract } from './replica-contract.js';
import { retentionContract } from './retention-contract.js';
import { sliceContract } from './slice-contract.js';
import { stormContract } from './storm-contract.js';

/** A run to create, with whatever a test changes. */
export const contractRun = (over: Partial<NewRun> = {}): NewRun => ({
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
/** A planned step that changes something. */
export const contractStep: RunStep = {
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

  const run = contractRun;
  const step = contractStep;
  describe(`Store contract: ${name}`, () => {
    approvalContract(withStore, run, step);
    escalationContract(withStore, run, step);
    replicaContract(withStore, run, step);
    retentionContract(withStore, run);
    listingContract(withStore, run);
    sliceContract(withStore, run);
    stormContract(withStore, run);
    test(
      'a request key is remembered once until it is stale, then forgotten',
      withStore(async (store) => {
        const t = (s: number) => new Date(Date.parse('2026-11-28T21:00:00Z') + s * 1000).toISOString();
        assert.equal(await store.rememberRequest('v0=abc', t(300), t(0)), true);
        assert.equal(await store.rememberRequest('v0=abc', t(400), t(299)), false, 'a replay within its window');
        assert.equal(await store.rememberRequest('v0=def', t(310), t(10)), true, 'another key');
        assert.equal(await store.rememberRequest('v0=abc', t(700), t(300)), true, 'stale at its time: removed, so it may be taken again');
      }),
    );
    test(
      'a saved batch is pending until marked processed',
      withStore(async (store) => {
        const id = await store.saveBatch({
          receivedAt: new Date('2026-11-28T21:13:00Z'),
          receiver: 'remediator',
          status: 'firing',
          groupKey: '{}:{}',
          alertCount: 0,
          payload: { alerts: [] },
          source: {},
        });
        const claim = () => store.claimBatches({ owner: 'a', limit: 10, until: '2026-11-28T21:14:00.000Z', now: '2026-11-28T21:13:01.000Z' });
        const pending = await claim();
        assert.deepEqual(
          pending.map((b) => b.id),
          [id],
        );
        assert.deepEqual(pending[0]?.payload, { alerts: [] });
        assert.equal(await store.countPendingBatches(), 1);
        await store.markBatchProcessed(id, { kind: 'batch.processed', data: { runs: 0 } });
        assert.deepEqual(await claim(), []);
        assert.equal(await store.countPendingBatches(), 0);
        const events = await store.listEvents({ limit: 10 });
        assert.deepEqual(
          events.map((e) => [e.kind, e.batchId]),
          [
            ['batch.received', id],
            ['batch.processed', id],
          ],
        );
      }),
    );

    test(
      'createRun stores the run, its steps and events together',
      withStore(async (store) => {
        const r = run();
        const created = await store.createRun(r, [step], [{ kind: 'run.created', data: { x: 1 } }]);
        assert.equal(created?.id, r.id);
        assert.equal(created?.state, 'pending');
        const detail = await store.getRun(r.id);
        assert.deepEqual(
          detail?.steps.map((s) => [s.name, s.state, s.rendered]),
          [['undo', 'planned', step.rendered]],
        );
        assert.deepEqual(
          detail?.events.map((e) => [e.kind, e.runId, e.playbook, e.fingerprint]),
          [['run.created', r.id, 'rollback', 'fp1']],
        );
        assert.deepEqual(detail?.params, { namespace: 'shop' });
      }),
    );

    test(
      'a second run for the same playbook and alert instance is refused, even when the first is over',
      withStore(async (store) => {
        const first = run();
        assert.ok(await store.createRun(first, [], []));
        assert.ok(await store.transitionRun(first.id, { from: ['pending'], to: 'succeeded', at: '2026-11-28T21:14:00.000Z' }));
        assert.equal(await store.createRun(run({ targetKey: 'other' }), [step], [{ kind: 'run.created', data: {} }]), null);
        assert.equal((await store.listRuns({ limit: 10 })).runs.length, 1);
        assert.equal((await store.listEvents({ limit: 10 })).length, 0, 'the refused run wrote no event');
        assert.ok(await store.createRun(run({ playbook: 'other-playbook' }), [], []), 'another playbook may act on the same alert');
      }),
    );

    test(
      'one active run per playbook and target key; the key is free again when the run ends',
      withStore(async (store) => {
        const first = run();
        // With a step: a run without one (refused for its params) never acts, and guards count only runs that may.
        assert.ok(await store.createRun(first, [step], []));
        assert.equal(await store.createRun(run({ instanceKey: 'fp2@x', fingerprint: 'fp2' }), [], []), null);
        const state = await store.guardState({
          playbook: 'rollback',
          instanceKey: 'fp2@x',
          targetKey: 'shop/checkout',
          since: new Date('2026-11-28T20:00:00Z'),
        });
        assert.deepEqual(state.activeRun, { id: first.id, state: 'pending' });
        assert.equal(state.instanceRun, null);
        assert.equal(state.recentRuns, 1);
        assert.equal(state.lastRunAt?.toISOString(), '2026-11-28T21:13:00.000Z');
        assert.ok(await store.transitionRun(first.id, { from: ['pending'], to: 'failed', reason: 'x', at: '2026-11-28T21:14:00.000Z' }));
        assert.ok(await store.createRun(run({ instanceKey: 'fp2@x', fingerprint: 'fp2' }), [], []));
      }),
    );

    test(
      'transitionRun only moves a run from an expected state, once',
      withStore(async (store) => {
        const r = run();
        await store.createRun(r, [step], []);
        const change = {
          from: ['pending'] as const,
          to: 'running' as const,
          at: '2026-11-28T21:13:01.000Z',
          events: [{ kind: 'run.state' as const, data: { to: 'running' } }],
        };
        const results = await Promise.all([store.transitionRun(r.id, change), store.transitionRun(r.id, change)]);
        assert.deepEqual(results.sort(), [false, true]);
        const ok = await store.transitionRun(r.id, {
          from: ['running'],
          to: 'succeeded',
          reason: 'done',
          at: '2026-11-28T21:13:02.000Z',
          steps: [
            {
              phase: 'main',
              index: 0,
              state: 'succeeded',
              exitCode: 0,
              output: 'ok',
              startedAt: '2026-11-28T21:13:01.500Z',
              finishedAt: '2026-11-28T21:13:02.000Z',
            },
          ],
        });
        assert.ok(ok);
        const detail = await store.getRun(r.id);
        assert.equal(detail?.state, 'succeeded');
        assert.equal(detail?.reason, 'done');
        assert.equal(detail?.finishedAt, '2026-11-28T21:13:02.000Z');
        assert.deepEqual([detail?.steps[0]?.state, detail?.steps[0]?.exitCode, detail?.steps[0]?.output], ['succeeded', 0, 'ok']);
        assert.equal(detail?.events.filter((e) => e.kind === 'run.state').length, 1);
      }),
    );

    test(
      'setRunSilence stores the silence id on the run with its events; an unknown run changes nothing',
      withStore(async (store) => {
        const a = run();
        await store.createRun(a, [], []);
        assert.equal((await store.getRun(a.id))?.silenceId, null);
        const event = { kind: 'silence.created' as const, runId: a.id, playbook: a.playbook, fingerprint: a.fingerprint, data: { silenceId: 's-1' } };
        assert.equal(await store.setRunSilence(a.id, 's-1', [event]), true);
        const detail = await store.getRun(a.id);
        assert.equal(detail?.silenceId, 's-1');
        assert.deepEqual(
          detail?.events.filter((e) => e.kind === 'silence.created').map((e) => e.data['silenceId']),
          ['s-1'],
        );
        assert.equal(await store.setRunSilence('no-such-run', 's-2', [{ ...event, runId: 'no-such-run' }]), false);
        assert.equal((await store.listEvents({ kind: 'silence.created', limit: 100 })).length, 1, 'nothing appended for an unknown run');
      }),
    );

    test(
      'recordResolved marks every run of the alert instance once',
      withStore(async (store) => {
        const a = run();
        const b = run({ playbook: 'notify-only' });
        const other = run({ fingerprint: 'fp9', instanceKey: 'fp9@y', targetKey: 'other' });
        for (const r of [a, b, other]) await store.createRun(r, [], []);
        const ids = await store.recordResolved('fp1', a.startsAt, '2026-11-28T21:20:00.000Z');
        assert.deepEqual(ids.sort(), [a.id, b.id].sort());
        assert.deepEqual(await store.recordResolved('fp1', a.startsAt, '2026-11-28T21:21:00.000Z'), [], 'a second resolve changes nothing');
        assert.equal((await store.getRun(a.id))?.resolvedAt, '2026-11-28T21:20:00.000Z');
        assert.equal((await store.getRun(other.id))?.resolvedAt, null);
      }),
    );

    test(
      'a resolve whose startsAt moved still resolves the earlier runs of its fingerprint, and cancels them if not started',
      withStore(async (store) => {
        const a = run();
        await store.createRun(a, [], []);
        const ids = await store.recordResolved('fp1', '2026-11-28T20:00:00Z', '2026-11-28T21:20:00.000Z');
        assert.deepEqual(ids, [a.id]);
        assert.deepEqual(await store.cancelNotStarted('fp1', '2026-11-28T20:00:00Z', '2026-11-28T21:20:00.000Z', 'resolved'), [a.id]);
        assert.equal((await store.getRun(a.id))?.state, 'cancelled');
        const detail = await store.getRun(a.id);
        assert.equal(detail?.resolvedAt, '2026-11-28T21:20:00.000Z');
        assert.deepEqual(detail?.events.find((e) => e.kind === 'alert.resolved')?.data, { startsAt: '2026-11-28T20:00:00Z', runStartsAt: a.startsAt });
      }),
    );

    test(
      'interruptRunning marks runs a dead process left running, and their running step',
      withStore(async (store) => {
        const r = run();
        await store.createRun(r, [step], []);
        await store.transitionRun(r.id, {
          from: ['pending'],
          to: 'running',
          at: '2026-11-28T21:13:01.000Z',
          steps: [{ phase: 'main', index: 0, state: 'running', startedAt: '2026-11-28T21:13:01.000Z' }],
        });
        assert.deepEqual(await store.interruptRunning('2026-11-28T21:30:00.000Z', 'restarted'), [r.id]);
        const [interruptedStep] = (await store.getRun(r.id))?.steps ?? [];
        assert.equal(interruptedStep?.state, 'interrupted', 'the step that was running is not left running forever');
        assert.equal(interruptedStep?.finishedAt, '2026-11-28T21:30:00.000Z');
        assert.match(interruptedStep?.error ?? '', /may or may not have completed/);
        const detail = await store.getRun(r.id);
        assert.equal(detail?.state, 'interrupted');
        assert.equal(detail?.reason, 'restarted');
        assert.deepEqual(
          detail?.events.map((e) => e.data),
          [{ from: 'running', to: 'interrupted', reason: 'restarted' }],
        );
        assert.ok(await store.createRun(run({ id: newId('r'), instanceKey: 'fp1@later', startsAt: 'later' }), [], []), 'the target key is free again');
      }),
    );

    test(
      'listRuns pages newest first with filters',
      withStore(async (store) => {
        const ids: string[] = [];
        for (let i = 0; i < 7; i++) {
          const r = run({
            id: newId('r', new Date(Date.UTC(2026, 10, 28, 21, 0, i))),
            instanceKey: `fp@${i}`,
            targetKey: `t${i}`,
            playbook: i % 2 ? 'odd' : 'even',
          });
          ids.push(r.id);
          await store.createRun(r, [], []);
        }
        const page1 = await store.listRuns({ limit: 3 });
        assert.deepEqual(
          page1.runs.map((r) => r.id),
          ids.slice(4).reverse(),
        );
        assert.ok(page1.next);
        const page2 = await store.listRuns({ limit: 3, cursor: page1.next });
        assert.deepEqual(
          page2.runs.map((r) => r.id),
          ids.slice(1, 4).reverse(),
        );
        const page3 = await store.listRuns({ limit: 3, cursor: page2.next ?? '' });
        assert.deepEqual(
          page3.runs.map((r) => r.id),
          [ids[0]],
        );
        assert.equal(page3.next, null);
        assert.deepEqual(
          (await store.listRuns({ limit: 10, playbook: 'odd' })).runs.map((r) => r.id),
          [ids[5], ids[3], ids[1]],
        );
        assert.deepEqual((await store.listRuns({ limit: 10, state: 'running' })).runs, []);
        await assert.rejects(store.listRuns({ limit: 3, cursor: 'not-a-cursor' }), /cursor is not valid/);
      }),
    );

    test(
      'getRun of an unknown id is null',
      withStore(async (store) => {
        assert.equal(await store.getRun('r_00000000000000000000000000'), null);
      }),
    );

    // Guards: locks across playbooks, the budget, the pause and the circuit.
    const query = (over: Partial<GuardQuery> = {}): GuardQuery => ({
      playbook: 'scale-out',
      instanceKey: 'fp2@x',
      targetKey: 'shop/checkout',
      since: null,
      lockKey: 'lock:shop/checkout',
      budgetSince: new Date('2026-11-28T20:00:00Z'),
      ...over,
    });
    const scale = (over: Partial<NewRun> = {}) =>
      run({ playbook: 'scale-out', fingerprint: 'fp2', instanceKey: 'fp2@x', lockKey: 'lock:shop/checkout', ...over });

    test(
      'a lock key is held by one unfinished run across playbooks, and recorded on the run',
      withStore(async (store) => {
        const rollback = run({ lockKey: 'lock:shop/checkout' });
        assert.ok(await store.createRun(rollback, [step], []));
        assert.equal((await store.getRun(rollback.id))?.lockKey, 'lock:shop/checkout');
        assert.equal(await store.createRun(scale(), [step], [{ kind: 'run.created', data: {} }]), null, 'another playbook, another key, the same lock');
        assert.equal((await store.listEvents({ limit: 10 })).length, 0, 'the refused run wrote no event');
        assert.deepEqual((await store.guardState(query())).lockedBy, { id: rollback.id, playbook: 'rollback', state: 'pending' });
        assert.equal((await store.guardState(query({ lockKey: 'lock:shop/other' }))).lockedBy, null);
        assert.equal((await store.guardState(query({ lockKey: null }))).lockedBy, null);
        assert.ok(await store.createRun(scale({ lockKey: 'lock:shop/other' }), [], []), 'another lock is free');
        assert.ok(await store.transitionRun(rollback.id, { from: ['pending'], to: 'running', at: '2026-11-28T21:13:01.000Z' }));
        assert.deepEqual((await store.guardState(query())).lockedBy?.state, 'running');
        assert.ok(await store.transitionRun(rollback.id, { from: ['running'], to: 'succeeded', at: '2026-11-28T21:14:00.000Z' }));
        assert.equal((await store.guardState(query())).lockedBy, null, 'a finished run holds no lock');
        const later = scale({ instanceKey: 'fp2@y', startsAt: 'y', targetKey: 'shop/checkout-2' });
        assert.ok(await store.createRun(later, [], []));
        assert.equal((await store.getRun(later.id))?.lockKey, 'lock:shop/checkout');
      }),
    );

    test(
      'runs without a lock key never conflict on locks',
      withStore(async (store) => {
        assert.ok(await store.createRun(run(), [], []));
        assert.ok(await store.createRun(scale({ lockKey: null }), [], []));
        assert.ok(await store.createRun(run({ playbook: 'third', instanceKey: 'fp3@z' }), [], []));
        assert.equal((await store.getRun((await store.listRuns({ limit: 1 })).runs[0]?.id ?? ''))?.lockKey, null);
      }),
    );

    test(
      'every way a run ends releases its lock: interrupted, cancelled, created finished',
      withStore(async (store) => {
        const a = run({ lockKey: 'L' });
        await store.createRun(a, [], []);
        await store.transitionRun(a.id, { from: ['pending'], to: 'running', at: '2026-11-28T21:13:01.000Z' });
        assert.deepEqual(await store.interruptRunning('2026-11-28T21:30:00.000Z', 'restarted'), [a.id]);
        assert.equal((await store.guardState(query({ lockKey: 'L' }))).lockedBy, null);
        const b = scale({ lockKey: 'L' });
        assert.ok(await store.createRun(b, [], []));
        assert.deepEqual(await store.cancelNotStarted('fp2', b.startsAt, '2026-11-28T21:31:00.000Z', 'resolved'), [b.id]);
        assert.equal((await store.guardState(query({ lockKey: 'L' }))).lockedBy, null);
        const refused = run({ playbook: 'third', instanceKey: 'fp3@z', lockKey: 'L', state: 'failed' });
        assert.ok(await store.createRun(refused, [], []));
        assert.equal((await store.guardState(query({ lockKey: 'L' }))).lockedBy, null, 'a run created finished takes no lock');
      }),
    );

    test(
      'the budget counts live runs that may act, of every playbook, within the window',
      withStore(async (store) => {
        const at = (m: number) => `2026-11-28T21:${String(m).padStart(2, '0')}:00.000Z`;
        await store.createRun(run({ dryRun: false, createdAt: at(0) }), [step], []);
        await store.createRun(scale({ dryRun: false, createdAt: at(10), lockKey: null }), [step], []);
        await store.createRun(run({ playbook: 'dry', dryRun: true, createdAt: at(11) }), [step], []);
        await store.createRun(run({ playbook: 'refused', dryRun: false, state: 'failed', createdAt: at(12) }), [], []);
        await store.createRun(run({ playbook: 'old', dryRun: false, createdAt: '2026-11-28T19:00:00.000Z' }), [step], []);
        assert.equal((await store.guardState(query())).liveRunsInWindow, 2, 'two live runs since 20:00; not the dry run, the refused one, or the old one');
        assert.equal((await store.guardState(query({ budgetSince: new Date(at(5)) }))).liveRunsInWindow, 1);
        assert.equal((await store.guardState(query({ budgetSince: null }))).liveRunsInWindow, 0, 'no budget, nothing counted');
        assert.equal((await store.globalState({ budgetSince: new Date('2026-11-28T20:00:00Z') })).liveRunsInWindow, 2);
        // Closing the circuit starts a fresh budget.
        await store.openCircuit({ at: at(13), reason: 'spent', by: 'remediator' });
        await store.closeCircuit({ at: at(14), by: 'alice', via: 'cli', note: '' });
        assert.equal((await store.guardState(query())).liveRunsInWindow, 0);
        await store.createRun(run({ playbook: 'after', dryRun: false, createdAt: at(15) }), [step], []);
        assert.equal((await store.guardState(query())).liveRunsInWindow, 1);
      }),
    );

    test(
      'a pause is stored, read by guardState, replaced, and lifted once',
      withStore(async (store) => {
        assert.equal((await store.guardState(query())).paused, null);
        assert.deepEqual(await store.globalState({ budgetSince: null }), { pause: null, circuit: null, liveRunsInWindow: 0 });
        const set = await store.setPause({
          at: '2026-11-28T21:00:00.000Z',
          until: '2026-11-28T23:00:00.000Z',
          reason: 'cluster upgrade',
          by: 'alice',
          via: 'cli',
        });
        assert.deepEqual(set, {
          pausedAt: '2026-11-28T21:00:00.000Z',
          until: '2026-11-28T23:00:00.000Z',
          reason: 'cluster upgrade',
          by: 'alice',
          resumedAt: null,
          resumedBy: null,
        });
        assert.deepEqual((await store.guardState(query())).paused, {
          at: new Date('2026-11-28T21:00:00.000Z'),
          until: new Date('2026-11-28T23:00:00.000Z'),
          reason: 'cluster upgrade',
          by: 'alice',
        });
        await store.setPause({ at: '2026-11-28T21:30:00.000Z', until: '2026-11-29T01:00:00.000Z', reason: 'longer', by: 'bob', via: 'api' });
        assert.equal((await store.globalState({ budgetSince: null })).pause?.by, 'bob');
        const lifted = await store.endPause({ at: '2026-11-28T22:00:00.000Z', by: 'carol', via: 'api' });
        assert.deepEqual([lifted?.by, lifted?.resumedBy, lifted?.resumedAt], ['bob', 'carol', '2026-11-28T22:00:00.000Z']);
        assert.equal(await store.endPause({ at: '2026-11-28T22:01:00.000Z', by: 'carol', via: 'api' }), null, 'nothing left to lift');
        assert.equal((await store.guardState(query())).paused, null);
        const events = await store.listEvents({ limit: 10 });
        assert.deepEqual(
          events.map((e) => [e.kind, e.data['by'], e.data['via']]),
          [
            ['paused', 'alice', 'cli'],
            ['paused', 'bob', 'api'],
            ['resumed', 'carol', 'api'],
          ],
        );
        assert.deepEqual(events[1]?.data['replaced'], { until: '2026-11-28T23:00:00.000Z', by: 'alice', reason: 'cluster upgrade' });
      }),
    );

    test(
      'an expired pause cannot be lifted; guardState still returns it for decide to compare',
      withStore(async (store) => {
        await store.setPause({ at: '2026-11-28T21:00:00.000Z', until: '2026-11-28T21:30:00.000Z', reason: 'short', by: 'alice', via: 'api' });
        assert.equal(await store.endPause({ at: '2026-11-28T21:30:00.000Z', by: 'bob', via: 'api' }), null);
        assert.equal((await store.guardState(query())).paused?.until.toISOString(), '2026-11-28T21:30:00.000Z');
      }),
    );

    test(
      'the circuit opens once, is read by guardState, closes once, and can open again',
      withStore(async (store) => {
        const opened = await store.openCircuit({ at: '2026-11-28T21:00:00.000Z', reason: 'budget spent', by: 'remediator' });
        assert.deepEqual(opened, {
          openedAt: '2026-11-28T21:00:00.000Z',
          reason: 'budget spent',
          openedBy: 'remediator',
          closedAt: null,
          closedBy: null,
          closeNote: null,
        });
        assert.equal(await store.openCircuit({ at: '2026-11-28T21:01:00.000Z', reason: 'again', by: 'remediator' }), null, 'already open');
        assert.deepEqual((await store.guardState(query())).circuit, { openedAt: new Date('2026-11-28T21:00:00.000Z'), reason: 'budget spent' });
        const closed = await store.closeCircuit({ at: '2026-11-28T21:10:00.000Z', by: 'alice', via: 'cli', note: 'checked the deployments' });
        assert.deepEqual(
          [closed?.closedAt, closed?.closedBy, closed?.closeNote, closed?.reason],
          ['2026-11-28T21:10:00.000Z', 'alice', 'checked the deployments', 'budget spent'],
        );
        assert.equal(await store.closeCircuit({ at: '2026-11-28T21:11:00.000Z', by: 'bob', via: 'api', note: '' }), null, 'not open');
        assert.equal((await store.guardState(query())).circuit, null);
        assert.equal((await store.globalState({ budgetSince: null })).circuit?.closedBy, 'alice', 'the last opening stays readable');
        assert.ok(await store.openCircuit({ at: '2026-11-28T22:00:00.000Z', reason: 'spent again', by: 'remediator' }));
        assert.deepEqual((await store.globalState({ budgetSince: null })).circuit?.closedAt, null);
        assert.deepEqual(
          (await store.listEvents({ limit: 10 })).map((e) => [e.kind, e.data['reason'] ?? e.data['by']]),
          [
            ['circuit.opened', 'budget spent'],
            ['circuit.closed', 'budget spent'],
            ['circuit.opened', 'spent again'],
          ],
        );
      }),
    );

    test(
      'every state change extends one hash chain, read back page by page and verified',
      withStore(async (store) => {
        const r = run();
        await store.createRun(r, [step], [{ kind: 'run.created', data: { x: 1 } }]);
        await store.transitionRun(r.id, {
          from: ['pending'],
          to: 'running',
          at: '2026-11-28T21:14:00.000Z',
          events: [{ kind: 'run.state', data: { to: 'running' } }],
        });
        await store.setPause({ at: '2026-11-28T21:15:00.000Z', until: '2026-11-28T23:15:00.000Z', reason: 'upgrade', by: 'alice', via: 'cli' });
        await store.appendEvents([{ kind: 'auth.failed', data: { endpoint: 'webhook' } }]);
        const head = await store.auditHead();
        assert.deepEqual([head?.baseId, head?.baseHash, head?.lastId], [0, GENESIS_HASH, 4]);
        const page1 = await store.auditEvents({ afterId: 0, limit: 3 });
        const page2 = await store.auditEvents({ afterId: 3, limit: 3 });
        assert.deepEqual(
          [...page1, ...page2].map((e) => [e.id, e.kind]),
          [
            [1, 'run.created'],
            [2, 'run.state'],
            [3, 'paused'],
            [4, 'auth.failed'],
          ],
        );
        assert.equal(page2[0]?.hash, head?.lastHash);
        assert.deepEqual(await store.auditEvents({ afterId: 0, throughId: 2, limit: 10 }).then((p) => p.map((e) => e.id)), [1, 2]);
        const verdict = await verifyStoreChain(store, 2);
        assert.equal(verdict.problem, null);
        assert.equal(verdict.count, 4);
      }),
    );
  });
}
