import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCli, spawnCli } from '../support/cli.js';
import { ROOT, TEST_PLAYBOOKS } from '../support/fixtures.js';

test('remediator validate: the example playbooks are valid (exit 0)', async () => {
  const r = await runCli(['validate', 'playbooks']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^5 playbook\(s\) in playbooks are valid$/m);
});

test('remediator validate: prints every error with file, line and path, and exits 1', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-validate-'));
  writeFileSync(
    path.join(dir, 'broken.yaml'),
    ['name: broken', 'match:', '  alertname: X', 'guards:', '  cooldwon: 5m', 'steps:', "  - run: [echo, '{{ labels.service }}']", ''].join('\n'),
  );
  writeFileSync(path.join(dir, 'also-broken.yml'), 'name: also-broken\nmatch: { alertname: Y }\nsteps:\n  - wait: 5 minutes\n');
  writeFileSync(path.join(dir, 'fine.yaml'), 'name: fine\nmatch: { alertname: Z }\nsteps:\n  - wait: 5m\n');
  // A real process: the exit code is the process's.
  const r = await spawnCli(['validate', dir]);
  rmSync(dir, { recursive: true, force: true });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^also-broken\.yml:4:11: steps\[0\]\.wait: must be a duration/m);
  assert.match(r.stdout, /^broken\.yaml:5:3: guards\.cooldwon: unknown key "cooldwon": did you mean cooldown\?$/m);
  // The cross-reference error of the same file comes in the same run, not after the schema is fixed.
  assert.match(r.stdout, /^broken\.yaml:7:17: steps\[0\]\.run\[1\]: \{\{ labels\.service \}\} cannot be used here/m);
  assert.match(r.stdout, /^3 error\(s\) in /m);
});

test('remediator validate: cross-reference errors, with their positions', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-validate-'));
  writeFileSync(path.join(dir, 'refs.yaml'), "name: refs\nmatch: { alertname: X }\nsteps:\n  - run: [echo, '{{ labels.service }}', '{{ params.nope }}']\n");
  const r = await runCli(['validate', dir]);
  rmSync(dir, { recursive: true, force: true });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /refs\.yaml:4:17: steps\[0\]\.run\[1\]: \{\{ labels\.service \}\} cannot be used here: alert data reaches commands/);
  assert.match(r.stdout, /refs\.yaml:4:41: steps\[0\]\.run\[2\]: \{\{ params\.nope \}\} names an unknown param/);
});

test('remediator validate: a missing directory is an error, not "0 valid"', async () => {
  const r = await runCli(['validate', '/nonexistent/playbooks']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^\/nonexistent\/playbooks: cannot read playbooks: no such file or directory$/m);
});

test('remediator validate: the test playbooks used by the integration tests are valid', async () => {
  const r = await runCli(['validate', TEST_PLAYBOOKS]);
  assert.equal(r.code, 0, r.stdout);
});

test('remediator validate: a relative directory is taken from the working directory given', async () => {
  const r = await runCli(['validate', path.join('fixtures', 'playbooks')], { cwd: path.join(ROOT, 'test') });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^\d+ playbook\(s\) in fixtures\/playbooks are valid$/m);
});

test('remediator validate: one file with three different errors reports all three, in file order', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-validate-'));
  const file = path.join(dir, 'three.yaml');
  // A bad regex and an unknown template name (cross-references) and a bad duration (schema): the
  // schema error used to be the only one reported until it was fixed.
  writeFileSync(
    file,
    [
      'name: three',
      'match: { alertname: X }',
      'params:',
      "  ns: { from: labels.namespace, pattern: '[a-z+' }",
      'steps:',
      "  - run: [echo, '{{ params.nope }}']",
      '    timeout: 5 minutes',
      '',
    ].join('\n'),
  );
  // A single file, not only a directory (it used to fail with ENOTDIR).
  const r = await runCli(['validate', file]);
  rmSync(dir, { recursive: true, force: true });
  assert.equal(r.code, 1, r.stdout);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 4, r.stdout);
  assert.match(lines[0] ?? '', /^.*three\.yaml:4:42: params\.ns\.pattern: invalid regular expression/);
  assert.match(lines[1] ?? '', /^.*three\.yaml:6:17: steps\[0\]\.run\[1\]: \{\{ params\.nope \}\} names an unknown param/);
  assert.match(lines[2] ?? '', /^.*three\.yaml:7:14: steps\[0\]\.timeout: must be a duration/);
  assert.match(lines[3] ?? '', /^3 error\(s\) in /);
});

test('remediator validate: files and directories together; a near-miss key says what it meant', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-validate-'));
  writeFileSync(path.join(dir, 'one.yaml'), 'name: one\nmatch: { alertname: X }\nsteps:\n  - run: [kubectl, get, pods]\n    readonly: true\n');
  const r = await runCli(['validate', path.join(dir, 'one.yaml'), path.join(ROOT, 'playbooks')]);
  rmSync(dir, { recursive: true, force: true });
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /one\.yaml:5:5: steps\[0\]\.readonly: unknown key "readonly": did you mean readOnly\?$/m);
  assert.match(r.stdout, /^1 error\(s\) in /m);
});
