import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'yaml';
import { runCli, spawnCli } from '../support/cli.js';
import { ROOT } from '../support/fixtures.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const PLAYBOOK = `name: undo
match: { alertname: Burst }
params:
  deployment: { from: labels.deployment, pattern: '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?' }
mode: live
guards: { key: '{{ params.deployment }}', cooldown: 30m }
steps:
  - run: [kubectl, rollout, undo, 'deployment/{{ params.deployment }}']
`;

/** A directory with playbooks/undo.yaml and the test files given (name → text). */
function workspace(files: Readonly<Record<string, string>>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-test-command-'));
  dirs.push(dir);
  mkdirSync(path.join(dir, 'playbooks'));
  writeFileSync(path.join(dir, 'playbooks', 'undo.yaml'), PLAYBOOK);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

const passing = `playbooks: playbooks
execution: live
tests:
  - name: undo, then cooldown
    alerts:
      - { at: 0s, labels: { alertname: Burst, deployment: checkout } }
      - { at: 5m, labels: { alertname: Burst, deployment: checkout }, startsAt: 5m }
    expect:
      - { at: 0s, playbook: undo, decision: run, plan: [[kubectl, rollout, undo, deployment/checkout]] }
      - { at: 5m, playbook: undo, reason: cooldown }
`;

test('remediator test: all pass, exit 0, and --junit writes JUnit XML', async () => {
  const dir = workspace({ 'undo.test.yaml': passing });
  const r = await runCli(['test', 'undo.test.yaml', '--junit', 'results.xml'], { cwd: dir });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stdout, 'undo.test.yaml\n  ok    undo, then cooldown (line 4)\n1 test file(s), 1 test(s): 1 passed\n');
  const xml = readFileSync(path.join(dir, 'results.xml'), 'utf8');
  assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="remediator test" tests="1" failures="0" time="[\d.]+">/);
  assert.match(xml, /<testcase name="undo, then cooldown" classname="undo\.test\.yaml" time="[\d.]+"\/>/);
});

test('remediator test: a failing expectation is exit 1, readable, and a failure in the JUnit XML', async () => {
  const dir = workspace({ 'undo.test.yaml': passing.replace('reason: cooldown', 'decision: run') });
  const r = await runCli(['test', '.', '--junit', 'results.xml'], { cwd: dir });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^ {2}FAIL {2}undo, then cooldown \(line 4\)$/m);
  assert.match(
    r.stdout,
    /^ {8}at 5m: Burst\{deployment="checkout"\} [0-9a-f]{16} \(fingerprint derived from the labels, as Alertmanager does\), startsAt 2026-01-05T10:05:00Z$/m,
  );
  assert.match(r.stdout, /^ {10}undo:\n {12}expected run, got suppress \(cooldown\): key "checkout" ran at/m);
  assert.match(r.stdout, /^1 test file\(s\), 1 test\(s\): 0 passed, 1 failed$/m);
  const xml = readFileSync(path.join(dir, 'results.xml'), 'utf8');
  assert.match(xml, /<testsuite name="undo\.test\.yaml" tests="1" failures="1"/);
  assert.match(xml, /<failure message="undo: expected run, got suppress \(cooldown\): key &quot;checkout&quot; ran at/);
});

test('remediator test: --verbose shows every decision; --run picks tests by name', async () => {
  const two = `${passing}  - name: another\n    alerts: [{ at: 0s, labels: { alertname: Other } }]\n    expect: [{ at: 0s, playbook: undo, matched: false }]\n`;
  const dir = workspace({ 'undo.test.yaml': two });
  const r = await runCli(['test', 'undo.test.yaml', '--run', '^another$', '-v'], { cwd: dir });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /undo, then cooldown/);
  assert.match(r.stdout, /^ {2}ok {4}another \(line 11\)\n {8}at 0s: Other\{\} [0-9a-f]{16} \(fingerprint derived/m);
  assert.match(r.stdout, /^ {10}no playbook matches$/m);
  const none = await runCli(['test', 'undo.test.yaml', '--run', 'nothing'], { cwd: dir });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--run nothing: no test's name matches/);
});

const invalid: [string, string, RegExp][] = [
  ['a YAML error', 'playbooks: playbooks\ntests: [\n', /^bad\.test\.yaml:3:1: YAML: /m],
  [
    'an unknown key, with its near miss',
    passing.replace('expect:', 'expcet:'),
    /^bad\.test\.yaml:8:5: tests\[0\]\.expcet: unknown key "expcet": did you mean expect\?$/m,
  ],
  [
    'an unknown playbook name in an expectation',
    passing.replace('playbook: undo, reason', 'playbook: undo-it, reason'),
    /^bad\.test\.yaml:10:\d+: tests\[0\]\.expect\[1\]\.playbook: no playbook named "undo-it" in the playbooks under test \(there are undo\)$/m,
  ],
  [
    'an expectation at a time no alert arrives',
    passing.replace('at: 5m, playbook', 'at: 6m, playbook'),
    /tests\[0\]\.expect\[1\]\.at: no alert arrives at 6m in this test \(alerts arrive at 0s, 5m\)$/m,
  ],
  [
    'two alerts at one time and no alert: N',
    passing.replace('at: 5m, labels', 'at: 0s, labels').replace('at: 5m, playbook', 'at: 0s, playbook'),
    /tests\[0\]\.expect\[0\]\.at: 2 alerts arrive at 0s: say which one with alert: 1 to 2$/m,
  ],
  [
    'a reason that is no suppression',
    passing.replace('reason: cooldown', 'reason: busy'),
    /^bad\.test\.yaml:10:\d+: tests\[0\]\.expect\[1\]\.reason: Invalid option/m,
  ],
  [
    'a reason with a run decision',
    passing.replace('reason: cooldown', 'decision: run, reason: cooldown'),
    /expect\[1\]\.reason: reason is a suppression's: it goes with decision: suppress, not run$/m,
  ],
  [
    'a bad offset',
    passing.replace('at: 5m, labels', 'at: 5 minutes, labels'),
    /^bad\.test\.yaml:7:\d+: tests\[0\]\.alerts\[1\]\.at: must be an offset from the start/m,
  ],
  [
    'a bad inline configuration',
    passing.replace('execution: live', 'config: { guards: { budget: { count: 0 } } }'),
    /^bad\.test\.yaml:2:\d+: config\.guards\.budget\.count: /m,
  ],
  [
    'a configuration file that does not exist',
    passing.replace('execution: live', 'config: nope.yaml'),
    /^bad\.test\.yaml:2:9: config: cannot read config file .*nope\.yaml/m,
  ],
];
for (const [title, text, expected] of invalid) {
  test(`remediator test: an invalid test file is exit 2 with file:line:col, nothing run, nothing written: ${title}`, async () => {
    const dir = workspace({ 'bad.test.yaml': text, 'good.test.yaml': passing });
    const r = await runCli(['test', 'good.test.yaml', 'bad.test.yaml', '--junit', 'results.xml'], { cwd: dir });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, expected);
    assert.match(r.stderr, /error\(s\): fix the test file first; no test was run$/m);
    assert.equal(existsSync(path.join(dir, 'results.xml')), false);
  });
}

test('remediator test: playbooks that do not load make the test file invalid, with their own errors', async () => {
  const dir = workspace({ 'undo.test.yaml': passing });
  writeFileSync(path.join(dir, 'playbooks', 'broken.yaml'), 'name: broken\nmatch: { alertname: X }\nsteps: []\n');
  const r = await runCli(['test', 'undo.test.yaml'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^playbooks\/broken\.yaml:3:8: steps: a playbook needs at least one step$/m);
  assert.match(r.stderr, /^undo\.test\.yaml:1:12: playbooks: the playbooks in playbooks are not valid \(above\): fix them first \(remediator validate\)$/m);
});

test('remediator test and replay: a file that does not exist, or a usage error, is bad input (2), never "a test failed" (1)', async () => {
  const r = await runCli(['test', '/nonexistent/x.test.yaml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^\/nonexistent\/x\.test\.yaml: no such file or directory$/m);
  const usage = await runCli(['test']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /missing required argument 'files'/);
  const replay = await runCli(['replay', '--execution', 'sometimes']);
  assert.equal(replay.code, 2);
  assert.match(replay.stderr, /argument 'sometimes' is invalid/);
});

test('the example playbooks ship with tests that pass through the CLI (a real process) and cover every example', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-test-command-'));
  dirs.push(dir);
  const junit = path.join(dir, 'examples.xml');
  const r = await spawnCli(['test', 'playbooks', '--junit', junit], { cwd: ROOT, timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^5 test file\(s\), \d+ test\(s\): \d+ passed$/m);
  assert.match(readFileSync(junit, 'utf8'), /<testsuites name="remediator test" tests="\d+" failures="0"/);
  const files = readdirSync(path.join(ROOT, 'playbooks'));
  const examples = files.filter((f) => /\.ya?ml$/.test(f) && !f.includes('.test.'));
  const expected = new Set<string>();
  for (const f of files.filter((x) => x.endsWith('.test.yaml'))) {
    const spec = parse(readFileSync(path.join(ROOT, 'playbooks', f), 'utf8')) as { tests: { expect: { playbook: string }[] }[] };
    for (const t of spec.tests) for (const e of t.expect) expected.add(e.playbook);
  }
  const names = examples.map((f) => (parse(readFileSync(path.join(ROOT, 'playbooks', f), 'utf8')) as { name: string }).name);
  assert.deepEqual(
    names.filter((n) => !expected.has(n)),
    [],
    'every example playbook has expectations in a playbooks/*.test.yaml',
  );
});
