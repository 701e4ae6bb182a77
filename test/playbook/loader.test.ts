// Unit test: starts nothing (see scripts/test.mjs).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatLoadError, formatPath, loadPlaybookSources, loadPlaybooks, parsePlaybook, type LoadError } from '../../src/playbook/loader.js';

const FILE = 'test.yaml';

/** What one load error must say; line null means "no position". */
interface Expected {
  readonly path: string;
  readonly line: number | null;
  readonly column?: number;
  readonly message: RegExp;
}

function assertErrors(actual: readonly LoadError[], expected: readonly Expected[]): void {
  const shown = actual.map(formatLoadError).join('\n');
  assert.equal(actual.length, expected.length, `expected ${expected.length} error(s), got:\n${shown}`);
  expected.forEach((want, i) => {
    const got = actual[i];
    assert.ok(got, `error ${i} missing`);
    assert.equal(got.file, FILE);
    assert.equal(got.path, want.path, shown);
    assert.equal(got.line, want.line, `line of ${want.path}: ${shown}`);
    if (want.column !== undefined) assert.equal(got.column, want.column, `column of ${want.path}: ${shown}`);
    assert.match(got.message, want.message);
  });
}

function errorsOf(yaml: string): LoadError[] {
  const result = parsePlaybook(yaml, FILE);
  if (result.errors.length > 0) assert.equal(result.playbook, null, 'a playbook with errors must not be returned');
  return result.errors;
}

/** A valid playbook with one string param, to hang cross-reference cases on. */
const withParam = (steps: string, extra = ''): string => `name: t
match:
  alertname: A
params:
  ns: { from: labels.namespace, pattern: '[a-z]+' }
${extra}steps:
${steps}`;

describe('parsePlaybook: a valid playbook', () => {
  const yaml = `name: rollback
description: Roll back.
owner: team
match:
  alertname: Burst
  matchers: ['severity=~"critical|page"']
params:
  namespace: { from: labels.namespace, pattern: '[a-z0-9-]{1,63}' }
  replicas: { from: annotations.replicas, type: integer, min: 1, max: 10, clamp: true, default: 3 }
guards:
  key: '{{ params.namespace }}'
  cooldown: 30m
  maxRuns: { count: 3, per: 1h }
steps:
  - name: history
    run: [kubectl, rollout, history, -n, '{{ params.namespace }}']
    readOnly: true
    timeout: 30s
  - run: [kubectl, scale, '--replicas={{ params.replicas }}']
    dryRun: [kubectl, scale, '--replicas={{ params.replicas }}', --dry-run=server]
    retry: { attempts: 3, backoff: 2s }
    when: steps.history.succeeded
  - notify: { text: '{{ labels.namespace }} {{ steps.history.stdout }} {{ run.id }}' }
onFailure:
  - notify: { text: 'failed {{ alert.name }}' }
`;

  test('loads with every default and duration filled in', () => {
    const { playbook, errors } = parsePlaybook(yaml, FILE, 'h1');
    assert.deepEqual(errors, []);
    assert.ok(playbook);
    assert.equal(playbook.name, 'rollback');
    assert.equal(playbook.file, FILE);
    assert.equal(playbook.hash, 'h1');
    assert.equal(playbook.mode, 'approve');
    assert.deepEqual(playbook.approval, { timeoutMs: 900_000, approvers: [] });
    assert.deepEqual(playbook.match.alertnames, ['Burst']);
    assert.equal(playbook.match.status, 'firing');
    assert.deepEqual(playbook.match.matchers.map(String), ['severity=~"critical|page"']);
    assert.deepEqual(playbook.guards, {
      key: '{{ params.namespace }}',
      cooldownMs: 1_800_000,
      maxRuns: { count: 3, perMs: 3_600_000 },
      lock: null,
      group: null,
    });
    assert.equal(playbook.escalate, null);
    assert.deepEqual(
      playbook.params.map((p) => ({ ...p, pattern: p.pattern?.source ?? null })),
      [
        {
          name: 'namespace',
          source: 'labels',
          key: 'namespace',
          type: 'string',
          pattern: '^(?:[a-z0-9-]{1,63})$',
          min: null,
          max: null,
          clamp: false,
          default: null,
        },
        { name: 'replicas', source: 'annotations', key: 'replicas', type: 'integer', pattern: null, min: 1, max: 10, clamp: true, default: '3' },
      ],
    );
    // Unnamed steps get "<kind>-<position>"; onFailure steps are prefixed.
    assert.deepEqual(
      [...playbook.steps, ...playbook.onFailure].map((s) => s.name),
      ['history', 'run-2', 'notify-3', 'onFailure-notify-1'],
    );
    const [history, scale] = playbook.steps;
    assert.deepEqual(history, {
      name: 'history',
      kind: 'run',
      argv: ['kubectl', 'rollout', 'history', '-n', '{{ params.namespace }}'],
      dryRunArgv: null,
      env: {},
      cwd: null,
      readOnly: true,
      timeoutMs: 30_000,
      retry: null,
      when: null,
      continueOnError: false,
    });
    assert.ok(scale?.kind === 'run');
    assert.deepEqual(scale.retry, { attempts: 3, backoffMs: 2000, maxBackoffMs: 60_000 });
    assert.equal(scale.when, 'steps.history.succeeded');
    assert.deepEqual(scale.dryRunArgv, ['kubectl', 'scale', '--replicas={{ params.replicas }}', '--dry-run=server']);
  });

  test('the hash defaults to the sha256 of the text', () => {
    const { playbook } = parsePlaybook(yaml, FILE);
    assert.match(playbook?.hash ?? '', /^[0-9a-f]{64}$/);
    assert.equal(playbook?.hash, parsePlaybook(yaml, 'other.yaml').playbook?.hash);
  });

  test('a leading "---" and a trailing "..." are one document', () => {
    const minimal = 'name: t\nmatch: { alertname: A }\nsteps:\n  - run: [echo]\n';
    assert.deepEqual(parsePlaybook(`---\n${minimal}`, FILE).errors, []);
    assert.deepEqual(parsePlaybook(`${minimal}...\n`, FILE).errors, []);
  });
});

