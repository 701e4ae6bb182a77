// Unit test: starts nothing (see scripts/test.mjs).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from '../../src/domain/alert.js';
import type { Playbook } from '../../src/domain/playbook.js';
import type { RunStep } from '../../src/domain/run.js';
import { instanceKeyOf, prepare, type Prepared } from '../../src/decide/prepare.js';
import { alertResolver } from '../../src/playbook/template-scope.js';
import { renderPlan } from '../../src/execute/plan.js';
import { parsePlaybook } from '../../src/playbook/loader.js';

function playbook(yaml: string): Playbook {
  const { playbook: p, errors } = parsePlaybook(yaml, 'test.yaml');
  assert.deepEqual(errors, []);
  assert.ok(p);
  return p;
}

function alert(labels: Record<string, string>, annotations: Record<string, string> = {}, over: Partial<Alert> = {}): Alert {
  return {
    status: 'firing',
    labels: { alertname: 'Burst', ...labels },
    annotations,
    startsAt: '2024-05-01T10:00:00.123456789Z',
    endsAt: null,
    generatorURL: 'http://prom/graph',
    fingerprint: 'fp1',
    ...over,
  };
}

/** The params of a prepare() that must have succeeded. */
function values(p: Prepared): Record<string, string> {
  assert.ok(p.params.ok, `params refused: ${p.params.ok ? '' : p.params.reason}`);
  return p.params.values;
}

/** The reason of a prepare() that must have refused. */
function refusal(p: Prepared): string {
  assert.ok(!p.params.ok, `params accepted: ${JSON.stringify(p.params)}`);
  return p.params.reason;
}

const INSTANCE = 'fp1@2024-05-01T10:00:00.123456789Z';

describe('prepare: params', () => {
  const pb = playbook(`name: t
match: { alertname: Burst }
params:
  namespace: { from: labels.namespace, pattern: '[a-z0-9-]{1,63}' }
  env: { from: labels.env, pattern: 'prod|staging', default: prod }
  summary: { from: annotations.summary, pattern: '[A-Za-z ]*' }
steps:
  - run: [echo, '{{ params.namespace }}', '{{ params.env }}', '{{ params.summary }}']
`);

  test('from labels and annotations', () => {
    const p = prepare(alert({ namespace: 'shop', env: 'staging' }, { summary: 'Error burst' }), pb);
    assert.deepEqual(values(p), { namespace: 'shop', env: 'staging', summary: 'Error burst' });
  });

  test('a missing or empty label takes the default', () => {
    assert.equal(values(prepare(alert({ namespace: 'shop' }, { summary: 'x' }), pb))['env'], 'prod');
    assert.equal(values(prepare(alert({ namespace: 'shop', env: '' }, { summary: 'x' }), pb))['env'], 'prod');
  });

  test('a missing label without a default refuses, naming param and label', () => {
    assert.equal(refusal(prepare(alert({}, { summary: 'x' }), pb)), 'param namespace: the alert has no label namespace and the param has no default');
  });

  test('an empty label without a default is missing, whatever the pattern accepts', () => {
    const star = playbook("name: t\nmatch: { alertname: Burst }\nparams:\n  v: { from: labels.v, pattern: '.*' }\nsteps:\n  - run: [echo]\n");
    assert.equal(refusal(prepare(alert({ v: '' }), star)), 'param v: the alert has no label v and the param has no default');
  });

  test('a missing annotation says annotation', () => {
    assert.equal(refusal(prepare(alert({ namespace: 'shop' }), pb)), 'param summary: the alert has no annotation summary and the param has no default');
  });

  test('every problem is reported, joined with "; "', () => {
    assert.equal(
      refusal(prepare(alert({ env: 'dev' }, { summary: 'x' }), pb)),
      'param namespace: the alert has no label namespace and the param has no default; ' +
        'param env: label env is "dev", which does not match ^(?:prod|staging)$',
    );
  });

  test('a label that is not the alert\'s own (e.g. "constructor") counts as missing', () => {
    const proto = playbook(`name: t
match: { alertname: Burst }
params:
  c: { from: labels.constructor, pattern: '.*' }
  s: { from: annotations.toString, pattern: '.*', default: none }
steps:
  - notify: { text: '{{ params.c }} {{ params.s }} [{{ labels.hasOwnProperty }}]' }
`);
    assert.equal(refusal(prepare(alert({}), proto)), 'param c: the alert has no label constructor and the param has no default');
    const ok = prepare(alert({ constructor: 'x' }), proto);
    assert.deepEqual(values(ok), { c: 'x', s: 'none' });
    const [notify] = renderPlan(proto, alert({ constructor: 'x' }), values(ok), { runId: 'r1', dryRun: true });
    assert.deepEqual(notify?.rendered, { kind: 'notify', text: 'x none []', channel: null });
  });
});

