// Unit test: starts nothing (see scripts/test.mjs).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from '../../src/domain/alert.js';
import type { Playbook, Step } from '../../src/domain/playbook.js';
import type { RenderedStep } from '../../src/domain/run.js';
import { renderPlan } from '../../src/execute/plan.js';
import { renderStep } from '../../src/execute/render-step.js';
import { parsePlaybook } from '../../src/playbook/loader.js';
import { TemplateRenderError, type Resolve } from '../../src/playbook/template.js';

function playbook(yaml: string): Playbook {
  const { playbook: p, errors } = parsePlaybook(yaml, 'test.yaml');
  assert.deepEqual(errors, []);
  assert.ok(p);
  return p;
}

/** The only step of a playbook whose steps section is `steps`; params ns and x are declared. */
function step(steps: string): Step {
  const [s] = playbook(`name: t
match: { alertname: A }
params:
  ns: { from: labels.ns, pattern: '.*' }
  x: { from: labels.x, pattern: '.*' }
steps:
${steps}`).steps;
  assert.ok(s);
  return s;
}

const VALUES: Readonly<Record<string, string>> = { 'params.ns': 'shop', 'params.x': 'a b', 'run.id': 'r1' };
const resolve: Resolve = (path) => (path[0] === 'steps' || path[0] === 'secrets' ? null : VALUES[path.join('.')]);