describe('parsePlaybook: schema errors name the YAML path and the line', () => {
  // [title, yaml, expected errors]
  const cases: ReadonlyArray<readonly [string, string, readonly Expected[]]> = [
    [
      'unknown key under guards',
      'name: t\nmatch:\n  alertname: A\nguards:\n  cooldown: 5m\n  cooldwon: 5m\nsteps:\n  - run: [echo]\n',
      [{ path: 'guards.cooldwon', line: 6, column: 3, message: /^unknown key "cooldwon": did you mean cooldown\?$/ }],
    ],
    [
      'a near-miss key of a step: another case',
      'name: t\nmatch: { alertname: A }\nsteps:\n  - run: [kubectl, get, pods]\n    readonly: true\n',
      [{ path: 'steps[0].readonly', line: 5, column: 5, message: /^unknown key "readonly": did you mean readOnly\?$/ }],
    ],
    [
      'an unknown key nothing is close to',
      'name: t\nmatch: { alertname: A }\nsteps:\n  - run: [echo]\n    sudo: true\n',
      [{ path: 'steps[0].sudo', line: 5, column: 5, message: /^unknown key "sudo": check its spelling against the playbook format$/ }],
    ],
    [
      'unknown key inside a flow map of a step',
      'name: t\nmatch: { alertname: A }\nsteps:\n  - { run: [echo], cooldwon: 1 }\n',
      [{ path: 'steps[0].cooldwon', line: 4, column: 20, message: /unknown key "cooldwon"/ }],
    ],
    [
      'unknown top-level key',
      'name: t\nmatch: { alertname: A }\nsteps:\n  - run: [echo]\nstpes: []\n',
      [{ path: 'stpes', line: 5, column: 1, message: /^unknown key "stpes": did you mean steps\?$/ }],
    ],
    [
      'a duration in words',
      'name: t\nmatch:\n  alertname: A\nguards:\n  cooldown: 30 minutes\nsteps:\n  - run: [echo]\n',
      [{ path: 'guards.cooldown', line: 5, column: 13, message: /must be a duration such as 500ms, 30s, 5m or 1h30m/ }],
    ],
    [
      'a bad duration in a step',
      'name: t\nmatch: { alertname: A }\nsteps:\n  - run: [echo]\n    timeout: 1.5s\n',
      [{ path: 'steps[0].timeout', line: 5, column: 14, message: /must be a duration/ }],
    ],
    ['missing steps', 'name: t\nmatch:\n  alertname: A\n', [{ path: 'steps', line: 1, column: 1, message: /^missing: add steps$/ }]],
    ['empty steps', 'name: t\nmatch: { alertname: A }\nsteps: []\n', [{ path: 'steps', line: 3, column: 8, message: /a playbook needs at least one step/ }]],
    ['missing name', 'match: { alertname: A }\nsteps:\n  - run: [echo]\n', [{ path: 'name', line: 1, message: /^missing: add name$/ }]],
    [
      'a step with two kinds',
      'name: t\nmatch:\n  alertname: A\nsteps:\n  - name: a\n    run: [echo]\n    wait: 5s\n',
      [{ path: 'steps[0]', line: 5, column: 5, message: /a step has exactly one kind, but this one has run and wait: split it into 2 steps/ }],
    ],
    [
      'a step with no kind',
      'name: t\nmatch: { alertname: A }\nsteps:\n  - name: a\n    readOnly: true\n',
      [{ path: 'steps[0]', line: 4, message: /a step needs one of run, http, verify, wait, notify, approval/ }],
    ],
    [
      'dryRun on a step that is not run',
      'name: t\nmatch:\n  alertname: A\nsteps:\n  - name: a\n    wait: 5s\n    dryRun: [echo]\n',
      [{ path: 'steps[0].dryRun', line: 7, column: 13, message: /dryRun only applies to run steps/ }],
    ],
    [
      'env on an http step',
      'name: t\nmatch: { alertname: A }\nsteps:\n  - http: { url: "https://x" }\n    env: { A: b }\n',
      [{ path: 'steps[0].env', line: 5, message: /env only applies to run steps/ }],
    ],
    [
      'an empty argv',
      'name: t\nmatch: { alertname: A }\nsteps:\n  - run: []\n',
      [{ path: 'steps[0].run', line: 4, message: /needs at least the program to run/ }],
    ],
    [
      'match with neither alertname nor matchers',
      'name: t\nmatch: {}\nsteps:\n  - run: [echo]\n',
      [{ path: 'match', line: 2, column: 8, message: /match needs an alertname or at least one matcher/ }],
    ],
    [
      'a name with capitals',
      'name: Bad Name\nmatch: { alertname: A }\nsteps:\n  - run: [echo]\n',
      [{ path: 'name', line: 1, column: 7, message: /must be lower case/ }],
    ],
    [
      'an unknown mode',
      'name: t\nmatch: { alertname: A }\nmode: yolo\nsteps:\n  - run: [echo]\n',
      [{ path: 'mode', line: 3, column: 7, message: /live|approve|dry-run/ }],
    ],
    [
      'a param read from something other than labels or annotations',
      "name: t\nmatch: { alertname: A }\nparams:\n  ns: { from: alert.fingerprint, pattern: '.*' }\nsteps:\n  - run: [echo]\n",
      [{ path: 'params.ns.from', line: 4, message: /must be labels.NAME or annotations.NAME/ }],
    ],
    [
      'a verify with two checks',
      'name: t\nmatch: { alertname: A }\nsteps:\n  - verify: { prometheus: { query: up }, resolved: true }\n',
      [{ path: 'steps[0].verify', line: 4, column: 13, message: /verify needs exactly one of prometheus, http or resolved/ }],
    ],
    ['a list instead of a map', '- a\n- b\n', [{ path: '', line: 1, column: 1, message: /expected object, received array/ }]],
  ];
  for (const [title, yaml, expected] of cases) {
    test(title, () => assertErrors(errorsOf(yaml), expected));
  }
});