describe('prepare: patterns are fully anchored', () => {
  // [pattern, value, accepted]
  const cases: ReadonlyArray<readonly [string, string, boolean]> = [
    ['[a-z]+', 'abc', true],
    ['[a-z]+', 'abc; rm -rf /', false],
    ['[a-z]+', 'x abc', false],
    ['[a-z]+', 'abc\n', false],
    ['prod|staging', 'prod', true],
    ['prod|staging', 'staging', true],
    ['prod|staging', 'prodx', false],
    ['prod|staging', 'xstaging', false],
    ['^[a-z]+$', 'abc', true], // authors may anchor themselves
    ['^[a-z]+$', 'abc\n', false], // JS "$" does not match before a final newline
    ['[a-z]', 'ab', false],
  ];
  for (const [pattern, value, accepted] of cases) {
    test(`${pattern} ${accepted ? 'accepts' : 'refuses'} ${JSON.stringify(value)}`, () => {
      const pb = playbook(
        `name: t\nmatch: { alertname: Burst }\nparams:\n  v: { from: labels.v, pattern: '${pattern}' }\nsteps:\n  - run: [echo, '{{ params.v }}']\n`,
      );
      const p = prepare(alert({ v: value }), pb);
      if (accepted) assert.deepEqual(values(p), { v: value });
      else assert.equal(refusal(p), `param v: label v is ${JSON.stringify(value)}, which does not match ^(?:${pattern})$`);
    });
  }

  test('a long value is shown cut at 120 characters', () => {
    const pb = playbook(
      "name: t\nmatch: { alertname: Burst }\nparams:\n  v: { from: labels.v, pattern: '[a-z]+' }\nsteps:\n  - run: [echo, '{{ params.v }}']\n",
    );
    const long = `${'a'.repeat(200)};`;
    assert.equal(refusal(prepare(alert({ v: long }), pb)), `param v: label v is "${'a'.repeat(120)}…", which does not match ^(?:[a-z]+)$`);
  });
});