describe('renderStep', () => {
  test('run: every argv element, dryRun, env values and cwd', () => {
    const s = step(`  - run: [kubectl, -n, '{{ params.ns }}', '--x={{ params.x }}']
    dryRun: [kubectl, -n, '{{ params.ns }}', --dry-run=server]
    env: { NS: '{{ params.ns }}', PLAIN: v }
    cwd: '/srv/{{ params.ns }}'
`);
    assert.deepEqual(renderStep(s, resolve), {
      rendered: {
        kind: 'run',
        argv: ['kubectl', '-n', 'shop', '--x=a b'],
        dryRunArgv: ['kubectl', '-n', 'shop', '--dry-run=server'],
        env: { NS: 'shop', PLAIN: 'v' },
        cwd: '/srv/shop',
      },
      deferred: false,
    });
  });

  test('run without dryRun, env or cwd', () => {
    assert.deepEqual(renderStep(step('  - run: [echo]\n'), resolve), {
      rendered: { kind: 'run', argv: ['echo'], dryRunArgv: null, env: {}, cwd: null },
      deferred: false,
    });
  });

  test('http: body objects are rendered deeply, other values and keys kept as they are', () => {
    const s = step(`  - http:
      method: PATCH
      url: 'https://flags/{{ params.ns }}/x'
      headers: { Authorization: 'Bearer {{ secrets.TOKEN }}', X-Ns: '{{ params.ns }}' }
      body:
        enabled: false
        count: 3
        ratio: 0.5
        none: null
        reason: 'run {{ run.id }}: {{ params.x }}'
        '{{ params.ns }}': key-is-not-rendered
        nested:
          list: ['{{ params.ns }}', 1, true, null, { deeper: ['{{ params.x }}'] }]
          empty: {}
      expectStatus: [200, 204]
`);
    assert.deepEqual(renderStep(s, resolve), {
      rendered: {
        kind: 'http',
        method: 'PATCH',
        url: 'https://flags/shop/x',
        headers: { Authorization: 'Bearer {{ secrets.TOKEN }}', 'X-Ns': 'shop' },
        body: {
          enabled: false,
          count: 3,
          ratio: 0.5,
          none: null,
          reason: 'run r1: a b',
          '{{ params.ns }}': 'key-is-not-rendered',
          nested: { list: ['shop', 1, true, null, { deeper: ['a b'] }], empty: {} },
        },
        expectStatus: [200, 204],
      },
      deferred: true, // the secret is only known when the step runs
    });
  });

  test('http: a string body and a top-level array body', () => {
    const text = step(`  - http: { method: POST, url: 'https://x', body: '{"ns":"{{ params.ns }}"}' }\n`);
    assert.deepEqual(renderStep(text, resolve).rendered, {
      kind: 'http',
      method: 'POST',
      url: 'https://x',
      headers: {},
      body: '{"ns":"shop"}',
      expectStatus: [200, 201, 202, 204],
    });
    const list = step(`  - http: { method: POST, url: 'https://x', body: ['{{ params.ns }}', 2] }\n`);
    assert.deepEqual(renderStep(list, resolve).rendered, {
      kind: 'http',
      method: 'POST',
      url: 'https://x',
      headers: {},
      body: ['shop', 2],
      expectStatus: [200, 201, 202, 204],
    });
  });

  test('http without a body renders body null', () => {
    const s = step("  - http: { url: 'https://x/{{ params.ns }}', expectStatus: 200 }\n");
    assert.deepEqual(renderStep(s, resolve).rendered, { kind: 'http', method: 'GET', url: 'https://x/shop', headers: {}, body: null, expectStatus: [200] });
  });

  test('verify prometheus', () => {
    const s = step(
      `  - verify: { prometheus: { query: 'rate(x{ns="{{ params.ns }}"}[1m]) < 1', url: 'http://prom/{{ params.ns }}' }, within: 1m, every: 5s }\n`,
    );
    assert.deepEqual(renderStep(s, resolve), {
      rendered: {
        kind: 'verify',
        check: { kind: 'prometheus', query: 'rate(x{ns="shop"}[1m]) < 1', url: 'http://prom/shop' },
        withinMs: 60_000,
        everyMs: 5000,
      },
      deferred: false,
    });
  });

  test('verify http: url, headers, json and contains are rendered', () => {
    const s = step(`  - verify:
      http:
        url: 'https://flags/{{ params.ns }}'
        headers: { Authorization: 'Bearer {{ secrets.T }}' }
        status: [200]
        json: { path: 'flags.{{ params.ns }}', equals: '{{ params.x }}' }
        contains: 'ns={{ params.ns }}'
`);
    assert.deepEqual(renderStep(s, resolve), {
      rendered: {
        kind: 'verify',
        check: {
          kind: 'http',
          method: 'GET',
          url: 'https://flags/shop',
          headers: { Authorization: 'Bearer {{ secrets.T }}' },
          status: [200],
          json: { path: 'flags.shop', equals: 'a b' },
          contains: 'ns=shop',
        },
        withinMs: 300_000,
        everyMs: 15_000,
      },
      deferred: true,
    });
  });

  test('verify http: non-string json values and absent options', () => {
    const s = step("  - verify: { http: { url: 'https://x', json: { path: enabled, equals: false } } }\n");
    assert.deepEqual(renderStep(s, resolve).rendered, {
      kind: 'verify',
      check: { kind: 'http', method: 'GET', url: 'https://x', headers: {}, status: [200], json: { path: 'enabled', equals: false }, contains: null },
      withinMs: 300_000,
      everyMs: 15_000,
    });
  });

  test('verify resolved, wait, notify and approval', () => {
    // [steps yaml, rendered]
    const cases: ReadonlyArray<readonly [string, RenderedStep]> = [
      ['  - verify: { resolved: true, within: 2m, every: 10s }\n', { kind: 'verify', check: { kind: 'resolved' }, withinMs: 120_000, everyMs: 10_000 }],
      ['  - wait: 1m30s\n', { kind: 'wait', durationMs: 90_000 }],
      ["  - notify: { text: 'ns {{ params.ns }} {{ labels.team }}', channel: '#ops' }\n", { kind: 'notify', text: 'ns shop pay', channel: '#ops' }],
      ["  - approval: { message: 'Approve {{ params.ns }}?' }\n", { kind: 'approval', message: 'Approve shop?' }],
      ['  - approval: {}\n', { kind: 'approval', message: null }],
    ];
    const r: Resolve = (path) => (path.join('.') === 'labels.team' ? 'pay' : resolve(path));
    for (const [yaml, rendered] of cases) assert.deepEqual(renderStep(step(yaml), r), { rendered, deferred: false }, yaml);
  });

  test('deferred when any string of the step waits for an earlier step', () => {
    const [first, later] = playbook(
      `name: t\nmatch: { alertname: A }\nsteps:\n  - name: a\n    run: [echo]\n  - run: [echo, 'x', '{{ steps.a.stdout }}']\n`,
    ).steps;
    assert.ok(first && later);
    assert.deepEqual(renderStep(first, resolve), { rendered: { kind: 'run', argv: ['echo'], dryRunArgv: null, env: {}, cwd: null }, deferred: false });
    assert.deepEqual(renderStep(later, resolve), {
      rendered: { kind: 'run', argv: ['echo', 'x', '{{ steps.a.stdout }}'], dryRunArgv: null, env: {}, cwd: null },
      deferred: true,
    });
  });

  test('a name without a value fails the render', () => {
    const s = step("  - run: [echo, '{{ params.ns }}']\n");
    assert.throws(
      () => renderStep(s, () => undefined),
      (err: unknown) => {
        assert.ok(err instanceof TemplateRenderError);
        assert.match(err.message, /^\{\{ params\.ns \}\} has no value$/);
        return true;
      },
    );
  });
});