describe('parsePlaybook: cross-reference errors', () => {
  const cases: ReadonlyArray<readonly [string, string, readonly Expected[]]> = [
    [
      'an unknown param in a template',
      withParam("  - run: [echo, '{{ params.nope }}']\n"),
      [{ path: 'steps[0].run[1]', line: 7, column: 17, message: /^\{\{ params\.nope \}\} names an unknown param: declare it under params \(known: ns\)$/ }],
    ],
    [
      '{{ labels.x }} in a run argv',
      withParam("  - run: [echo, '{{ labels.x }}']\n"),
      [{ path: 'steps[0].run[1]', line: 7, column: 17, message: /cannot be used here: alert data reaches commands and requests only through params/ }],
    ],
    [
      '{{ annotations.x }} in a dryRun argv',
      withParam("  - run: [echo]\n    dryRun: [echo, '{{ annotations.x }}']\n"),
      [{ path: 'steps[0].dryRun[1]', line: 8, message: /alert data reaches commands and requests only through params/ }],
    ],
    [
      '{{ labels.x }} in env, cwd, an http body and a verify query',
      withParam(
        "  - run: [echo]\n    env: { X: '{{ labels.x }}' }\n    cwd: '/{{ labels.x }}'\n" +
          "  - http: { url: 'https://x', body: { a: ['{{ labels.x }}'] } }\n" +
          '  - verify: { prometheus: { query: \'up{x="{{ labels.x }}"}\' } }\n',
      ),
      [
        { path: 'steps[0].env.X', line: 8, message: /only through params/ },
        { path: 'steps[0].cwd', line: 9, message: /only through params/ },
        { path: 'steps[1].http.body.a[0]', line: 10, message: /only through params/ },
        { path: 'steps[2].verify.prometheus.query', line: 11, message: /only through params/ },
      ],
    ],
    [
      'steps.NAME of a later step',
      withParam("  - name: a\n    run: [echo, '{{ steps.b.stdout }}']\n  - name: b\n    run: [echo]\n"),
      [{ path: 'steps[0].run[1]', line: 8, column: 17, message: /\{\{ steps\.b\.stdout \}\} refers to step "b", which does not run before this one/ }],
    ],
    [
      'steps.NAME of the step itself',
      withParam("  - name: a\n    run: [echo, '{{ steps.a.stdout }}']\n"),
      [{ path: 'steps[0].run[1]', line: 8, message: /refers to step "a", which does not run before this one/ }],
    ],
    [
      'steps.NAME with an unknown field',
      withParam("  - name: a\n    run: [echo]\n  - run: [echo, '{{ steps.a.bogus }}']\n"),
      [{ path: 'steps[1].run[1]', line: 9, message: /write \{\{ steps\.NAME\.stdout \}\}/ }],
    ],
    [
      'when names an unknown step',
      withParam('  - name: a\n    run: [echo]\n    when: steps.zzz.succeeded\n'),
      [{ path: 'steps[0].when', line: 9, column: 11, message: /"steps\.zzz\.succeeded" refers to step "zzz", which does not come before this step/ }],
    ],
    ['when is not a condition', withParam('  - run: [echo]\n    when: maybe\n'), [{ path: 'steps[0].when', line: 8, message: /"maybe" is not a condition/ }]],
    [
      'an invalid param regex',
      "name: t\nmatch:\n  alertname: A\nparams:\n  ns: { from: labels.namespace, pattern: '[a-z' }\nsteps:\n  - run: [echo]\n",
      [{ path: 'params.ns.pattern', line: 5, column: 42, message: /^invalid regular expression: .*Unterminated character class/ }],
    ],
    [
      // Valid only once wrapped in ^(?:…)$, and then it would not be anchored at all.
      'a regex that escapes its anchors',
      "name: t\nmatch: { alertname: A }\nparams:\n  ns: { from: labels.namespace, pattern: '[a-z]+)|(.*' }\nsteps:\n  - run: [echo]\n",
      [{ path: 'params.ns.pattern', line: 4, message: /^invalid regular expression: .*Unmatched '\)'/ }],
    ],
    [
      // JavaScript has no inline flags: "(?s)" is a syntax error, not "dot matches newline".
      'a Go-style inline flag',
      "name: t\nmatch: { alertname: A }\nparams:\n  ns: { from: labels.namespace, pattern: '(?s).*' }\nsteps:\n  - run: [echo]\n",
      [{ path: 'params.ns.pattern', line: 4, message: /^invalid regular expression: .*Invalid group/ }],
    ],
    [
      'an invalid matcher',
      "name: t\nmatch:\n  matchers: ['severity=\"page\"', 'foo~bar']\nsteps:\n  - run: [echo]\n",
      [{ path: 'match.matchers[1]', line: 3, message: /matcher "foo~bar": has no operator/ }],
    ],
    [
      'two steps with the same name',
      'name: t\nmatch:\n  alertname: A\nsteps:\n  - name: a\n    run: [echo]\n  - name: a\n    run: [echo]\n',
      [{ path: 'steps[1].name', line: 7, column: 11, message: /step name "a" is used twice: give each step its own name/ }],
    ],
    [
      'an onFailure step named like a main step',
      'name: t\nmatch: { alertname: A }\nsteps:\n  - name: a\n    run: [echo]\nonFailure:\n  - name: a\n    notify: { text: x }\n',
      [{ path: 'onFailure[0].name', line: 7, message: /step name "a" is used twice/ }],
    ],
    [
      'a string param without a pattern',
      'name: t\nmatch:\n  alertname: A\nparams:\n  ns: { from: labels.namespace }\nsteps:\n  - run: [echo]\n',
      [{ path: 'params.ns', line: 5, column: 7, message: /param "ns" needs a pattern that its value must match/ }],
    ],
    [
      'a default that does not match the pattern',
      "name: t\nmatch:\n  alertname: A\nparams:\n  ns: { from: labels.namespace, pattern: '[a-z]+', default: 'A1' }\nsteps:\n  - run: [echo]\n",
      [{ path: 'params.ns.default', line: 5, column: 61, message: /^default "A1" does not match the pattern \[a-z\]\+$/ }],
    ],
    [
      'integer param problems',
      'name: t\nmatch: { alertname: A }\nparams:\n' +
        '  n: { from: labels.n, type: integer, min: 5, max: 1 }\n' +
        '  c: { from: labels.c, type: integer, clamp: true }\n' +
        "  s: { from: labels.s, pattern: '.*', min: 1 }\n" +
        "  d: { from: labels.d, type: integer, default: 'x' }\n" +
        'steps:\n  - run: [echo]\n',
      [
        { path: 'params.n.min', line: 4, message: /^min 5 is above max 1$/ },
        { path: 'params.c.clamp', line: 5, message: /clamp needs a min or a max/ },
        { path: 'params.s', line: 6, message: /min, max and clamp apply to integer params only: add type: integer/ },
        { path: 'params.d.default', line: 7, message: /default "x" is not an integer/ },
      ],
    ],
    [
      '{{ run.id }} in guards.key',
      "name: t\nmatch:\n  alertname: A\nguards:\n  key: '{{ run.id }}'\nsteps:\n  - run: [echo]\n",
      [{ path: 'guards.key', line: 5, column: 8, message: /\{\{ run\.id \}\} cannot be used in a guard key: a run id is new every time/ }],
    ],
    [
      'steps.* in guards.key and run.* in guards.lock',
      "name: t\nmatch: { alertname: A }\nguards:\n  key: '{{ steps.a.stdout }}'\n  lock: '{{ run.id }}'\nsteps:\n  - name: a\n    run: [echo]\n",
      [
        { path: 'guards.key', line: 4, message: /cannot be used in a guard key: the key is decided before any step runs/ },
        { path: 'guards.lock', line: 5, message: /cannot be used in a guard key/ },
      ],
    ],
    [
      'secrets in a message',
      "name: t\nmatch: { alertname: A }\nsteps:\n  - notify: { text: 'token {{ secrets.X }}' }\n",
      [{ path: 'steps[0].notify.text', line: 4, message: /secrets may only be used in commands and requests, never in messages or keys/ }],
    ],
    [
      'unknown roots and alert fields',
      "name: t\nmatch: { alertname: A }\nsteps:\n  - run: [echo, '{{ foo.bar }}', '{{ alert.nope }}', '{{ run.nope }}']\n",
      [
        { path: 'steps[0].run[1]', line: 4, message: /\{\{ foo\.bar \}\} is not a known name/ },
        { path: 'steps[0].run[2]', line: 4, message: /known alert fields are fingerprint, startsAt, status, generatorURL, name/ },
        { path: 'steps[0].run[3]', line: 4, message: /known run fields are id, playbook, mode/ },
      ],
    ],
    [
      'unchecked alert text in a command',
      "name: t\nmatch: { alertname: A }\nsteps:\n  - run: [echo, '{{ alert.name }}', '{{ alert.generatorURL }}', '{{ alert.fingerprint }}']\n",
      [
        { path: 'steps[0].run[1]', line: 4, message: /\{\{ alert\.name \}\} cannot be used here: it is unchecked alert text; declare a param/ },
        { path: 'steps[0].run[2]', line: 4, message: /\{\{ alert\.generatorURL \}\} cannot be used here/ },
      ],
    ],
    [
      'a template syntax error',
      "name: t\nmatch: { alertname: A }\nsteps:\n  - notify: { text: 'x {{ a | b }}' }\n",
      [{ path: 'steps[0].notify.text', line: 4, message: /expressions, filters and pipes are not supported/ }],
    ],
    [
      'verify every longer than within',
      'name: t\nmatch: { alertname: A }\nsteps:\n  - verify: { prometheus: { query: up }, within: 10s, every: 1m }\n',
      [{ path: 'steps[0].verify.every', line: 4, message: /every \(1m\) is longer than within \(10s\)/ }],
    ],
  ];
  for (const [title, yaml, expected] of cases) {
    test(title, () => assertErrors(errorsOf(yaml), expected));
  }

  test('labels, annotations and alert fields are allowed in messages and keys', () => {
    const yaml = withParam(
      "  - notify: { text: '{{ labels.x }} {{ annotations.summary }} {{ alert.name }} {{ run.id }}' }\n",
      "guards:\n  key: '{{ labels.namespace }}/{{ alert.fingerprint }}'\n",
    );
    assert.deepEqual(errorsOf(yaml), []);
  });

  test('secrets and earlier steps are allowed in commands', () => {
    const yaml = withParam("  - name: a\n    run: [echo]\n  - run: [echo, '{{ steps.a.stdout }}', '{{ secrets.TOKEN }}', '{{ steps.a.json.x }}']\n");
    assert.deepEqual(errorsOf(yaml), []);
  });
});

