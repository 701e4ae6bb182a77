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
export function approvalContract(
  withStore: (fn: (store: Store) => Promise<void>) => () => Promise<void>,
  run: (over?: Partial<NewRun>) => NewRun,
  step: RunStep,
): void {
  /** A created run moved to running, ready to be held. */
  const running = async (store: Store, over: Partial<NewRun> = {}, steps: RunStep[] = [step, { ...step, index: 1, name: 'after' }]) => {
    const r = run({ dryRun: false, needsApproval: true, generatorUrl: 'http://prometheus:9090/graph?g0.expr=up', ...over });
    assert.ok(await store.createRun(r, steps, []));
    assert.ok(await store.transitionRun(r.id, { from: ['pending'], to: 'running', at: at(1) }));
    return r;
  };
  const hold = (store: Store, runId: string, seconds = 1, expiresIn = 900) =>
    store.holdForApproval(runId, {
      at: at(seconds),
      expiresAt: at(seconds + expiresIn),
      phase: 'main',
      stepIndex: 0,
      stepName: 'undo',
      approvers: ['oncall'],
      message: 'roll back?',
    });

  test(
    'a run records needsApproval and its generator URL',
    withStore(async (store) => {
      const r = await running(store);
      const detail = await store.getRun(r.id);
      assert.deepEqual([detail?.needsApproval, detail?.generatorUrl, detail?.approvals], [true, 'http://prometheus:9090/graph?g0.expr=up', []]);
    }),
  );

  test(
    'holdForApproval moves only a running run, with its request and events',
    withStore(async (store) => {
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
      assert.deepEqual(
        detail?.events.map((e) => e.kind),
        ['run.state', 'approval.requested'],
      );
      assert.equal(await store.countOpenApprovals(), 1);
      assert.equal(await store.nextApprovalExpiry(), at(901));
    }),
  );

  test(
    'of several verdicts racing, the first wins and the others learn what happened',
    withStore(async (store) => {
      const r = await running(store);
      await hold(store, r.id);
      const outcomes = await Promise.all(
        ['alice', 'bob', 'carol', 'dave'].map((id) =>
          store.decideApproval({ runId: r.id, verdict: 'approve', by: { id, via: 'api' }, comment: null, at: at(10) }),
        ),
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
    }),
  );

  test(
    'a rejection ends the run; a second request of the same run gets the next seq',
    withStore(async (store) => {
      const r = await running(store);
      await hold(store, r.id);
      const first = await store.decideApproval({ runId: r.id, verdict: 'approve', by: alice, comment: 'ok', at: at(5) });
      assert.ok(first.ok);
      assert.deepEqual(first.ok ? [first.approval.decision, first.approval.decidedBy, first.approval.decidedVia, first.approval.comment] : null, [
        'approved',
        'alice',
        'api',
        'ok',
      ]);
      const second = await hold(store, r.id, 6);
      assert.equal(second?.seq, 2);
      const rejected = await store.decideApproval({ runId: r.id, verdict: 'reject', by: { id: 'U1', via: 'slack', name: 'bob' }, comment: 'no', at: at(7) });
      assert.ok(rejected.ok);
      const detail = await store.getRun(r.id);
      assert.equal(detail?.state, 'rejected');
      assert.ok(detail?.finishedAt);
      assert.deepEqual(
        detail?.approvals.map((a) => [a.seq, a.decision, a.decidedVia]),
        [
          [1, 'approved', 'api'],
          [2, 'rejected', 'slack'],
        ],
      );
      assert.deepEqual(await store.decideApproval({ runId: 'r_missing', verdict: 'approve', by: alice, comment: null, at: at(8) }), {
        ok: false,
        why: 'not_found',
        run: null,
        approval: null,
      });
    }),
  );

  test(
    'a verdict after the expiry expires the request instead; expireApprovals expires only what is due',
    withStore(async (store) => {
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
      assert.deepEqual(
        expired?.events.slice(-2).map((e) => e.kind),
        ['approval.expired', 'run.state'],
      );
      assert.equal((await store.getRun(b.id))?.state, 'awaiting_approval');
      assert.equal(await store.nextApprovalExpiry(), at(301));
    }),
  );

  test(
    'cancelRun: a pending or held run, closing its request; not a running or finished one',
    withStore(async (store) => {
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
    }),
  );

  test(
    'a resolve cancels a held run and closes its request',
    withStore(async (store) => {
      const r = await running(store);
      await hold(store, r.id);
      await store.recordResolved(r.fingerprint, r.startsAt, at(9));
      assert.deepEqual(await store.cancelNotStarted(r.fingerprint, r.startsAt, at(9), 'the alert resolved before the run started'), [r.id]);
      const detail = await store.getRun(r.id);
      assert.deepEqual([detail?.state, detail?.approvals[0]?.decision], ['cancelled', 'cancelled']);
      assert.ok(detail?.events.some((e) => e.kind === 'approval.cancelled'));
      assert.equal(await store.countOpenApprovals(), 0);
    }),
  );

  test(
    'step vars and message references are kept',
    withStore(async (store) => {
      const r = await running(store);
      await store.transitionRun(r.id, {
        from: ['running'],
        to: 'running',
        at: at(2),
        steps: [{ phase: 'main', index: 0, state: 'succeeded', vars: { stdout: 'rev 41', exitCode: 0 } }],
      });
      assert.deepEqual((await store.getRun(r.id))?.steps[0]?.vars, { stdout: 'rev 41', exitCode: 0 });
      assert.equal(await store.runMessage(r.id, 'slack'), null);
      await store.setRunMessage(r.id, 'slack', { channel: 'C1', ts: '1.1' });
      await store.setRunMessage(r.id, 'slack', { channel: 'C1', ts: '2.2' });
      assert.deepEqual(await store.runMessage(r.id, 'slack'), { channel: 'C1', ts: '2.2' });
    }),
  );

  test(
    'a verdict for a request that is no longer the open one is refused',
    withStore(async (store) => {
      const r = await running(store);
      await hold(store, r.id);
      await store.decideApproval({ runId: r.id, seq: 1, verdict: 'approve', by: alice, comment: null, at: at(2) });
      await hold(store, r.id, 3);
      const stale = await store.decideApproval({ runId: r.id, seq: 1, verdict: 'approve', by: alice, comment: null, at: at(4) });
      assert.deepEqual(stale.ok ? null : [stale.why, stale.approval?.seq, stale.run?.state], ['not_awaiting', 2, 'awaiting_approval']);
      assert.ok((await store.decideApproval({ runId: r.id, seq: 2, verdict: 'approve', by: alice, comment: null, at: at(5) })).ok);
    }),
  );

  test(
    'a run ended while held (rejected, expired, cancelled) frees its target key and its lock',
    withStore(async (store) => {
      const ends: ((id: string) => Promise<unknown>)[] = [
        (id) => store.decideApproval({ runId: id, verdict: 'reject', by: alice, comment: null, at: at(5) }),
        () => store.expireApprovals(at(10_000)),
        (id) => store.cancelRun(id, { at: at(5), by: alice, reason: 'x' }),
      ];
      for (const [i, end] of ends.entries()) {
        const r = await running(store, { instanceKey: `i${i}@x`, fingerprint: `f${i}`, lockKey: 'shop/checkout' });
        await hold(store, r.id);
        const blocked = await store.guardState({ playbook: r.playbook, instanceKey: 'other@x', targetKey: r.targetKey, since: null, lockKey: 'shop/checkout' });
        assert.deepEqual([blocked.activeRun?.id, blocked.lockedBy?.id], [r.id, r.id], 'held: the key and the lock are taken');
        await end(r.id);
        const free = await store.guardState({ playbook: r.playbook, instanceKey: 'other@x', targetKey: r.targetKey, since: null, lockKey: 'shop/checkout' });
        assert.deepEqual([free.activeRun, free.lockedBy], [null, null], `ended way ${i}: both free`);
      }
    }),
  );

  test(
    'the budget counts held and approved live runs, not those rejected, expired or cancelled before acting',
    withStore(async (store) => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        // A read-only look, then the action: a held run has run its look.
        const r = await running(store, { instanceKey: `b${i}@x`, fingerprint: `b${i}`, targetKey: `t${i}` }, [
          { ...step, name: 'look', readOnly: true },
          { ...step, index: 1 },
        ]);
        await hold(store, r.id);
        ids.push(r.id);
      }
      const [approved, rejected, , cancelled] = ids as [string, string, string, string, string];
      await store.decideApproval({ runId: approved, verdict: 'approve', by: alice, comment: null, at: at(2) });
      await store.decideApproval({ runId: rejected, verdict: 'reject', by: alice, comment: null, at: at(2) });
      // Its read-only look ran before the hold: cancelling it still spent nothing.
      await store.transitionRun(cancelled, {
        from: ['awaiting_approval'],
        to: 'awaiting_approval',
        at: at(1),
        steps: [{ phase: 'main', index: 0, state: 'succeeded', startedAt: at(1) }],
      });
      await store.cancelRun(cancelled, { at: at(2), by: alice, reason: 'x' });
      await store.expireApprovals(at(10_000));
      // approved and the held ones that expired: only the approved one still counts.
      const state = await store.globalState({ budgetSince: new Date('2026-11-28T00:00:00Z') });
      assert.equal(state.liveRunsInWindow, 1);
    }),
  );

  test(
    'reproposeRun puts a held run back to pending under a new version once, ending its request as the reload',
    withStore(async (store) => {
      const r = await running(store);
      await hold(store, r.id);
      const reload = { id: 'reload', via: 'system' as const };
      const change = {
        at: at(5),
        playbookHash: 'h2',
        steps: [{ ...step, name: 'renamed' }],
        reason: 're-proposed under playbook … (steps changed: undo)',
        by: reload,
        why: 'playbook changed (a reload)',
        changes: { changedSteps: ['undo'] },
      };
      assert.equal(await store.reproposeRun(r.id, { ...change, fromHash: 'not-its-version' }), null, 'another version: nothing written');
      const moved = await store.reproposeRun(r.id, { ...change, fromHash: r.playbookHash });
      assert.deepEqual([moved?.state, moved?.playbookHash, moved?.reason], ['pending', 'h2', change.reason]);
      assert.equal(await store.reproposeRun(r.id, { ...change, fromHash: r.playbookHash }), null, 'once: it is no longer held');
      const detail = await store.getRun(r.id);
      assert.deepEqual(
        detail?.steps.map((s) => s.name),
        ['renamed'],
      );
      assert.deepEqual(
        detail?.approvals.map((a) => [a.seq, a.decision, a.decidedBy, a.decidedVia, a.comment]),
        [[1, 'cancelled', 'reload', 'system', 'playbook changed (a reload)']],
      );
      const kinds = detail?.events.map((e) => e.kind) ?? [];
      assert.deepEqual(kinds.slice(-2), ['approval.cancelled', 'run.state']);
      // It is held again like any run: the next request is #2.
      assert.ok(await store.transitionRun(r.id, { from: ['pending'], to: 'running', at: at(6) }));
      assert.equal((await hold(store, r.id, 7))?.seq, 2);
    }),
  );

  test(
    'the cooldown and maxRuns count only runs that acted or still may, as the budget does',
    withStore(async (store) => {
      // Three runs of one key, each held after its read-only look: rejected, cancelled, expired.
      const ids: string[] = [];
      const playbook = run().playbook;
      for (let i = 0; i < 3; i++) {
        const r = await running(store, { instanceKey: `c${i}@x`, fingerprint: `c${i}`, targetKey: 'shop/checkout' }, [
          { ...step, name: 'look', readOnly: true },
          { ...step, index: 1 },
        ]);
        await hold(store, r.id);
        ids.push(r.id);
        if (i === 0) await store.decideApproval({ runId: r.id, verdict: 'reject', by: alice, comment: 'false alarm', at: at(2) });
        if (i === 1) await store.cancelRun(r.id, { at: at(2), by: alice, reason: 'x' });
        if (i === 2) await store.expireApprovals(at(10_000));
      }
      const query = { playbook, instanceKey: 'next@x', targetKey: 'shop/checkout', since: new Date('2026-11-28T00:00:00Z') };
      const none = await store.guardState(query);
      assert.deepEqual([none.lastRunAt, none.recentRuns], [null, 0], 'none of them acted: no cooldown, nothing counted for maxRuns');

      // One that acted (approved, its action started, then failed) counts for both.
      const acted = await running(store, { instanceKey: 'c3@x', fingerprint: 'c3', targetKey: 'shop/checkout' }, [{ ...step, index: 0 }]);
      await store.transitionRun(acted.id, {
        from: ['running'],
        to: 'failed',
        at: at(3),
        steps: [{ phase: 'main', index: 0, state: 'failed', startedAt: at(3) }],
      });
      const one = await store.guardState(query);
      assert.equal(one.lastRunAt?.toISOString(), acted.createdAt);
      assert.equal(one.recentRuns, 1);
    }),
  );

  test(
    'an old resolve sent again touches neither a later instance nor a run that acts on the resolve',
    withStore(async (store) => {
      // The 03:00 instance resolved at 03:20; a new instance started at 04:00 and waits for approval.
      const later = await running(store, { fingerprint: 'fx', startsAt: '2026-11-29T04:00:00Z', instanceKey: 'fx@04' });
      await hold(store, later.id);
      const old = run({ fingerprint: 'fx', startsAt: '2026-11-29T03:00:00Z', instanceKey: 'fx@03', targetKey: 'old', state: 'succeeded' });
      await store.createRun(old, [], []);
      await store.recordResolved('fx', '2026-11-29T03:00:00Z', at(10), '2026-11-29T03:20:00Z');
      assert.deepEqual(
        await store.recordResolved('fx', '2026-11-29T03:00:00Z', at(3600), '2026-11-29T03:20:00Z'),
        [],
        'sent again: the later instance is not resolved',
      );
      assert.deepEqual(await store.cancelNotStarted('fx', '2026-11-29T03:00:00Z', at(3600), 'resolved'), []);
      assert.equal((await store.getRun(later.id))?.state, 'awaiting_approval');

      // A playbook that acts on the resolve (match.status: resolved) holds; the resolve delivered again spares it.
      const onResolve = await running(store, {
        playbook: 'postmortem',
        fingerprint: 'fy',
        startsAt: '2026-11-29T05:00:00Z',
        instanceKey: 'fy@05',
        targetKey: 'pm',
      });
      await hold(store, onResolve.id);
      await store.recordResolved('fy', '2026-11-29T05:00:00Z', at(20), '2026-11-29T05:10:00Z');
      assert.deepEqual(await store.cancelNotStarted('fy', '2026-11-29T05:00:00Z', at(20), 'resolved', ['postmortem']), []);
      assert.equal((await store.getRun(onResolve.id))?.state, 'awaiting_approval');
    }),
  );
}