describe('renderPlan', () => {
  const pb = playbook(`name: plan-me
match: { alertname: A }
params:
  ns: { from: labels.ns, pattern: '[a-z]+' }
mode: approve
steps:
  - name: get
    run: [kubectl, get, -n, '{{ params.ns }}']
    readOnly: true
  - name: act
    http:
      url: 'https://api/{{ params.ns }}'
      headers: { Authorization: 'Bearer {{ secrets.TOKEN }}' }
      body: { run: '{{ run.id }}', playbook: '{{ run.playbook }}', mode: '{{ run.mode }}', before: '{{ steps.get.stdout }}' }
  - notify: { text: '{{ alert.name }} {{ labels.ns }} {{ annotations.summary }} {{ alert.fingerprint }}' }
onFailure:
  - notify: { text: 'failed {{ params.ns }} ({{ run.id }})' }
`);
  const alert: Alert = {
    status: 'firing',
    labels: { alertname: 'A', ns: 'shop' },
    annotations: { summary: 'too many errors' },
    startsAt: '2024-05-01T10:00:00Z',
    endsAt: null,
    generatorURL: '',
    fingerprint: 'fp1',
  };

  test('renders every step, keeps steps.* and secrets.* as written and marks those steps deferred', () => {
    const plan = renderPlan(pb, alert, { ns: 'shop' }, { runId: 'r_1', dryRun: false });
    assert.deepEqual(
      plan.map(({ index, name, kind, phase, readOnly, deferred, state }) => ({ index, name, kind, phase, readOnly, deferred, state })),
      [
        { index: 0, name: 'get', kind: 'run', phase: 'main', readOnly: true, deferred: false, state: 'planned' },
        { index: 1, name: 'act', kind: 'http', phase: 'main', readOnly: false, deferred: true, state: 'planned' },
        { index: 2, name: 'notify-3', kind: 'notify', phase: 'main', readOnly: false, deferred: false, state: 'planned' },
        { index: 0, name: 'onFailure-notify-1', kind: 'notify', phase: 'onFailure', readOnly: false, deferred: false, state: 'planned' },
      ],
    );
    assert.deepEqual(
      plan.map((s) => s.rendered),
      [
        { kind: 'run', argv: ['kubectl', 'get', '-n', 'shop'], dryRunArgv: null, env: {}, cwd: null },
        {
          kind: 'http',
          method: 'GET',
          url: 'https://api/shop',
          headers: { Authorization: 'Bearer {{ secrets.TOKEN }}' },
          body: { run: 'r_1', playbook: 'plan-me', mode: 'approve', before: '{{ steps.get.stdout }}' },
          expectStatus: [200, 201, 202, 204],
        },
        { kind: 'notify', text: 'A shop too many errors fp1', channel: null },
        { kind: 'notify', text: 'failed shop (r_1)', channel: null },
      ],
    );
    for (const s of plan) assert.deepEqual([s.startedAt, s.finishedAt, s.exitCode, s.output, s.error], [null, null, null, null, null]);
  });

  test('run.mode says dry-run for a dry run', () => {
    const plan = renderPlan(pb, alert, { ns: 'shop' }, { runId: 'r_2', dryRun: true });
    const act = plan[1]?.rendered;
    assert.ok(act?.kind === 'http');
    assert.deepEqual(act.body, { run: 'r_2', playbook: 'plan-me', mode: 'dry-run', before: '{{ steps.get.stdout }}' });
  });

  test('a param missing from the values fails the render', () => {
    assert.throws(
      () => renderPlan(pb, alert, {}, { runId: 'r_3', dryRun: false }),
      (err: unknown) => {
        assert.ok(err instanceof TemplateRenderError);
        assert.match(err.message, /^\{\{ params\.ns \}\} has no value$/);
        return true;
      },
    );
  });
});
