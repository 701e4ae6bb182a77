import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { ROOT } from '../support/fixtures.js';
import { findExecutable } from '../support/service-binary.js';

// The alerts on remediator itself: checked and unit-tested by Prometheus's own promtool, and the
// PrometheusRule for the Prometheus Operator kept equal to the plain rules file.

const RULES = path.join(ROOT, 'deploy', 'prometheus', 'remediator.rules.yml');
const RULE_TESTS = path.join(ROOT, 'deploy', 'prometheus', 'remediator.rules.test.yml');
const PROMETHEUS_RULE = path.join(ROOT, 'deploy', 'kubernetes', 'monitoring', 'prometheusrule.yaml');

const SKIP_LINE = 'skipped: promtool not installed (apt-get install -y prometheus)';
const promtool = findExecutable('promtool');
const inCi = !['', '0', 'false'].includes((process.env['CI'] ?? '').toLowerCase());
const skip = promtool === null && !inCi;
if (skip) process.stdout.write(`${SKIP_LINE}\n`);

const run = promisify(execFile);

async function promtoolSays(...args: string[]): Promise<{ code: number; output: string }> {
  if (promtool === null) throw new Error('CI is set and promtool is not installed: apt-get install -y prometheus');
  try {
    const { stdout, stderr } = await run(promtool, args, { cwd: path.dirname(RULES), timeout: 30_000 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

test('promtool check rules: the alerts on remediator are valid', { skip: skip ? SKIP_LINE : false }, async () => {
  const { code, output } = await promtoolSays('check', 'rules', RULES);
  assert.equal(code, 0, output);
  assert.match(output, /SUCCESS: 7 rules found/);
});

test('promtool test rules: each alert fires when it should and stays quiet when it should not', { skip: skip ? SKIP_LINE : false }, async () => {
  const { code, output } = await promtoolSays('test', 'rules', RULE_TESTS);
  assert.equal(code, 0, output);
  assert.match(output, /SUCCESS/);
});

test('the rules cover what an operator must hear about, each with a summary and a description', () => {
  const groups = (parse(readFileSync(RULES, 'utf8')) as { groups: { rules: { alert: string; annotations: Record<string, string> }[] }[] }).groups;
  const alerts = groups.flatMap((g) => g.rules);
  assert.deepEqual(alerts.map((a) => a.alert).sort(), [
    'RemediatorApprovalExpiringSoon',
    'RemediatorBatchesPending',
    'RemediatorCircuitOpen',
    'RemediatorDown',
    'RemediatorNotificationsFailing',
    'RemediatorReloadRefused',
    'RemediatorWebhooksFailing',
  ]);
  for (const a of alerts) assert.ok(a.annotations['summary'] && a.annotations['description'], `${a.alert} says what happened and what to do`);
  const tested = new Set([...readFileSync(RULE_TESTS, 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
  for (const a of alerts) assert.ok(tested.has(a.alert), `${a.alert} has a promtool test`);
});

test('the PrometheusRule carries exactly the rules file', () => {
  const plain = parse(readFileSync(RULES, 'utf8')) as { groups: unknown };
  const crd = parse(readFileSync(PROMETHEUS_RULE, 'utf8')) as { kind: string; spec: { groups: unknown } };
  assert.equal(crd.kind, 'PrometheusRule');
  assert.deepEqual(crd.spec.groups, plain.groups, 'copy deploy/prometheus/remediator.rules.yml into the PrometheusRule');
});
