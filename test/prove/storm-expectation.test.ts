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
    const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-prove-'));
    dirs.push(dir);
    mkdirSync(path.join(dir, 'playbooks'));
    writeFileSync(path.join(dir, 'playbooks', 'rollback.yaml'), PLAYBOOK);
    writeFileSync(path.join(dir, 'remediator.yaml'), 'guards:\n  storm: { alerts: 3, targets: 3, within: 1m, action: suppress }\n');
    const alerts = [1, 2, 3, 4, 5].map((n) => alert(n, '')).join('\n');
    writeFileSync(
      path.join(dir, 'cases.test.yaml'),
      `playbooks: playbooks
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