describe('prepare: integer params', () => {
  const pb = playbook(`name: t
match: { alertname: Burst }
params:
  strict: { from: labels.strict, type: integer, min: 1, max: 10, default: 5 }
  clamped: { from: annotations.clamped, type: integer, min: 2, max: 20, clamp: true, default: 4 }
  even: { from: labels.even, type: integer, pattern: '[0-9]*[02468]', default: 2 }
steps:
  - run: [echo, '{{ params.strict }}', '{{ params.clamped }}', '{{ params.even }}']
`);

  // [strict label, clamped annotation, even label, expected values or refusal]
  const cases: ReadonlyArray<readonly [string, Record<string, string>, Record<string, string>, Record<string, string> | string]> = [
    ['defaults', {}, {}, { strict: '5', clamped: '4', even: '2' }],
    ['plain values', { strict: '7', even: '10' }, { clamped: '12' }, { strict: '7', clamped: '12', even: '10' }],
    ['leading zeros are normalised', { strict: '007' }, { clamped: '0003' }, { strict: '7', clamped: '3', even: '2' }],
    ['at the bounds', { strict: '1' }, { clamped: '20' }, { strict: '1', clamped: '20', even: '2' }],
    ['clamped up to min', {}, { clamped: '-3' }, { strict: '5', clamped: '2', even: '2' }],
    ['clamped down to max', {}, { clamped: '500' }, { strict: '5', clamped: '20', even: '2' }],
    ['below min without clamp', { strict: '0' }, {}, 'param strict: label strict is 0, below the minimum 1'],
    ['above max without clamp', { strict: '11' }, {}, 'param strict: label strict is 11, above the maximum 10'],
    ['negative below min', { strict: '-1' }, {}, 'param strict: label strict is -1, below the minimum 1'],
    ['pattern checked after parsing', { even: '7' }, {}, 'param even: label even is 7, which does not match ^(?:[0-9]*[02468])$'],
    ['pattern sees the normalised number', { even: '08' }, {}, { strict: '5', clamped: '4', even: '8' }],
    ['a word', { strict: 'five' }, {}, 'param strict: label strict is "five", not an integer'],
    ['a decimal', { strict: '5.0' }, {}, 'param strict: label strict is "5.0", not an integer'],
    ['an exponent', { strict: '1e1' }, {}, 'param strict: label strict is "1e1", not an integer'],
    ['a plus sign', { strict: '+5' }, {}, 'param strict: label strict is "+5", not an integer'],
    ['a space', { strict: ' 5' }, {}, 'param strict: label strict is " 5", not an integer'],
    ['hex', { strict: '0x5' }, {}, 'param strict: label strict is "0x5", not an integer'],
    ['too many digits', { strict: '1234567890123456' }, {}, 'param strict: label strict is "1234567890123456", not an integer'],
    ['a huge number is refused, not clamped', {}, { clamped: '9'.repeat(16) }, `param clamped: annotation clamped is "${'9'.repeat(16)}", not an integer`],
    ['an injection', { strict: '5; rm -rf /' }, {}, 'param strict: label strict is "5; rm -rf /", not an integer'],
  ];
  for (const [title, labels, annotations, expected] of cases) {
    test(title, () => {
      const p = prepare(alert(labels, annotations), pb);
      if (typeof expected === 'string') assert.equal(refusal(p), expected);
      else assert.deepEqual(values(p), expected);
    });
  }
});

describe('prepare: keys', () => {
  const keyed = (key: string) =>
    playbook(`name: t
match: { alertname: Burst }
params:
  namespace: { from: labels.namespace, pattern: '[a-z]+' }
  deployment: { from: labels.deployment, pattern: '[a-z]+' }
guards:
  key: '${key}'
steps:
  - run: [echo, '{{ params.namespace }}']
`);

  test('the instance key is fingerprint@startsAt', () => {
    assert.equal(instanceKeyOf(alert({})), INSTANCE);
  });

  // [guards.key, labels, target key]
  const cases: ReadonlyArray<readonly [string, Record<string, string>, string]> = [
    ['{{ params.namespace }}/{{ params.deployment }}', { namespace: 'shop', deployment: 'api' }, 'shop/api'],
    ['{{ labels.team }}:{{ params.deployment }}', { namespace: 'shop', deployment: 'api', team: 'pay' }, 'pay:api'],
    ['{{ labels.team }}:{{ params.deployment }}', { namespace: 'shop', deployment: 'api' }, ':api'], // a missing label renders empty
    ['{{ alert.name }}/{{ alert.fingerprint }}/{{ alert.status }}', { namespace: 'shop', deployment: 'api' }, 'Burst/fp1/firing'],
    ['{{ annotations.owner }}', { namespace: 'shop', deployment: 'api' }, ''],
    ['fixed', { namespace: 'shop', deployment: 'api' }, 'fixed'],
  ];
  for (const [key, labels, target] of cases) {
    test(`${key} → ${JSON.stringify(target)}`, () => {
      const p = prepare(alert(labels), keyed(key));
      assert.deepEqual(p, { instanceKey: INSTANCE, targetKey: target, lockKey: null, params: { ok: true, values: { namespace: 'shop', deployment: 'api' } } });
    });
  }

  test('without guards.key the target key is the instance key', () => {
    const pb = playbook("name: t\nmatch: { alertname: Burst }\nparams:\n  n: { from: labels.n, pattern: '[a-z]+' }\nsteps:\n  - run: [echo]\n");
    assert.deepEqual(prepare(alert({ n: 'a' }), pb), { instanceKey: INSTANCE, targetKey: INSTANCE, lockKey: null, params: { ok: true, values: { n: 'a' } } });
  });

  test('refused params leave the target key at the instance key', () => {
    const p = prepare(alert({ namespace: 'Shop', deployment: 'api' }), keyed('{{ params.namespace }}/{{ params.deployment }}'));
    assert.equal(p.instanceKey, INSTANCE);
    assert.equal(p.targetKey, INSTANCE);
    assert.equal(refusal(p), 'param namespace: label namespace is "Shop", which does not match ^(?:[a-z]+)$');
  });
});

