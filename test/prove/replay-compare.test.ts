// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Decided, DecisionKind } from '../../src/domain/decided.js';
import type { RunStep } from '../../src/domain/run.js';
import { diffLines } from '../../src/prove/line-diff.js';
import { compareOutcomes, OutcomeFold, planDiff } from '../../src/prove/replay-compare.js';

let seq = 0;
function decided(playbook: string, instance: string, kind: DecisionKind, reason: string | null = null, runId: string | null = null): Decided {
  seq++;
  return {
    playbook,
    alertname: 'Burst',
    fingerprint: instance,
    startsAt: '2026-01-01T00:00:00Z',
    instanceKey: `${instance}@2026-01-01T00:00:00Z`,
    targetKey: 'shop/checkout',
    batchId: `b${seq}`,
    runId: kind === 'suppress' ? null : (runId ?? `r_${seq}`),
    kind,
    reason: kind === 'suppress' ? reason : null,
    detail: reason ?? `why ${kind}`,
    at: '2026-01-01T00:00:00.000Z',
  };
}

const fold = (ds: Decided[]) => {
  const f = new OutcomeFold();
  ds.forEach((d) => f.add(d));
  return f.outcomes();
};

const step = (index: number, argv: string[], deferred = false): RunStep => ({
  index,
  name: `s${index}`,
  kind: 'run',
  phase: 'main',
  readOnly: false,
  rendered: { kind: 'run', argv, dryRunArgv: null, env: {}, cwd: null },
  deferred,
  state: 'planned',
  startedAt: null,
  finishedAt: null,
  exitCode: null,
  output: null,
  error: null,
});

describe('OutcomeFold: one outcome per playbook and instance, over its deliveries', () => {
  test('a run, then re-sends suppressed as duplicates and a resolve: the run', () => {
    const [o] = [...fold([decided('p', 'a', 'approve'), decided('p', 'a', 'suppress', 'duplicate'), decided('p', 'a', 'suppress', 'resolved')]).values()];
    assert.deepEqual([o?.kind, o?.reasons, o?.deliveries], ['approve', [], 3]);
  });
  test('suppressions only: every reason once, in order; resolved left out beside another', () => {
    const [o] = [
      ...fold([decided('p', 'a', 'suppress', 'cooldown'), decided('p', 'a', 'suppress', 'cooldown'), decided('p', 'a', 'suppress', 'resolved')]).values(),
    ];
    assert.deepEqual([o?.kind, o?.reasons], ['suppress', ['cooldown']]);
    const [only] = [...fold([decided('p', 'b', 'suppress', 'resolved')]).values()];
    assert.deepEqual(only?.reasons, ['resolved']);
  });
  test('a cooldown on the first delivery and a run on a later one (the cooldown ran out): the run', () => {
    const [o] = [...fold([decided('p', 'a', 'suppress', 'cooldown'), decided('p', 'a', 'run')]).values()];
    assert.equal(o?.kind, 'run');
  });
});

describe('compareOutcomes: what changed, in a few words', () => {
  const plans = new Map<string, RunStep[]>([
    ['r_old', [step(0, ['kubectl', 'rollout', 'undo'])]],
    ['r_new', [step(0, ['kubectl', 'rollout', 'undo', '--to-revision=1'])]],
    ['r_same', [step(0, ['kubectl', 'rollout', 'undo'])]],
  ]);
  const cases: [string, Decided[], Decided[], string | null][] = [
    ['unchanged', [decided('p', 'a', 'run', null, 'r_old')], [decided('p', 'a', 'run', null, 'r_same')], null],
    ['a new run where a suppression was', [decided('p', 'a', 'suppress', 'cooldown')], [decided('p', 'a', 'approve')], 'new-run'],
    ['a new run where nothing matched', [], [decided('p', 'a', 'dry-run')], 'new-run'],
    ['a run no longer', [decided('p', 'a', 'run')], [decided('p', 'a', 'suppress', 'rate_limit')], 'no-longer'],
    ['a run no longer: not matched', [decided('p', 'a', 'run')], [], 'no-longer'],
    ['live to approve', [decided('p', 'a', 'run')], [decided('p', 'a', 'approve')], 'changed-decision'],
    ['cooldown to rate_limit', [decided('p', 'a', 'suppress', 'cooldown')], [decided('p', 'a', 'suppress', 'rate_limit')], 'changed-decision'],
    ['refused to suppressed', [decided('p', 'a', 'refuse')], [decided('p', 'a', 'suppress', 'paused')], 'changed-decision'],
    ['a step changed', [decided('p', 'a', 'run', null, 'r_old')], [decided('p', 'a', 'run', null, 'r_new')], 'changed-plan'],
  ];
  for (const [title, recorded, replayed, kind] of cases) {
    test(title, () => {
      const { changes, playbooks } = compareOutcomes(fold(recorded), fold(replayed), (id) => plans.get(id));
      assert.deepEqual(
        changes.map((c) => c.kind),
        kind === null ? [] : [kind],
      );
      assert.equal(playbooks[0]?.unchanged, kind === null ? 1 : 0);
    });
  }
});

describe('planDiff and diffLines', () => {
  test('the run id is the same template on both sides; a step rendered at run time is compared by name and kind', () => {
    const a = [step(0, ['notify', 'run r_A']), step(1, ['echo', 'output of an earlier step'], true)];
    const b = [step(0, ['notify', 'run r_B']), step(1, ['echo', '{{ steps.s0.stdout }}'], true)];
    assert.equal(planDiff(a, 'r_A', b, 'r_B'), null);
    assert.deepEqual(planDiff(a, 'r_A', [step(0, ['notify', 'run r_B', 'x'])], 'r_B'), [
      "- 1. s0 (run): notify 'run {{ run.id }}'",
      '- 2. s1 (run): (rendered when it runs)',
      "+ 1. s0 (run): notify 'run {{ run.id }}' x",
    ]);
  });
  test('the shortest edit, a change as "-" then "+"', () => {
    assert.deepEqual(
      diffLines(['a', 'b', 'c'], ['a', 'x', 'c', 'd']).map((d) => `${d.op}${d.line}`),
      [' a', '-b', '+x', ' c', '+d'],
    );
    assert.deepEqual(diffLines([], []), []);
  });
});
