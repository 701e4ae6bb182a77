// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runTestFile } from '../support/prove-suite.js';

const PLAYBOOK = `name: rollback
match: { alertname: Burst }
params:
  deployment: { from: labels.deployment, pattern: '[a-z]+' }
mode: live
guards: { key: '{{ params.deployment }}' }
escalate: { after: 2, within: 1h, notify: [log] }
steps:
  - run: [kubectl, rollout, undo, 'deployment/{{ params.deployment }}']
`;

const alert = (at: string, run: string) => `      - { at: ${at}, startsAt: ${at}, labels: { alertname: Burst, deployment: checkout }, run: ${run} }`;

describe('remediator test: escalated', () => {
  test('two failed runs for a key, then the third alert is suppressed escalated', async () => {
    const { failed, count } = await runTestFile({
      'playbooks/rollback.yaml': PLAYBOOK,
      'cases.test.yaml': `playbooks: playbooks
execution: live
tests:
  - name: escalates
    alerts:
${alert('0s', 'failed')}
${alert('10m', 'failed')}
${alert('20m', 'failed')}
    expect:
      - { at: 10m, playbook: rollback, decision: run }
      - { at: 20m, playbook: rollback, reason: escalated, detail: 'escalate.after is 2' }
`,
    });
    assert.deepEqual(failed, []);
    assert.equal(count, 1);
  });
});
