// Unit test: starts nothing (see scripts/test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from '../../src/domain/alert.js';
import type { Decision, DecideSettings, FiringAlerts } from '../../src/domain/decision.js';
import { decide } from '../../src/decide/decide.js';
import { prepare } from '../../src/decide/prepare.js';
import { parsePlaybook } from '../../src/playbook/loader.js';
import { EMPTY, LIVE } from '../support/decide-inputs.js';

const NOW = new Date('2024-05-01T12:00:00.000Z');
const ALERT: Alert = {
  status: 'firing',
  labels: { alertname: 'Burst', namespace: 'shop' },
  annotations: {},
  startsAt: '2024-05-01T11:55:00Z',
  endsAt: null,
  generatorURL: '',
  fingerprint: 'fp1',
};

function playbook(onUnknown = '', mode = 'live') {
  const yaml = `name: t
match: { alertname: Burst }
mode: ${mode}
unless:
  firing: ['alertname="ClusterUpgradeInProgress"', '{alertname=~"KubeAPIDown|EtcdNoLeader", cluster="prod"}']${onUnknown ? `\n  onUnknown: ${onUnknown}` : ''}
steps:
  - run: [kubectl, rollout, undo, deployment/api]
`;
  const { playbook: p, errors } = parsePlaybook(yaml, 'test.yaml');
  assert.deepEqual(errors, []);
  assert.ok(p);
  return p;
}

const firing = (...alerts: [string, Record<string, string>][]): FiringAlerts => ({
  known: true,
  alerts: alerts.map(([fingerprint, labels]) => ({ fingerprint, labels })),
});
const unknown: FiringAlerts = { known: false, error: 'no Alertmanager answered GET /api/v2/alerts: 127.0.0.1:9093: ECONNREFUSED' };

const cases: { title: string; onUnknown?: string; mode?: string; settings?: DecideSettings; firing: FiringAlerts | undefined; expected: Decision }[] = [
  {
    title: 'no blocking alert: decided as usual',
    firing: firing(['fp1', { alertname: 'Burst' }], ['fp2', { alertname: 'KubeAPIDown', cluster: 'staging' }]),
    expected: { action: 'run', dryRun: false, needsApproval: false, reason: 'playbook mode is live' },
  },
  {
    title: 'a single-matcher entry matches an active alert',
    firing: firing(['fp9', { alertname: 'ClusterUpgradeInProgress' }]),
    expected: {
      action: 'suppress',
      reason: 'precondition',
      detail: 'alert ClusterUpgradeInProgress (fp9) is firing and matches unless.firing alertname="ClusterUpgradeInProgress"',
    },
  },
  {
    title: 'every matcher of an entry must hold for one alert',
    firing: firing(['fp8', { alertname: 'EtcdNoLeader', cluster: 'prod' }]),
    expected: {
      action: 'suppress',
      reason: 'precondition',
      detail: 'alert EtcdNoLeader (fp8) is firing and matches unless.firing {alertname=~"KubeAPIDown|EtcdNoLeader", cluster="prod"}',
    },
  },
  {
    title: 'the alert being decided never blocks itself',
    firing: firing(['fp1', { alertname: 'ClusterUpgradeInProgress' }]),
    expected: { action: 'run', dryRun: false, needsApproval: false, reason: 'playbook mode is live' },
  },
  {
    title: 'Alertmanager unreachable, onUnknown hold (the default): a live run that waits for approval, saying why',
    firing: unknown,
    expected: {
      action: 'run',
      dryRun: false,
      needsApproval: true,
      reason: `unless.firing could not be checked (${unknown.known ? '' : unknown.error}); onUnknown: hold: a person must approve this run`,
    },
  },
  {
    title: 'Alertmanager unreachable, onUnknown proceed: a live run, the reason records it',
    onUnknown: 'proceed',
    firing: unknown,
    expected: {
      action: 'run',
      dryRun: false,
      needsApproval: false,
      reason: `playbook mode is live; unless.firing could not be checked (${unknown.known ? '' : unknown.error}); onUnknown: proceed`,
    },
  },
  {
    title: 'not looked up at all counts as unknown',
    firing: undefined,
    expected: {
      action: 'run',
      dryRun: false,
      needsApproval: true,
      reason: 'unless.firing could not be checked (not looked up); onUnknown: hold: a person must approve this run',
    },
  },
  {
    title: 'unknown in a dry run: still a dry run (nothing acts), recorded',
    mode: 'dry-run',
    firing: unknown,
    expected: {
      action: 'run',
      dryRun: true,
      needsApproval: false,
      reason: `playbook mode is dry-run; unless.firing could not be checked (${unknown.known ? '' : unknown.error}); onUnknown: hold`,
    },
  },
];

for (const c of cases) {
  test(`unless.firing: ${c.title}`, () => {
    const pb = playbook(c.onUnknown, c.mode);
    const got = decide({
      alert: ALERT,
      playbook: pb,
      prepared: prepare(ALERT, pb),
      state: EMPTY,
      now: NOW,
      settings: c.settings ?? LIVE,
      ...(c.firing ? { firing: c.firing } : {}),
    });
    assert.deepEqual(got, c.expected);
  });
}

test('unless.firing: an empty matcher list is refused when the playbook loads', () => {
  const { errors } = parsePlaybook(`name: t\nmatch: { alertname: Burst }\nunless: { firing: ['{}'] }\nsteps:\n  - run: [echo]\n`, 'test.yaml');
  assert.match(JSON.stringify(errors), /unless\.firing\[0\].*empty matcher list would match every alert/);
});