describe('parsePlaybook: YAML-level errors', () => {
  test('a syntax error is reported with its line', () => {
    assertErrors(errorsOf('name: t\nmatch:\n  alertname: A\n bad: x\nsteps:\n  - run: [echo]\n'), [
      { path: '', line: 4, column: 1, message: /^YAML: All mapping items must start at the same column/ },
    ]);
  });

  test('an unclosed flow sequence is reported where the parser notices it', () => {
    assertErrors(errorsOf('name: t\nmatch:\n  alertname: A\nsteps:\n  - run: [echo\n  - wait: 5s\n'), [
      { path: '', line: 6, column: 3, message: /^YAML: Flow sequence in block collection must be sufficiently indented and end with a \]/ },
    ]);
  });

  test('a duplicate key is a YAML error, not a silent override', () => {
    assertErrors(errorsOf('name: t\nname: u\nmatch: { alertname: A }\nsteps:\n  - run: [echo]\n'), [
      { path: '', line: 2, column: 1, message: /^YAML: Map keys must be unique/ },
    ]);
  });

  test('two documents in one file', () => {
    const one = 'name: t\nmatch:\n  alertname: A\nsteps:\n  - run: [echo]\n';
    assertErrors(errorsOf(`${one}---\n${one.replace('name: t', 'name: u')}`), [
      { path: '', line: 6, column: 1, message: /^one playbook per file: move the second document into a file of its own$/ },
    ]);
  });

  for (const [title, text] of [
    ['an empty file', ''],
    ['a file of comments', '# nothing here\n'],
  ] as const) {
    test(title, () => {
      assertErrors(errorsOf(text), [{ path: '', line: null, message: /^file is empty: a playbook needs name, match and steps$/ }]);
    });
  }
});

