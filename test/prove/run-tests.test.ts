// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { runSuite, type TestResult } from '../../src/prove/run-tests.js';
import { loadTestFile } from '../../src/prove/test-file.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const LABEL = "'[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?'";

/** Playbooks the cases decide with: one per mode, a second one sharing the lock, one acting on resolves. */
const PLAYBOOKS: Readonly<Record<string, string>> = {
  'live.yaml': `name: live
match: { alertname: Burst, matchers: ['severity=~"critical|page"'] }
params:
  namespace: { from: labels.namespace, pattern: ${LABEL} }
  deployment: { from: labels.deployment, pattern: ${LABEL} }
mode: live
guards:
  key: '{{ params.namespace }}/{{ params.deployment }}'
  lock: '{{ params.namespace }}/{{ params.deployment }}'
  cooldown: 30m
  maxRuns: { count: 2, per: 1h }
steps:
  - name: look
    run: [kubectl, get, 'deployment/{{ params.deployment }}', -n, '{{ params.namespace }}']
    readOnly: true
  - name: undo
    run: [kubectl, rollout, undo, 'deployment/{{ params.deployment }}', -n, '{{ params.namespace }}']
    dryRun: [kubectl, rollout, undo, 'deployment/{{ params.deployment }}', -n, '{{ params.namespace }}', --dry-run=server]
  - notify: { text: 'undone {{ params.deployment }} in run {{ run.id }}' }
onFailure:
  - notify: { text: 'undo of {{ params.deployment }} failed' }
`,
  'held.yaml': `name: held
match: { alertname: Stuck }
params:
  service: { from: labels.service, pattern: ${LABEL} }
mode: approve
guards: { key: '{{ params.service }}' }
steps:
  - http: { method: POST, url: 'https://ops.example/restart/{{ params.service }}', body: { why: '{{ params.service }} is stuck' } }
`,
  'dry.yaml': `name: dry
match: { alertname: Stuck }
params:
  service: { from: labels.service, pattern: ${LABEL} }
mode: dry-run
steps:
  - wait: 30s
  - verify: { prometheus: { query: 'up{service="{{ params.service }}"} == 1' } }
`,
  'scale.yaml': `name: scale
match: { alertname: Saturated }
params:
  namespace: { from: labels.namespace, pattern: ${LABEL} }
  deployment: { from: labels.deployment, pattern: ${LABEL} }
mode: live
guards: { lock: '{{ params.namespace }}/{{ params.deployment }}' }
steps:
  - run: [kubectl, scale, 'deployment/{{ params.deployment }}', -n, '{{ params.namespace }}', --replicas=5]
`,
  'on-resolve.yaml': `name: on-resolve
match: { alertname: Burst, status: resolved }
mode: live
steps:
  - notify: { text: 'resolved: {{ labels.deployment }}' }
`,
};

/** Runs a test file (the tests below it) against PLAYBOOKS; returns each test's result. */
async function run(tests: string, head = 'execution: live'): Promise<TestResult[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-prove-'));
  dirs.push(dir);
  mkdirSync(path.join(dir, 'playbooks'));
  for (const [name, text] of Object.entries(PLAYBOOKS)) writeFileSync(path.join(dir, 'playbooks', name), text);
  writeFileSync(path.join(dir, 'cases.test.yaml'), `playbooks: playbooks\n${head}\ntests:\n${tests}`);
  const loaded = await loadTestFile(path.join(dir, 'cases.test.yaml'), 'cases.test.yaml');
  assert.ok(!loaded.errors, loaded.errors?.map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`).join('\n'));
  return [...(await runSuite(loaded.suite)).results];
}

/** Every test passed; otherwise the failure lines, as the text report would show them. */
function assertPassed(results: readonly TestResult[]): void {
  const failed = results.filter((r) => !r.ok);
  assert.deepEqual(
    failed.map((r) => `${r.name}: ${r.failures.flatMap((f) => [f.alert, ...f.lines]).join('\n')}\n${r.trace.join('\n')}`),
    [],
  );
  assert.ok(results.length > 0);
}

const burst = (at: string, deployment = 'checkout', extra = '') =>
  `      - { at: ${at}, labels: { alertname: Burst, namespace: shop, deployment: ${deployment}, severity: critical }${extra} }`;

describe('remediator test: each decision kind', () => {
  const cases: [string, string][] = [
    ['a live run', `${burst('0s')}\n    expect:\n      - { at: 0s, playbook: live, decision: run, detail: playbook mode is live }`],
    [
      'held for approval',
      `      - { at: 0s, labels: { alertname: Stuck, service: api } }\n    expect:\n      - { at: 0s, playbook: held, decision: approve, params: { service: api } }`,
    ],
    [
      "a dry run, by the playbook's mode",
      `      - { at: 0s, labels: { alertname: Stuck, service: api } }\n    expect:\n      - { at: 0s, playbook: dry, decision: dry-run, detail: playbook mode is dry-run }`,
    ],
    [
      'refused: a param fails its pattern',
      `${burst('0s', '-rf')}\n    expect:\n      - { at: 0s, playbook: live, decision: refuse, detail: 'param deployment: label deployment is "-rf"' }`,
    ],
    [
      'not matched, and which condition failed',
      `      - { at: 0s, labels: { alertname: Burst, namespace: shop, deployment: x, severity: info } }\n    expect:\n      - { at: 0s, playbook: live, matched: false, because: 'matcher severity=~"critical|page" does not hold (value is "info")' }`,
    ],
  ];
  for (const [title, body] of cases) {
    test(title, async () => assertPassed(await run(`  - name: ${JSON.stringify(title)}\n    alerts:\n${body}\n`)));
  }
});

describe('remediator test: each suppression reason, over a timeline', () => {
  const cases: [string, string][] = [
    ['duplicate: the same instance again', `${burst('0s')}\n${burst('1m')}\n    expect:\n      - { at: 1m, playbook: live, reason: duplicate }`],
    [
      'duplicate: the target still has an active run',
      `${burst('0s', 'checkout', ', run: running')}\n${burst('1m', 'checkout', ', startsAt: 1m')}\n    expect:\n      - { at: 1m, playbook: live, reason: duplicate, detail: is still running }`,
    ],
    [
      'cooldown, then a run once it is over',
      `${burst('0s')}\n${burst('29m', 'checkout', ', startsAt: 29m')}\n${burst('31m', 'checkout', ', startsAt: 31m')}\n    expect:\n      - { at: 29m, playbook: live, reason: cooldown }\n      - { at: 31m, playbook: live, decision: run }`,
    ],
    [
      'rate_limit: maxRuns 2 an hour',
      `${burst('0s', 'a')}\n${burst('1m', 'b')}\n${burst('2m', 'c')}\n${burst('61m', 'd')}\n    expect:\n      - { at: 2m, playbook: live, reason: rate_limit }\n      - { at: 61m, playbook: live, decision: run }`,
    ],
    [
      'locked: a run of another playbook holds the lock until it ends',
      `      - { at: 0s, labels: { alertname: Saturated, namespace: shop, deployment: checkout }, run: { state: succeeded, after: 5m } }\n${burst('1m')}\n${burst('6m', 'checkout', ', startsAt: 6m')}\n    expect:\n      - { at: 1m, playbook: live, reason: locked, detail: 'of scale, still pending' }\n      - { at: 6m, playbook: live, decision: run }`,
    ],
    [
      'paused, from the start; resumed by a person',
      `${burst('10m')}\n${burst('40m', 'checkout', ', startsAt: 40m')}\n    state: { paused: { for: 1h, reason: upgrade, by: alice } }\n    actions: [{ at: 30m, resume: true }]\n    expect:\n      - { at: 10m, playbook: live, reason: paused, detail: 'paused by alice at 2026-01-05T10:00:00.000Z until 2026-01-05T11:00:00.000Z: upgrade' }\n      - { at: 40m, playbook: live, decision: run }`,
    ],
    [
      'resolved: a resolve starts nothing, except for a playbook that acts on it',
      `${burst('0s')}\n${burst('5m', 'checkout', ', status: resolved')}\n    expect:\n      - { at: 5m, playbook: live, reason: resolved }\n      - { at: 5m, playbook: on-resolve, decision: run, plan: ['resolved: checkout'] }`,
    ],
  ];
  for (const [title, body] of cases) {
    test(title, async () => assertPassed(await run(`  - name: ${JSON.stringify(title)}\n    alerts:\n${body}\n`)));
  }

  test('budget → circuit → held: the run that exceeds the budget opens the circuit, every live run after it waits', async () => {
    const body = [
      '  - name: budget',
      '    config: { guards: { budget: { count: 2, per: 1h } } }',
      '    alerts:',
      burst('0s', 'a'),
      '      - { at: 1m, labels: { alertname: Saturated, namespace: shop, deployment: b } }',
      burst('2m', 'c'),
      '      - { at: 3m, labels: { alertname: Saturated, namespace: shop, deployment: d } }',
      '      - { at: 4m, labels: { alertname: Stuck, service: api } }',
      '    expect:',
      '      - { at: 1m, playbook: scale, decision: run }',
      "      - { at: 2m, playbook: live, decision: approve, detail: 'budget of 2 live run(s) per 1h spent: circuit opened' }",
      "      - { at: 3m, playbook: scale, decision: approve, detail: 'the circuit is open since 2026-01-05T10:02:00.000Z' }",
      '      - { at: 4m, playbook: dry, decision: dry-run }',
      '',
    ].join('\n');
    assertPassed(await run(body));
  });

  test('a circuit open from the start holds a live run; dry runs go on', async () => {
    const body = `  - name: open\n    state: { circuit: { reason: too much lately } }\n    alerts:\n${burst('0s')}\n    expect:\n      - { at: 0s, playbook: live, decision: approve, detail: 'too much lately' }\n`;
    assertPassed(await run(body));
  });
});

describe('remediator test: maintenance windows at given times and zones', () => {
  // 2026-01-04 is a Sunday; Europe/Berlin is UTC+1 in January, America/New_York UTC-5.
  const window = (zone: string, action = 'suppress') =>
    `    config: { guards: { maintenance: [{ name: upgrades, cron: '0 2 * * SUN', duration: 2h, timezone: ${zone}, action: ${action} }] } }`;
  const cases: [string, string, string, string][] = [
    ['in the window, in its zone', '2026-01-04T01:30:00Z', window('Europe/Berlin'), '{ at: 0s, playbook: live, reason: maintenance }'],
    ['before it starts', '2026-01-04T00:59:00Z', window('Europe/Berlin'), '{ at: 0s, playbook: live, decision: run }'],
    ['once it ended', '2026-01-04T03:00:00Z', window('Europe/Berlin'), '{ at: 0s, playbook: live, decision: run }'],
    ['the same hour in another zone is not the window', '2026-01-04T01:30:00Z', window('America/New_York'), '{ at: 0s, playbook: live, decision: run }'],
    ['in New York, five hours later', '2026-01-04T07:30:00Z', window('America/New_York'), '{ at: 0s, playbook: live, reason: maintenance }'],
    [
      'a dry-run window',
      '2026-01-04T01:30:00Z',
      window('Europe/Berlin', 'dry-run'),
      '{ at: 0s, playbook: live, decision: dry-run, detail: \'maintenance window "upgrades"\' }',
    ],
  ];
  for (const [title, start, config, expectation] of cases) {
    test(title, async () =>
      assertPassed(
        await run(`  - name: ${JSON.stringify(title)}\n    start: ${start}\n${config}\n    alerts:\n${burst('0s')}\n    expect:\n      - ${expectation}\n`),
      ),
    );
  }
});

describe('remediator test: plans', () => {
  test('a plan: argv, text, fields, by position and by name; the run id is written back as {{ run.id }}', async () => {
    const body = `  - name: plans
    execution: dry-run
    alerts:
${burst('0s')}
      - { at: 0s, labels: { alertname: Stuck, service: api } }
    expect:
      - at: 0s
        alert: 1
        playbook: live
        decision: dry-run
        plan:
          - [kubectl, get, deployment/checkout, -n, shop]
          - { name: undo, dryRun: [kubectl, rollout, undo, deployment/checkout, -n, shop, --dry-run=server] }
          - 'undone checkout in run {{ run.id }}'
        onFailure: ['undo of checkout failed']
      - at: 0s
        alert: 2
        playbook: held
        decision: dry-run
        plan: { http-1: { method: POST, url: 'https://ops.example/restart/api', body: { why: api is stuck } } }
      - { at: 0s, alert: 2, playbook: dry, plan: { wait-1: { wait: 30s }, verify-2: 'up{service="api"} == 1' } }
`;
    assertPassed(await run(body));
  });

  test('a wrong expectation fails the test with the alert, expected against got, and a diff of the plan', async () => {
    const body = `  - name: wrong
    alerts:
${burst('0s')}
${burst('5m', 'checkout', ', startsAt: 5m')}
    expect:
      - at: 0s
        playbook: live
        decision: approve
        params: { namespace: shop, deployment: cart }
        plan:
          - [kubectl, get, deployment/checkout, -n, shop]
          - [kubectl, rollout, undo, deployment/checkout, -n, shop, --to-revision=1]
          - { name: notify-3, text: something else }
          - [kubectl, rollout, status]
      - { at: 5m, playbook: live, decision: run }
      - { at: 5m, playbook: scale, decision: run }
`;
    const [result] = await run(body);
    assert.ok(result && !result.ok);
    assert.equal(result.failures.length, 3);
    const [first, second, third] = result.failures;
    assert.match(
      first?.alert ?? '',
      /^at 0s: Burst\{namespace="shop", deployment="checkout", severity="critical"\} [0-9a-f]{16} \(fingerprint derived from the labels, as Alertmanager does\), startsAt 2026-01-05T10:00:00Z$/,
    );
    assert.deepEqual(
      first?.lines,
      [
        'expected approve, got run: playbook mode is live',
        'expected params {"namespace":"shop","deployment":"cart"}, got {"namespace":"shop","deployment":"checkout"}',
        [
          'plan differs (- expected, + got):',
          '    1. look (run): kubectl get deployment/checkout -n shop',
          '  - 2. undo (run): kubectl rollout undo deployment/checkout -n shop --to-revision=1',
          '  + 2. undo (run): kubectl rollout undo deployment/checkout -n shop',
          '  - 3. notify-3 (notify): name=notify-3, text=something else',
          '  + 3. notify-3 (notify): name=notify-3, text=undone checkout in run {{ run.id }}',
          '  - step 4: kubectl rollout status (the plan has no such step; its steps: look, undo, notify-3)',
        ],
      ].flat(),
    );
    assert.match(
      second?.lines[0] ?? '',
      /^expected run, got suppress \(cooldown\): key "shop\/checkout" ran at 2026-01-05T10:00:00\.000Z; cooldown 30m lasts until 2026-01-05T10:30:00\.000Z$/,
    );
    assert.deepEqual(third?.lines, ['expected run, got no match: alertname is "Burst", playbook wants "Saturated"']);
  });

  test('matched: false against a playbook that matched fails too', async () => {
    const [result] = await run(`  - name: matched\n    alerts:\n${burst('0s')}\n    expect:\n      - { at: 0s, playbook: live, matched: false }\n`);
    assert.deepEqual(
      result?.failures.map((f) => f.lines),
      [['expected no match, got run: playbook mode is live']],
    );
  });
});

describe('remediator test: the alerts a timeline delivers', () => {
  test('a fingerprint is derived as Alertmanager does; startsAt carries over until a resolve; an explicit one is kept', async () => {
    const body = `  - name: instances
    alerts:
      - { at: 0s, labels: { alertname: HighErrorRate, service: checkout, severity: critical } }
      - { at: 1m, labels: { alertname: Burst, namespace: shop, deployment: a, severity: page }, fingerprint: 00000000000000ab, startsAt: '2026-01-05T09:00:00+01:00' }
    expect:
      - { at: 0s, playbook: live, matched: false }
      - { at: 1m, playbook: live, decision: run }
`;
    const [result] = await run(body);
    assert.ok(result?.ok);
    // The fingerprint Alertmanager itself gave these labels (test/fixtures/alertmanager/amtool-firing.json).
    assert.match(result.trace[0] ?? '', /HighErrorRate\{service="checkout", severity="critical"\} 7d2d332feada5c59 \(fingerprint derived from the labels/);
    assert.match(result.trace[2] ?? '', / 00000000000000ab, startsAt 2026-01-05T08:00:00Z$/);
  });

  test('runs end as the test says: a failed run still starts the cooldown, an interrupted one frees the lock', async () => {
    const body = `  - name: endings
    alerts:
${burst('0s', 'checkout', ', run: failed')}
${burst('5m', 'checkout', ', startsAt: 5m')}
      - { at: 10m, labels: { alertname: Saturated, namespace: shop, deployment: cart }, run: { state: interrupted, after: 1m } }
${burst('10m', 'cart')}
${burst('12m', 'cart', ', startsAt: 12m')}
    expect:
      - { at: 5m, playbook: live, reason: cooldown }
      - { at: 10m, alert: 2, playbook: live, reason: locked }
      - { at: 12m, playbook: live, decision: run }
`;
    assertPassed(await run(body));
  });
});