describe('prepare: lock key', () => {
  const locked = (lock: string) =>
    playbook(`name: t
match: { alertname: Burst }
params:
  namespace: { from: labels.namespace, pattern: '[a-z]+' }
  deployment: { from: labels.deployment, pattern: '[a-z]+' }
guards:
  key: '{{ params.deployment }}'
  lock: '${lock}'
steps:
  - run: [echo, '{{ params.namespace }}']
`);

  test('guards.lock renders like guards.key, from params and labels', () => {
    const p = prepare(
      alert({ namespace: 'shop', deployment: 'api', cluster: 'eu1' }),
      locked('{{ labels.cluster }}/{{ params.namespace }}/{{ params.deployment }}'),
    );
    assert.equal(p.lockKey, 'eu1/shop/api');
    assert.equal(p.targetKey, 'api');
  });

  test('without guards.lock there is no lock key', () => {
    const pb = playbook('name: t\nmatch: { alertname: Burst }\nguards: { key: fixed }\nsteps:\n  - run: [echo]\n');
    assert.equal(prepare(alert({ namespace: 'shop', deployment: 'api' }), pb).lockKey, null);
  });

  test('refused params take no lock', () => {
    const p = prepare(alert({ namespace: 'Shop', deployment: 'api' }), locked('{{ params.namespace }}/{{ params.deployment }}'));
    assert.equal(p.lockKey, null);
    assert.ok(!p.params.ok);
  });
});

describe('alertResolver', () => {
  const a = alert({ team: 'pay' }, { summary: 'sum' }, { status: 'resolved' });
  const resolve = alertResolver(a, { x: 'X' });
  // [path, value]
  const cases: ReadonlyArray<readonly [readonly string[], string | undefined]> = [
    [['params', 'x'], 'X'],
    [['params', 'nope'], undefined],
    [['labels', 'team'], 'pay'],
    [['labels', 'nope'], ''],
    [['labels', 'toString'], ''],
    [['annotations', 'summary'], 'sum'],
    [['annotations', 'nope'], ''],
    [['alert', 'fingerprint'], 'fp1'],
    [['alert', 'startsAt'], '2024-05-01T10:00:00.123456789Z'],
    [['alert', 'status'], 'resolved'],
    [['alert', 'generatorURL'], 'http://prom/graph'],
    [['alert', 'name'], 'Burst'],
    [['alert', 'nope'], undefined],
    [['run', 'id'], undefined],
    [['params'], undefined],
    [['labels', 'team', 'x'], undefined],
  ];
  for (const [path, value] of cases) {
    test(`${path.join('.')} → ${JSON.stringify(value)}`, () => assert.equal(resolve(path), value));
  }
});