describe('parsePlaybook: every error at once', () => {
  test('three schema problems give three errors', () => {
    const yaml = `name: t
match:
  alertname: A
guards:
  cooldwon: 5m
steps:
  - name: a
    wait: 5 seconds
  - name: b
    run: [echo]
    wait: 5s
`;
    assertErrors(errorsOf(yaml), [
      { path: 'guards.cooldwon', line: 5, message: /unknown key "cooldwon"/ },
      { path: 'steps[0].wait', line: 8, message: /must be a duration/ },
      { path: 'steps[1]', line: 9, message: /exactly one kind, but this one has run and wait/ },
    ]);
  });

  test('schema and cross-reference problems together, in file order (a bad duration no longer hides the rest)', () => {
    const yaml = `name: t
match:
  alertname: A
params:
  ns: { from: labels.namespace, pattern: '[a-z+' }
steps:
  - run: [echo, '{{ params.nope }}']
    timeout: 5 minutes
`;
    assertErrors(errorsOf(yaml), [
      { path: 'params.ns.pattern', line: 5, message: /invalid regular expression/ },
      { path: 'steps[0].run[1]', line: 7, message: /\{\{ params\.nope \}\} names an unknown param/ },
      { path: 'steps[0].timeout', line: 8, message: /must be a duration/ },
    ]);
  });

  test('a step the schema refuses outright is left out of the cross-references, its neighbours are not', () => {
    const yaml = `name: t
match: { alertname: A }
steps:
  - name: first
    run: [echo, '{{ params.missing }}']
    wait: 5s
  - name: second
    run: [echo, '{{ steps.first.stdout }}', '{{ labels.x }}']
    when: steps.later.succeeded
`;
    assertErrors(errorsOf(yaml), [
      { path: 'steps[0]', line: 4, message: /exactly one kind/ },
      { path: 'steps[1].run[2]', line: 8, message: /only through params/ },
      { path: 'steps[1].when', line: 9, message: /refers to step "later", which does not come before this step/ },
    ]);
  });

  test('a string param without a pattern: the hint is the DNS-1123 label, or [\\s\\S]* to accept anything', () => {
    const errors = errorsOf("name: t\nmatch: { alertname: A }\nparams:\n  ns: { from: labels.namespace }\nsteps:\n  - run: [echo, '{{ params.ns }}']\n");
    assert.equal(errors.length, 1);
    const message = errors[0]?.message ?? '';
    // The old hint, '^[a-z0-9-]{1,63}$', accepted "-rf"; the one offered now refuses it.
    assert.ok(!message.includes('^[a-z0-9-]{1,63}$'), message);
    const offered = /pattern: '([^']+)'/.exec(message)?.[1] ?? '';
    assert.equal(offered, '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?');
    const anchored = new RegExp(`^(?:${offered})$`);
    assert.ok(anchored.test('checkout') && !anchored.test('-rf') && !anchored.test('checkout-'));
    assert.match(message, /or '\[\\s\\S\]\*' to accept anything, newlines included, knowingly/);
  });

  test('three cross-reference problems give three errors', () => {
    const yaml = `name: t
match:
  alertname: A
params:
  ns: { from: labels.namespace }
steps:
  - name: a
    run: [echo, '{{ labels.x }}']
  - name: a
    run: [echo]
`;
    assertErrors(errorsOf(yaml), [
      { path: 'params.ns', line: 5, message: /needs a pattern/ },
      { path: 'steps[0].run[1]', line: 8, message: /only through params/ },
      { path: 'steps[1].name', line: 9, message: /used twice/ },
    ]);
  });
});

