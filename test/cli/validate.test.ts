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
  assert.match(r.stdout, /^broken\.yaml:5:3: guards\.cooldwon: unknown key "cooldwon"/m);
  assert.match(r.stdout, /^2 error\(s\) in /m);
});

test('remediator validate: cross-reference errors come after the schema passes', async () => {
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
  assert.match(r.stdout, /cannot read playbooks: directory does not exist/);
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
