import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { runCli, spawnCli } from '../support/cli.js';
import { AM_FIXTURES, ROOT, TEST_PLAYBOOKS } from '../support/fixtures.js';

test('remediator simulate: shows the match, its params and the rendered plan, and why others did not match', async () => {
  const r = await runCli(['simulate', '--alert', path.join(AM_FIXTURES, 'amtool-firing.json'), '--playbooks', TEST_PLAYBOOKS]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^alert HighErrorRate\{service="checkout", severity="critical"\} 7d2d332feada5c59 \(firing\)$/m);
  assert.match(r.stdout, /^ {2}MATCH high-error-rate \(dry-run\)$/m);
  assert.match(r.stdout, /^ {4}params: service="checkout"$/m);
  assert.match(r.stdout, /^ {4}1\. undo \(run\): kubectl rollout undo deployment\/checkout$/m);
  assert.match(r.stdout, /^ {7}in a dry run: node -e .* rollout undo deployment\/checkout --dry-run=server$/m);
  assert.match(r.stdout, /^ {2}no {4}post-incident-note: alert is firing, and the playbook acts on resolved alerts$/m);
  assert.match(r.stdout, /^ {2}no {4}restart-pod: matcher remediation="restart-pod" does not hold$/m);
  assert.match(r.stdout, /^ {2}no {4}disk-full: alertname is "HighErrorRate", playbook wants "DiskFull"$/m);
});

test('remediator simulate: reads hand-written alerts from stdin and prints JSON', async () => {
  const alerts = [{ labels: { alertname: 'HighErrorRate', severity: 'page', service: 'x; rm -rf /' } }];
  // A real process, reading its real stdin.
  const r = await spawnCli(['simulate', '--alert', '-', '--playbooks', TEST_PLAYBOOKS, '--json'], { input: JSON.stringify(alerts) });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { results: { playbook: string; matched: boolean; refused?: string }[] }[];
  const match = out[0]?.results.find((x) => x.matched);
  assert.equal(match?.playbook, 'high-error-rate');
  assert.match(match?.refused ?? '', /param service: label service is "x; rm -rf \/", which does not match/);
});

test('remediator simulate: input that is not alerts is refused with the reason', async () => {
  const r = await runCli(['simulate', '--alert', '-', '--playbooks', TEST_PLAYBOOKS], { input: '{"nope": 1}' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /needs "labels": give a webhook payload, one alert, or a list of alerts/);
});

test('remediator simulate --json: a dry run plans a POST it does not send, and says so (no dryRunCommand for it)', async () => {
  const alerts = [{ labels: { alertname: 'FeatureErrorBurst', feature: 'checkout-v2', env: 'prod' } }];
  const r = await runCli(['simulate', '--alert', '-', '--playbooks', path.join(ROOT, 'playbooks'), '--json'], { input: JSON.stringify(alerts) });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    results: { playbook: string; plan?: { step: string; command: string; dryRun: string; dryRunCommand: string | null }[] }[];
  }[];
  const plan = out[0]?.results.find((x) => x.playbook === 'degrade-feature-flag')?.plan ?? [];
  const byStep = Object.fromEntries(plan.map((s) => [s.step, s]));
  // It used to list "PATCH https://…" as the dry run's command, which the dry run never sends.
  assert.equal(byStep['switch-off']?.command, 'PATCH https://flags.internal.example/api/v1/prod/flags/checkout-v2');
  assert.equal(byStep['switch-off']?.dryRun, 'plan');
  assert.equal(byStep['switch-off']?.dryRunCommand, null);
  // The read-only GET is sent in a dry run, the verify only planned, the notification sent (marked).
  assert.deepEqual(
    plan.map((s) => [s.step, s.dryRun]),
    [
      ['current', 'execute'],
      ['switch-off', 'plan'],
      ['confirm', 'plan'],
      ['tell', 'execute'],
    ],
  );
  assert.equal(byStep['current']?.dryRunCommand, 'GET https://flags.internal.example/api/v1/prod/flags/checkout-v2');
  const text = await runCli(['simulate', '--alert', '-', '--playbooks', path.join(ROOT, 'playbooks')], { input: JSON.stringify(alerts) });
  assert.match(
    text.stdout,
    /^ {4}2\. switch-off \(http\): PATCH https:\/\/flags\.internal\.example\/api\/v1\/prod\/flags\/checkout-v2\n {7}in a dry run: not sent, only planned$/m,
  );
});
