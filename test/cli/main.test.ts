import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runCli, spawnCli } from '../support/cli.js';
import { ROOT } from '../support/fixtures.js';

test('remediator --help, from a real process: every command listed, exit 0, and the same text as in process', async () => {
  const r = await spawnCli(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^Usage: remediator \[options\] \[command\]/);
  for (const command of [
    'serve',
    'validate',
    'simulate',
    'pause',
    'resume',
    'status',
    'runs',
    'show',
    'approve',
    'reject',
    'cancel',
    'reload',
    'circuit',
    'audit',
    'report',
  ]) {
    assert.match(r.stdout, new RegExp(`^ {2}${command} `, 'm'), command);
  }
  assert.deepEqual(await runCli(['--help']), r);
});

test('remediator without a command, or with an unknown one: the help on stderr, exit 1', async () => {
  const none = await runCli([]);
  assert.equal(none.code, 1);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /^Usage: remediator \[options\] \[command\]/);
  const unknown = await runCli(['bogus']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^error: unknown command 'bogus'\n/);
});

test('remediator --version prints the version of package.json, exit 0', async () => {
  const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const r = await runCli([flag]);
    assert.deepEqual(r, { code: 0, stdout: `${version}\n`, stderr: '' }, flag);
  }
});
