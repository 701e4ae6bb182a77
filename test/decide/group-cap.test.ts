// Unit test: starts nothing (see scripts/test.mjs).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Decision, GroupState } from '../../src/domain/decision.js';
import type { Playbook } from '../../src/domain/playbook.js';
import { decide, groupLimit } from '../../src/decide/decide.js';
import { groupKeyOf } from '../../src/decide/group.js';
import { prepare } from '../../src/decide/prepare.js';
import { parsePlaybook } from '../../src/playbook/loader.js';
import { EMPTY, firingAlert } from '../support/decide-inputs.js';

function playbook(group: string, mode = 'live'): { playbook: Playbook | null; errors: readonly unknown[] } {
  return parsePlaybook(
    `name: t
match: { alertname: Burst }
params:
  namespace: { from: labels.namespace, pattern: '[a-z]+' }
  deployment: { from: labels.deployment, pattern: '[a-z]+' }
mode: ${mode}
guards: { key: '{{ params.namespace }}/{{ params.deployment }}', group: ${group} }
steps:
  - run: [kubectl, rollout, undo]
`,
    'test.yaml',
  );
}
const compiled = (group: string, mode = 'live'): Playbook => {
  const { playbook: p, errors } = playbook(group, mode);
  assert.deepEqual(errors, []);
  assert.ok(p);
  return p;
};

const NOW = new Date('2024-05-01T12:00:00.000Z');
const alert = firingAlert();
const liveRun: Decision = { action: 'run', dryRun: false, needsApproval: false, reason: 'playbook mode is live' };
const held = (reason: string): Decision => ({ action: 'run', dryRun: false, needsApproval: true, held: 'group_cap', reason });

const cases: readonly { title: string; group: string; state?: GroupState; mode?: string; settings?: 'dry-run'; expected: Decision }[] = [
  { title: 'under a count: a run', group: '{ key: x, max: 3, per: 1h }', state: { key: 'shop', liveRuns: 2, targetsSeen: 9 }, expected: liveRun },
  {
    title: 'at a count: held, with the count',
    group: '{ key: x, max: 3, per: 1h }',
    state: { key: 'shop', liveRuns: 3, targetsSeen: 9 },
    expected: held('group "shop" had 3 live run(s) in the last 1h; guards.group allows 3: a person must approve this run'),
  },
  {
    title: '30% of ten targets: the fourth is held',
    group: "{ key: x, max: '30%', per: 1h }",
    state: { key: 'shop', liveRuns: 3, targetsSeen: 10 },
    expected: held('group "shop" had 3 live run(s) in the last 1h; guards.group allows 3 (30% of 10 target(s) seen firing): a person must approve this run'),
  },
  {
    title: '30% of ten targets: the third runs',
    group: "{ key: x, max: '30%', per: 1h }",
    state: { key: 'shop', liveRuns: 2, targetsSeen: 10 },
    expected: liveRun,
  },
  {
    title: 'a percentage allows at least one run',
    group: "{ key: x, max: '10%', per: 1h }",
    state: { key: 'shop', liveRuns: 0, targetsSeen: 1 },
    expected: liveRun,
  },
  {
    title: 'dry runs are never held',
    group: '{ key: x, max: 1, per: 1h }',
    state: { key: 'shop', liveRuns: 5, targetsSeen: 5 },
    settings: 'dry-run',
    expected: { action: 'run', dryRun: true, needsApproval: false, reason: 'execution is dry-run' },
  },
  { title: 'no group state read: a run', group: '{ key: x, max: 1, per: 1h }', expected: liveRun },
];

describe('decide: guards.group', () => {
  for (const c of cases) {
    test(c.title, () => {
      const pb = compiled(c.group, c.mode);
      const input = {
        alert,
        playbook: pb,
        prepared: prepare(alert, pb),
        state: EMPTY,
        now: NOW,
        settings: { execution: c.settings ?? ('live' as const), budget: null, maintenance: [] },
        ...(c.state ? { group: c.state } : {}),
      };
      assert.deepEqual(decide(input), c.expected);
    });
  }

  test('the group key is rendered from the params', () => {
    const pb = compiled("{ key: '{{ params.namespace }}', max: 1, per: 1h }");
    assert.equal(groupKeyOf(alert, pb, prepare(alert, pb)), 'shop');
    assert.equal(groupLimit({ percent: 30 }, 10), 3);
    assert.equal(groupLimit({ percent: 30 }, 2), 1);
  });

  test('bad caps are refused, naming the key', () => {
    for (const [group, want] of [
      ["{ key: x, max: '150%', per: 1h }", /1% to 100%/],
      ["{ key: x, max: '0%', per: 1h }", /1% to 100%/],
      ['{ key: x, max: 3, per: 500ms }', /shorter than a second/],
      ['{ key: x, max: 0, per: 1h }', /max/],
    ] as const) {
      const { errors } = playbook(group);
      const shown = JSON.stringify(errors);
      assert.match(shown, want, group);
      assert.match(shown, /group/, group);
    }
  });
});
