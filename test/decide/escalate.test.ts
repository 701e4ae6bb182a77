// Unit test: starts nothing (see scripts/test.mjs).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from '../../src/domain/alert.js';
import type { Decision, EscalationState, GuardState } from '../../src/domain/decision.js';
import type { Playbook } from '../../src/domain/playbook.js';
import { decide } from '../../src/decide/decide.js';
import { prepare } from '../../src/decide/prepare.js';
import { parsePlaybook } from '../../src/playbook/loader.js';
import { EMPTY, firingAlert, LIVE } from '../support/decide-inputs.js';

function playbook(escalate: string | null, mode = 'live'): Playbook {
  const yaml = `name: t
match: { alertname: Burst }
params:
  namespace: { from: labels.namespace, pattern: '[a-z]+' }
  deployment: { from: labels.deployment, pattern: '[a-z]+' }
mode: ${mode}
guards: { key: '{{ params.namespace }}/{{ params.deployment }}' }
${escalate === null ? '' : `escalate: ${escalate}\n`}steps:
  - run: [kubectl, rollout, undo, 'deployment/{{ params.deployment }}', -n, '{{ params.namespace }}']
`;
  const { playbook: p, errors } = parsePlaybook(yaml, 'test.yaml');
  assert.deepEqual(errors, []);
  assert.ok(p);
  return p;
}

const NOW = new Date('2024-05-01T12:00:00.000Z');
const alert = firingAlert;
const failed = (id: string) => ({ id, state: 'failed', createdAt: '2024-05-01T11:30:00.000Z', finishedAt: '2024-05-01T11:31:00.000Z', reason: 'exit 1' });
const twoFailed: EscalationState = { open: null, unfixed: [failed('r1'), failed('r2')] };
const open: EscalationState = { open: { id: 'e1', openedAt: new Date('2024-05-01T11:40:00.000Z'), reason: '2 runs did not fix it' }, unfixed: [] };
const liveRun: Decision = { action: 'run', dryRun: false, needsApproval: false, reason: 'playbook mode is live' };
const opens: Decision = {
  action: 'suppress',
  reason: 'escalated',
  detail: '2 live run(s) for key "shop/api" in the last 1h did not fix it (r1 failed, r2 failed); escalate.after is 2: handed to a person',
  opensEscalation: true,
};
const stillOpen: Decision = {
  action: 'suppress',
  reason: 'escalated',
  detail: 'key "shop/api" was escalated at 2024-05-01T11:40:00.000Z (2 runs did not fix it): automation stays off until a person clears escalation e1',
};

interface Case {
  readonly title: string;
  readonly escalate?: string | null;
  readonly escalation?: EscalationState;
  readonly alert?: Alert;
  readonly state?: Partial<GuardState>;
  readonly expected: Decision;
}

const RULE = '{ after: 2, within: 1h, notify: [pagerduty] }';
const cases: readonly Case[] = [
  { title: 'fewer unfixed runs than after: a run', escalation: { open: null, unfixed: [failed('r1')] }, expected: liveRun },
  { title: 'after unfixed runs: suppressed escalated, and the escalation opens', escalation: twoFailed, expected: opens },
  { title: 'an open escalation: suppressed escalated, nothing opens again', escalation: open, expected: stillOpen },
  { title: 'no escalate in the playbook: the state is ignored', escalate: null, escalation: open, expected: liveRun },
  { title: 'no state read (the caller had no escalate): a run', expected: liveRun },
  {
    title: 'a resolve still comes first',
    escalation: open,
    alert: alert({ status: 'resolved' }),
    expected: { action: 'suppress', reason: 'resolved', detail: 'the alert is resolved' },
  },
  {
    title: 'escalated comes before the duplicate checks: the re-sent alert that failed last escalates it',
    escalation: twoFailed,
    state: { instanceRun: { id: 'r2', state: 'failed' } },
    expected: opens,
  },
  {
    title: 'before a pause too: an escalated key stays with a person whatever the switches say',
    escalation: open,
    state: { paused: { at: new Date('2024-05-01T11:00:00Z'), until: new Date('2024-05-01T13:00:00Z'), by: 'alice', reason: 'x' } },
    expected: stillOpen,
  },
];

describe('decide: escalate', () => {
  for (const c of cases) {
    test(c.title, () => {
      const a = c.alert ?? alert();
      const pb = playbook(c.escalate === undefined ? RULE : c.escalate);
      const input = {
        alert: a,
        playbook: pb,
        prepared: prepare(a, pb),
        state: { ...EMPTY, ...c.state },
        now: NOW,
        settings: LIVE,
        ...(c.escalation ? { escalation: c.escalation } : {}),
      };
      assert.deepEqual(decide(input), c.expected);
    });
  }

  test('the playbook schema refuses a window under a second, naming the key', () => {
    const { errors } = parsePlaybook(
      `name: t\nmatch: { alertname: Burst }\nescalate: { after: 2, within: 500ms, notify: [pagerduty] }\nsteps:\n  - run: [true]\n`,
      'short.yaml',
    );
    const shown = errors.map((e) => JSON.stringify(e));
    assert.ok(
      shown.some((e) => e.includes('within') && e.includes('shorter than a second')),
      shown.join('\n'),
    );
  });
});