describe('formatLoadError and formatPath', () => {
  test('formats with and without a position', () => {
    assert.equal(
      formatLoadError({ file: 'a.yaml', path: 'guards.cooldwon', line: 6, column: 3, message: 'unknown key' }),
      'a.yaml:6:3: guards.cooldwon: unknown key',
    );
    assert.equal(formatLoadError({ file: 'a.yaml', path: '', line: null, column: null, message: 'file is empty' }), 'a.yaml: file is empty');
  });

  test('paths use dots for keys and brackets for indexes', () => {
    assert.equal(formatPath(['steps', 1, 'run', 0]), 'steps[1].run[0]');
    assert.equal(formatPath([0, 'a']), '[0].a');
    assert.equal(formatPath([]), '');
  });
});

describe('loadPlaybooks', () => {
  const minimal = (name: string) => `name: ${name}\nmatch: { alertname: A }\nsteps:\n  - run: [echo]\n`;

  async function withDir(files: Readonly<Record<string, string>>, body: (dir: string) => Promise<void>): Promise<void> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'remediator-playbooks-'));
    try {
      for (const [name, text] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
        await writeFile(path.join(dir, name), text);
      }
      await body(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  test('reads *.yaml and *.yml recursively, in name order, and ignores other files', async () => {
    await withDir({ 'b.yaml': minimal('b'), 'sub/a.yml': minimal('a'), 'README.md': '# no', 'c.yaml.bak': 'junk: [' }, async (dir) => {
      const result = await loadPlaybooks(dir);
      assert.deepEqual(result.errors, []);
      assert.deepEqual(
        result.playbooks.map((p) => [p.name, p.file]),
        [
          ['b', 'b.yaml'],
          ['a', 'sub/a.yml'],
        ],
      );
      assert.deepEqual(
        result.files.map((f) => f.file),
        ['b.yaml', 'sub/a.yml'],
      );
      assert.equal(result.playbooks[0]?.hash, result.files[0]?.hash);
    });
  });

  test('a Kubernetes ConfigMap volume: the hidden ..<timestamp>/ copies and editor files are skipped', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'remediator-configmap-'));
    try {
      // What the kubelet writes: the files in a hidden, timestamped directory, linked as ..data,
      // and each name a link into ..data.
      await mkdir(path.join(dir, '..2026_11_29_03_12_00.123'));
      await writeFile(path.join(dir, '..2026_11_29_03_12_00.123', 'rollback.yaml'), minimal('rollback'));
      await symlink('..2026_11_29_03_12_00.123', path.join(dir, '..data'));
      await symlink(path.join('..data', 'rollback.yaml'), path.join(dir, 'rollback.yaml'));
      await writeFile(path.join(dir, '.#rollback.yaml'), 'junk: [');
      const result = await loadPlaybooks(dir);
      assert.deepEqual(result.errors, []);
      assert.deepEqual(
        result.playbooks.map((p) => [p.name, p.file]),
        [['rollback', 'rollback.yaml']],
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('two files with the same playbook name: an error naming both files', async () => {
    await withDir({ 'first.yaml': minimal('same'), 'second.yaml': minimal('same') }, async (dir) => {
      const result = await loadPlaybooks(dir);
      assert.equal(result.errors.length, 1);
      const [error] = result.errors;
      assert.equal(error?.file, 'second.yaml');
      assert.equal(error?.path, 'name');
      assert.match(error?.message ?? '', /^playbook name "same" is also used by first\.yaml: names must be unique$/);
      assert.deepEqual(
        result.playbooks.map((p) => p.file),
        ['first.yaml'],
      );
    });
  });

  test('errors of every file are reported together', async () => {
    await withDir({ 'a.yaml': minimal('a'), 'b.yaml': 'name: b\n', 'c.yaml': 'name: c\nmatch: { alertname: A }\nsteps: []\n' }, async (dir) => {
      const result = await loadPlaybooks(dir);
      assert.deepEqual(
        result.errors.map((e) => [e.file, e.path]),
        [
          ['b.yaml', 'match'],
          ['b.yaml', 'steps'],
          ['c.yaml', 'steps'],
        ],
      );
      assert.deepEqual(
        result.playbooks.map((p) => p.name),
        ['a'],
      );
    });
  });

  test('an empty directory loads nothing, without error', async () => {
    await withDir({}, async (dir) => {
      assert.deepEqual(await loadPlaybooks(dir), { playbooks: [], errors: [], files: [] });
    });
  });

  test('a missing directory gives one clear error', async () => {
    const dir = path.join(os.tmpdir(), `remediator-missing-${process.pid}-${Date.now()}`);
    const result = await loadPlaybooks(dir);
    assert.deepEqual(result.playbooks, []);
    assert.deepEqual(result.errors, [
      { file: dir, path: '', line: null, column: null, message: 'cannot read playbooks: directory does not exist; check the playbooks directory you gave' },
    ]);
  });

  test('playbook tests beside the playbooks (*.test.yaml) are not playbooks', async () => {
    await withDir({ 'a.yaml': minimal('a'), 'a.test.yaml': 'playbooks: .\ntests: []\n', 'b.test.yml': 'tests: []\n' }, async (dir) => {
      const result = await loadPlaybooks(dir);
      assert.deepEqual(result.errors, []);
      assert.deepEqual(
        result.files.map((f) => f.file),
        ['a.yaml'],
      );
    });
  });

  test('sources: a single file and a directory together, names unique across them', async () => {
    await withDir({ 'one.yaml': minimal('one'), 'dir/two.yaml': minimal('two'), 'dir/again.yaml': minimal('one') }, async (dir) => {
      const result = await loadPlaybookSources([
        { path: path.join(dir, 'one.yaml'), shown: 'one.yaml' },
        { path: path.join(dir, 'dir'), shown: 'dir' },
      ]);
      assert.deepEqual(
        result.playbooks.map((p) => [p.name, p.file]),
        [
          ['one', 'one.yaml'],
          ['two', 'dir/two.yaml'],
        ],
      );
      assert.deepEqual(result.errors.map(formatLoadError), ['dir/again.yaml: name: playbook name "one" is also used by one.yaml: names must be unique']);
      assert.equal(result.paths.get('dir/two.yaml'), path.join(dir, 'dir', 'two.yaml'));
    });
  });

  test('sources: a file that does not exist is one clear error', async () => {
    const result = await loadPlaybookSources([{ path: '/nonexistent/x.yaml', shown: 'x.yaml' }]);
    assert.deepEqual(result.errors.map(formatLoadError), ['x.yaml: cannot read playbooks: no such file or directory']);
  });

  test('every example playbook loads with zero errors', async () => {
    const dir = fileURLToPath(new URL('../../playbooks/', import.meta.url));
    const names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n) && !/\.test\.ya?ml$/.test(n));
    assert.ok(names.length >= 5, `examples in ${dir}`);
    const result = await loadPlaybooks(dir);
    assert.deepEqual(result.errors.map(formatLoadError), []);
    assert.equal(result.playbooks.length, names.length);
  });
});
