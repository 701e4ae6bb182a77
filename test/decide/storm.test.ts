// Unit test: starts nothing (see scripts/test.mjs).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Decision, DecideSettings, GuardState, StormRule, StormState } from '../../src/domain/decision.js';
import type { Playbook } from '../../src/domain/playbook.js';
import { commonLabels } from '../../src/domain/common-labels.js';
import { decide } from '../../src/decide/decide.js';
import { prepare } from '../../src/decide/prepare.js';
import { stormCrossing, stormOver } from '../../src/decide/storm.js';
import { parsePlaybook } from '../../src/playbook/loader.js';
import { EMPTY, LIVE, firingAlert } from '../support/decide-inputs.js';

function compiled(mode: string): Playbook {
  const { playbook, errors } = parsePlaybook(
    `name: rollback
match: { alertname: Burst }
mode: ${mode}
guards: { key: '{{ labels.namespace }}/{{ labels.deployment }}' }
steps:
  - run: [kubectl, rollout, undo]
`,
    'test.yaml',
  );
  assert.deepEqual(errors, []);
  assert.ok(playbook);
  return playbook;
}

const NOW = new Date('2024-05-01T12:00:00.000Z');
const OPENED = new Date('2024-05-01T11:59:00.000Z');
const storm = (action: 'hold' | 'suppress'): StormState => ({ id: 's1', openedAt: OPENED, alerts: 12, targets: 9, action });
const what = 'storm s1 since 2024-05-01T11:59:00.000Z (12 alert(s) across 9 target(s))';
const heldByStorm: Decision = {
  action: 'run',
  dryRun: false,
  needsApproval: true,
  held: 'storm',
  reason: `${what}: a person must approve this run, or the storm's runs together (remediator storms approve s1)`,
};

describe('decide with a storm', () => {
  const cases: readonly { title: string; mode: string; storm?: StormState; settings?: DecideSettings; state?: Partial<GuardState>; expected: Decision }[] = [
    { title: 'no storm: a live run', mode: 'live', expected: { action: 'run', dryRun: false, needsApproval: false, reason: 'playbook mode is live' } },
    { title: 'a storm with action hold: held for a person', mode: 'live', storm: storm('hold'), expected: heldByStorm },
    { title: 'held even where the playbook asks for approval anyway', mode: 'approve', storm: storm('hold'), expected: heldByStorm },
    {
      title: 'a storm with action suppress: suppressed storm',
      mode: 'live',
      storm: storm('suppress'),
      expected: { action: 'suppress', reason: 'storm', detail: `${what}: guards.storm.action is suppress` },
    },
    {
      title: 'a dry-run playbook goes on in a storm: dry runs are the evidence',
      mode: 'dry-run',
      storm: storm('suppress'),
      expected: { action: 'run', dryRun: true, needsApproval: false, reason: 'playbook mode is dry-run' },
    },
    {
      title: 'execution dry-run goes on in a storm',
      mode: 'live',
      storm: storm('hold'),
      settings: { ...LIVE, execution: 'dry-run' },
      expected: { action: 'run', dryRun: true, needsApproval: false, reason: 'execution is dry-run' },
    },
    {
      title: 'a redelivery in a storm is still a duplicate first',
      mode: 'live',
      storm: storm('hold'),
      state: { instanceRun: { id: 'r9', state: 'awaiting_approval' } },
      expected: { action: 'suppress', reason: 'duplicate', detail: 'run r9 already exists for this alert instance', redeliveryOf: 'r9' },
    },
    {
      title: 'a storm comes before the open circuit: the storm is what a person decides',
      mode: 'live',
      storm: storm('hold'),
      state: { circuit: { openedAt: OPENED, reason: 'budget' } },
      expected: heldByStorm,
    },
  ];
  for (const c of cases) {
    test(c.title, () => {
      const playbook = compiled(c.mode);
      const alert = firingAlert();
      const decision = decide({
        alert,
        playbook,
        prepared: prepare(alert, playbook),
        state: { ...EMPTY, ...c.state },
        now: NOW,
        settings: c.settings ?? LIVE,
        ...(c.storm ? { storm: c.storm } : {}),
      });
      assert.deepEqual(decision, c.expected);
    });
  }
});

describe('where a storm opens', () => {
  const rule: StormRule = { alerts: 10, targets: 5, withinMs: 120_000, cooldownMs: 600_000, action: 'hold' };
  const added = (n: number, targets = n) => Array.from({ length: n }, (_, i) => ({ targetKey: `t${i % targets}` }));
  const cases: readonly { title: string; window: { instances: number; targets: string[] }; added: { targetKey: string }[]; expected: number }[] = [
    { title: 'ten alerts on ten targets: not more than ten, no storm', window: { instances: 0, targets: [] }, added: added(10), expected: -1 },
    { title: 'the eleventh alert opens it', window: { instances: 0, targets: [] }, added: added(40), expected: 10 },
    { title: 'forty alerts on four targets: too few targets, no storm', window: { instances: 0, targets: [] }, added: added(40, 4), expected: -1 },
    {
      title: 'the fifth target after many alerts opens it',
      window: { instances: 30, targets: ['a', 'b', 'c', 'd'] },
      added: [{ targetKey: 'a' }, { targetKey: 'e' }],
      expected: 1,
    },
    { title: 'what the window held counts: one more is enough', window: { instances: 10, targets: ['a', 'b', 'c', 'd', 'e'] }, added: added(1), expected: 0 },
    { title: 'nothing new: no storm', window: { instances: 50, targets: ['a', 'b', 'c', 'd', 'e'] }, added: [], expected: -1 },
  ];
  for (const c of cases) test(c.title, () => assert.equal(stormCrossing(c.window, c.added, rule), c.expected));

  test('a storm is over once it has been quiet for the cooldown', () => {
    assert.equal(stormOver(new Date(NOW.getTime() - 599_999), NOW, rule), false);
    assert.equal(stormOver(new Date(NOW.getTime() - 600_000), NOW, rule), true);
  });
});

describe('the labels a storm shares', () => {
  test('only the labels every alert has with the same value', () => {
    const labels = [
      { alertname: 'HighErrorRate', cluster: 'eu1', gateway: 'v2.3', deployment: 'cart' },
      { alertname: 'HighErrorRate', cluster: 'eu1', gateway: 'v2.3', deployment: 'shop' },
      { alertname: 'HighLatency', cluster: 'eu1', gateway: 'v2.3', deployment: 'auth' },
    ];
    assert.deepEqual(commonLabels(null, labels), { cluster: 'eu1', gateway: 'v2.3' });
    assert.deepEqual(commonLabels({ cluster: 'eu1', gateway: 'v2.3' }, [{ cluster: 'us1', gateway: 'v2.3' }]), { gateway: 'v2.3' });
    assert.deepEqual(commonLabels(null, []), {});
  });
});