describe('label values never become more than one argument', () => {
  const yaml = (pattern: string) => `name: t
match: { alertname: Burst }
params:
  v: { from: labels.v, pattern: '${pattern}' }
mode: live
steps:
  - name: act
    run: [tool, '{{ params.v }}', '--name={{ params.v }}', -n, '{{ params.v }}']
    dryRun: [tool, '{{ params.v }}', --dry-run]
    env: { TARGET: '{{ params.v }}' }
    cwd: '/srv/{{ params.v }}'
  - http: { method: POST, url: 'https://api/x/{{ params.v }}', body: { target: '{{ params.v }}' } }
  - notify: { text: 'acting on {{ params.v }}' }
`;
  const permissive = playbook(yaml('.*'));
  const anything = playbook(yaml('[\\s\\S]*'));
  // A DNS-1123 label, as Kubernetes names are: cannot start with "-".
  const strict = playbook(yaml('[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?'));
  const examples = playbook(yaml('[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?')); // the DNS-1123 label pattern the example playbooks use

  function plan(pb: Playbook, value: string): RunStep[] {
    const a = alert({ v: value });
    return renderPlan(pb, a, values(prepare(a, pb)), { runId: 'r1', dryRun: false });
  }

  function assertOneArgument(steps: readonly RunStep[], value: string): void {
    const [act, http, notify] = steps;
    assert.deepEqual(act?.rendered, {
      kind: 'run',
      argv: ['tool', value, `--name=${value}`, '-n', value],
      dryRunArgv: ['tool', value, '--dry-run'],
      env: { TARGET: value },
      cwd: `/srv/${value}`,
    });
    assert.deepEqual(http?.rendered, {
      kind: 'http',
      method: 'POST',
      url: `https://api/x/${encodeURIComponent(value)}`, // one path segment, whatever the value holds
      headers: {},
      body: { target: value },
      expectStatus: [200, 201, 202, 204],
    });
    assert.deepEqual(notify?.rendered, { kind: 'notify', text: `acting on ${value}`, channel: null });
    assert.ok(
      steps.every((s) => !s.deferred),
      'nothing in the value may look like a deferred reference',
    );
    if (act?.rendered.kind === 'run') {
      assert.equal(Buffer.compare(Buffer.from(act.rendered.argv[1] ?? ''), Buffer.from(value)), 0, 'byte-identical');
    }
  }

  // [title, value, accepted by '.*', accepted by the example pattern]
  const cases: ReadonlyArray<readonly [string, string, boolean, boolean]> = [
    ['a command separator', 'x; rm -rf /', true, false],
    ['command substitution', '$(id)', true, false],
    ['backticks', '`id`', true, false],
    ['a template', '{{ params.y }}', true, false],
    ['a deferred-looking template', '{{ steps.act.stdout }}', true, false],
    ['a secret-looking template', '{{ secrets.TOKEN }}', true, false],
    ['a path traversal', '../..', true, false],
    ['a flag', '--help', true, false], // a value starting with "-" would reach the program as an option
    ['a short flag', '-A', true, false],
    ['quotes and spaces', `it's "quoted" here`, true, false],
    ['a pipe and redirect', 'a | tee /etc/passwd > /dev/null', true, false],
    ['unicode', 'é 日本 😀', true, false],
    ['a glob', '*', true, false],
    ['a tab', 'a\tb', true, false],
  ];
  for (const [title, value, acceptedByDotStar, acceptedByExamples] of cases) {
    test(`${title}: ${JSON.stringify(value)}`, () => {
      assert.equal(acceptedByDotStar, true);
      assertOneArgument(plan(permissive, value), value);
      assertOneArgument(plan(anything, value), value);
      assert.match(refusal(prepare(alert({ v: value }), strict)), /^param v: label v is .*, which does not match \^\(\?:\[a-z0-9\]/);
      if (acceptedByExamples) assertOneArgument(plan(examples, value), value);
      else assert.match(refusal(prepare(alert({ v: value }), examples)), /^param v: label v is /);
    });
  }

  // "." in a JavaScript regex stops at line terminators, so '.*' refuses them; '[\s\S]*' does not.
  for (const [title, value] of [
    ['a newline', 'a\nb'],
    ['a carriage return', 'a\rb'],
    ['U+2028', 'a\u2028b'],
    ['a trailing newline', 'ok\n'],
  ] as const) {
    test(`${title}: refused by '.*', one argument with '[\\s\\S]*'`, () => {
      assert.equal(refusal(prepare(alert({ v: value }), permissive)), `param v: label v is ${JSON.stringify(value)}, which does not match ^(?:.*)$`);
      assertOneArgument(plan(anything, value), value);
      assert.match(refusal(prepare(alert({ v: value }), strict)), /^param v: label v is /);
    });
  }

  test("Go's '(?s).*' is not a JavaScript pattern: the playbook does not load", () => {
    const { errors } = parsePlaybook(yaml('(?s).*'), 'test.yaml');
    assert.deepEqual(
      errors.map((e) => e.path),
      ['params.v.pattern'],
    );
    assert.match(errors[0]?.message ?? '', /^invalid regular expression: .*Invalid group/);
  });
});
