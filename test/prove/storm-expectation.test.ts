// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runTestFile } from '../support/prove-suite.js';

const PLAYBOOK = `name: rollback
match: { alertname: HighErrorRate }
params:
  deployment: { from: labels.deployment, pattern: '[a-z0-9]+' }
mode: live
guards: { key: '{{ params.deployment }}' }
steps:
  - run: [kubectl, rollout, undo, 'deployment/{{ params.deployment }}']
`;

const alert = (n: number, config: string) => `      - { at: ${n}s, labels: { alertname: HighErrorRate, deployment: svc${n} } }${config}`;

describe('remediator test: storm', () => {
  test('with the configuration guards.storm, the alert that crosses the threshold is held, then suppressed with action suppress', async () => {
    const alerts = [1, 2, 3, 4, 5].map((n) => alert(n, '')).join('\n');
    const { failed, count } = await runTestFile({
      'playbooks/rollback.yaml': PLAYBOOK,
      'remediator.yaml': 'guards:\n  storm: { alerts: 3, targets: 3, within: 1m, action: suppress }\n',
      'cases.test.yaml': `playbooks: playbooks
config: remediator.yaml
execution: live
tests:
  - name: a storm of five
    alerts:
${alerts}
    expect:
      - { at: 3s, playbook: rollback, decision: run }
      - { at: 4s, playbook: rollback, reason: storm, detail: 'guards.storm.action is suppress' }
      - { at: 5s, playbook: rollback, reason: storm }
`,
    });
    assert.deepEqual(failed, []);
    assert.equal(count, 1);
  });
});
