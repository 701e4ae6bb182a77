// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { runSuite } from '../../src/prove/run-tests.js';
import { loadTestFile } from '../../src/prove/test-file.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

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
    const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-prove-'));
    dirs.push(dir);
    mkdirSync(path.join(dir, 'playbooks'));
    writeFileSync(path.join(dir, 'playbooks', 'rollback.yaml'), PLAYBOOK);
    writeFileSync(
      path.join(dir, 'cases.test.yaml'),
      `playbooks: playbooks
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
    );
    const loaded = await loadTestFile(path.join(dir, 'cases.test.yaml'), 'cases.test.yaml');
    assert.ok(!loaded.errors, loaded.errors?.map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`).join('\n'));
    const results = [...(await runSuite(loaded.suite)).results];
    assert.deepEqual(
      results.filter((r) => !r.ok).map((r) => r.failures.flatMap((f) => [f.alert, ...f.lines]).join('\n') + r.trace.join('\n')),
      [],
    );
    assert.equal(results.length, 1);
  });
});
