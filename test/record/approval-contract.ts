import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NewRun, Store } from '../../src/domain/store.js';
import type { RunStep } from '../../src/domain/run.js';

const T0 = '2026-11-29T03:12:00.000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();
const alice = { id: 'alice', via: 'api' as const };

/**
 * The approval part of the store contract: holds, verdicts (first one wins), expiry, cancel,
 * message references and the values a resumed run reads. Called from storeContract.
 */
export function approvalContract(withStore: (fn: (store: Store) => Promise<void>) => () => Promise<void>, run: (over?: Partial<NewRun>) => NewRun, step: RunStep): void {
  /** A created run moved to running, ready to be held. */
  const running = async (store: Store, over: Partial<NewRun> = {}) => {
    const r = run({ dryRun: false, needsApproval: true, generatorUrl: 'http://prometheus:9090/graph?g0.expr=up', ...over });
    assert.ok(await store.createRun(r, [step, { ...step, index: 1, name: 'after' }], []));
    assert.ok(await store.transitionRun(r.id, { from: ['pending'], to: 'running', at: at(1) }));
    return r;
  };
  const hold = (store: Store, runId: string, seconds = 1, expiresIn = 900) =>
    store.holdForApproval(runId, { at: at(seconds), expiresAt: at(seconds + expiresIn), phase: 'main', stepIndex: 0, stepName: 'undo', approvers: ['oncall'], message: 'roll back?' });

  test('a run records needsApproval and its generator URL', withStore(async (store) => {
    const r = await running(store);
    const detail = await store.getRun(r.id);
    assert.deepEqual([detail?.needsApproval, detail?.generatorUrl, detail?.approvals], [true, 'http://prometheus:9090/graph?g0.expr=up', []]);
  }));

  test('holdForApproval moves only a running run, with its request and events', withStore(async (store) => {
    const pending = run({ instanceKey: 'other@x', targetKey: 'other' });
    await store.createRun(pending, [], []);
    assert.equal(await hold(store, pending.id), null, 'a pending run is not held');
    const r = await running(store);
    const request = await hold(store, r.id);
    assert.deepEqual(
      [request?.seq, request?.stepName, request?.approvers, request?.message, request?.decision, request?.expiresAt],
      [1, 'undo', ['oncall'], 'roll back?', null, at(901)],
    );
    const detail = await store.getRun(r.id);
    assert.equal(detail?.state, 'awaiting_approval');
    assert.deepEqual(detail?.approvals, [request]);
    assert.deepEqual(detail?.events.map((e) => e.kind), ['run.state', 'approval.requested']);
    assert.equal(await store.countOpenApprovals(), 1);
    assert.equal(await store.nextApprovalExpiry(), at(901));
  }));

  test('of several verdicts racing, the first wins and the others learn what happened', withStore(async (store) => {
    const r = await running(store);
    await hold(store, r.id);
    const outcomes = await Promise.all(
      ['alice', 'bob', 'carol', 'dave'].map((id) => store.decideApproval({ runId: r.id, verdict: 'approve', by: { id, via: 'api' }, comment: null, at: at(10) })),
    );
    const won = outcomes.filter((o) => o.ok);
    assert.equal(won.length, 1);
    const winner = won[0]?.ok ? won[0].approval.decidedBy : null;
    for (const o of outcomes.filter((x) => !x.ok)) {
      assert.deepEqual(o.ok ? null : [o.why, o.approval?.decision, o.approval?.decidedBy, o.run?.state], ['not_awaiting', 'approved', winner, 'running']);
    }
    const detail = await store.getRun(r.id);
    assert.equal(detail?.state, 'running');
    assert.equal(detail?.events.filter((e) => e.kind === 'approval.granted').length, 1);
    assert.equal(await store.countOpenApprovals(), 0);
    assert.equal(await store.nextApprovalExpiry(), null);
  }));

  test('a rejection ends the run; a second request of the same run gets the next seq', withStore(async (store) => {
    const r = await running(store);
    await hold(store, r.id);
    const first = await store.decideApproval({ runId: r.id, verdict: 'approve', by: alice, comment: 'ok', at: at(5) });
    assert.ok(first.ok);
    assert.deepEqual(first.ok ? [first.approval.decision, first.approval.decidedBy, first.approval.decidedVia, first.approval.comment] : null, ['approved', 'alice', 'api', 'ok']);
    const second = await hold(store, r.id, 6);
    assert.equal(second?.seq, 2);
    const rejected = await store.decideApproval({ runId: r.id, verdict: 'reject', by: { id: 'U1', via: 'slack', name: 'bob' }, comment: 'no', at: at(7) });
    assert.ok(rejected.ok);
    const detail = await store.getRun(r.id);
    assert.equal(detail?.state, 'rejected');
    assert.ok(detail?.finishedAt);
    assert.deepEqual(detail?.approvals.map((a) => [a.seq, a.decision, a.decidedVia]), [[1, 'approved', 'api'], [2, 'rejected', 'slack']]);
    assert.deepEqual(await store.decideApproval({ runId: 'r_missing', verdict: 'approve', by: alice, comment: null, at: at(8) }), { ok: false, why: 'not_found', run: null, approval: null });
  }));

  test('a verdict after the expiry expires the request instead; expireApprovals expires only what is due', withStore(async (store) => {
    const late = await running(store);
    await hold(store, late.id, 1, 60);
    const outcome = await store.decideApproval({ runId: late.id, verdict: 'approve', by: alice, comment: null, at: at(61) });
    assert.deepEqual(outcome.ok ? null : [outcome.why, outcome.run?.state, outcome.approval?.decision], ['expired', 'expired', 'expired']);

    const a = await running(store, { instanceKey: 'a@x', targetKey: 'a', fingerprint: 'fa' });
    const b = await running(store, { instanceKey: 'b@x', targetKey: 'b', fingerprint: 'fb' });
    await hold(store, a.id, 1, 30);
    await hold(store, b.id, 1, 300);
    assert.equal(await store.nextApprovalExpiry(), at(31));
    assert.deepEqual(await store.expireApprovals(at(30)), [], 'not yet');
    assert.deepEqual(await store.expireApprovals(at(31)), [a.id]);
    assert.deepEqual(await store.expireApprovals(at(31)), [], 'once');
    const expired = await store.getRun(a.id);
    assert.equal(expired?.state, 'expired');
    assert.deepEqual(expired?.events.slice(-2).map((e) => e.kind), ['approval.expired', 'run.state']);
    assert.equal((await store.getRun(b.id))?.state, 'awaiting_approval');
    assert.equal(await store.nextApprovalExpiry(), at(301));
  }));

  test('cancelRun: a pending or held run, closing its request; not a running or finished one', withStore(async (store) => {
    const held = await running(store);
    await hold(store, held.id);
    assert.equal(await store.cancelRun(held.id, { at: at(5), by: alice, reason: 'by hand' }), 'awaiting_approval');
    const detail = await store.getRun(held.id);
    assert.deepEqual([detail?.state, detail?.approvals[0]?.decision, detail?.approvals[0]?.decidedBy], ['cancelled', 'cancelled', 'alice']);
    assert.equal(await store.cancelRun(held.id, { at: at(6), by: alice, reason: 'again' }), null);
    const busy = await running(store, { instanceKey: 'c@x', targetKey: 'c', fingerprint: 'fc' });
    assert.equal(await store.cancelRun(busy.id, { at: at(6), by: alice, reason: 'x' }), null, 'a running run is stopped by its executor, not here');
    const queued = run({ instanceKey: 'd@x', targetKey: 'd', fingerprint: 'fd' });
    await store.createRun(queued, [], []);
    assert.equal(await store.cancelRun(queued.id, { at: at(6), by: alice, reason: 'x' }), 'pending');
    assert.equal(await store.cancelRun('r_missing', { at: at(6), by: alice, reason: 'x' }), null);
  }));

  test('a resolve cancels a held run and closes its request', withStore(async (store) => {
    const r = await running(store);
    await hold(store, r.id);
    await store.recordResolved(r.fingerprint, r.startsAt, at(9));
    assert.deepEqual(await store.cancelNotStarted(r.fingerprint, r.startsAt, at(9), 'the alert resolved before the run started'), [r.id]);
    const detail = await store.getRun(r.id);
    assert.deepEqual([detail?.state, detail?.approvals[0]?.decision], ['cancelled', 'cancelled']);
    assert.ok(detail?.events.some((e) => e.kind === 'approval.cancelled'));
    assert.equal(await store.countOpenApprovals(), 0);
  }));

  test('step vars and message references are kept', withStore(async (store) => {
    const r = await running(store);
    await store.transitionRun(r.id, { from: ['running'], to: 'running', at: at(2), steps: [{ phase: 'main', index: 0, state: 'succeeded', vars: { stdout: 'rev 41', exitCode: 0 } }] });
    assert.deepEqual((await store.getRun(r.id))?.steps[0]?.vars, { stdout: 'rev 41', exitCode: 0 });
    assert.equal(await store.runMessage(r.id, 'slack'), null);
    await store.setRunMessage(r.id, 'slack', { channel: 'C1', ts: '1.1' });
    await store.setRunMessage(r.id, 'slack', { channel: 'C1', ts: '2.2' });
    assert.deepEqual(await store.runMessage(r.id, 'slack'), { channel: 'C1', ts: '2.2' });
  }));
}
