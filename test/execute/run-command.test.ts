import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { NO_REDACTION } from '../../src/execute/output-cap.js';
import { runCommand } from '../../src/execute/steps/run-command.js';
import { ROOT } from '../support/fixtures.js';

const SCRIPTS = path.join(ROOT, 'test', 'fixtures', 'scripts');
const node = process.execPath;
const env = { PATH: process.env['PATH'] ?? '' };
const ctx = (timeoutMs = 10_000, outputCapBytes = 64 * 1024, signal = new AbortController().signal) => ({
  signal,
  timeoutMs,
  outputCapBytes,
  redactor: NO_REDACTION,
});
const script = (name: string, ...args: string[]) => [node, path.join(SCRIPTS, name), ...args];

describe('run steps: real child processes, never a shell', () => {
  test('a successful command: exit 0, stdout captured', async () => {
    const r = await runCommand(script('print-args.mjs', 'a', 'b c'), { env, cwd: null, killGraceMs: 500 }, ctx());
    assert.equal(r.ok, true);
    assert.equal(r.exitCode, 0);
    assert.equal(r.vars.stdout, '["a","b c"]\n');
    assert.equal(r.error, null);
  });

  test('a non-zero exit fails the attempt with the code, keeping both streams', async () => {
    const r = await runCommand(script('exit-with.mjs', '3'), { env, cwd: null, killGraceMs: 500 }, ctx());
    assert.equal(r.ok, false);
    assert.equal(r.exitCode, 3);
    assert.equal(r.error, 'exited with code 3: to stderr', 'the last line of stderr says why');
    assert.equal(r.output, 'to stdout\n--- stderr ---\nto stderr\n');
  });

  test('arguments with shell metacharacters arrive literally, one argument each', async () => {
    const values = ['x; rm -rf /', '$(id)', '`id`', '&& echo pwned', '| cat /etc/passwd', '> /tmp/x', "it's", '"q"', '*', '~', '$HOME', 'a\nb', '--help', ''];
    const r = await runCommand(script('print-args.mjs', ...values), { env, cwd: null, killGraceMs: 500 }, ctx());
    assert.deepEqual(JSON.parse(r.vars.stdout ?? ''), values);
  });

  test('a command that ignores SIGTERM is killed with SIGKILL after the grace period', async () => {
    const started = Date.now();
    const r = await runCommand(script('ignore-term.mjs'), { env, cwd: null, killGraceMs: 300 }, ctx(500));
    const took = Date.now() - started;
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /timed out after 500 ms and was killed/);
    assert.match(r.output, /started\n(got SIGTERM, ignoring it\n)?/);
    assert.ok(took >= 800 && took < 5000, `took ${took} ms: timeout, then the grace period, then SIGKILL`);
  });

  test('cancelling a run kills its command', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('cancelled by test')), 300);
    const r = await runCommand(script('ignore-term.mjs'), { env, cwd: null, killGraceMs: 200 }, ctx(30_000, 65536, controller.signal));
    assert.equal(r.error, 'cancelled and killed');
  });

  test('10 MB of output is capped, marked, and keeps its last line', async () => {
    const before = process.memoryUsage().rss;
    const r = await runCommand(script('flood.mjs', '10'), { env, cwd: null, killGraceMs: 500 }, ctx(30_000, 16 * 1024));
    assert.equal(r.ok, true);
    assert.ok((r.vars.stdout ?? '').length < 20 * 1024, `kept ${r.vars.stdout?.length} characters`);
    assert.match(r.vars.stdout ?? '', /\[… \d+ bytes cut: output is capped at 16384 bytes …\]/);
    assert.match(r.vars.stdout ?? '', /THE END\n$/);
    const grown = (process.memoryUsage().rss - before) / 2 ** 20;
    assert.ok(grown < 64, `memory grew ${grown.toFixed(0)} MiB while reading 10 MB`);
  });

  test('a descendant that escaped the process group and holds the pipes does not hang the step', async () => {
    const started = Date.now();
    const r = await runCommand(['sh', '-c', 'setsid sleep 3 & echo started'], { env, cwd: null, killGraceMs: 200 }, ctx(10_000));
    assert.equal(r.ok, true);
    assert.equal(r.vars.stdout, 'started\n');
    assert.ok(Date.now() - started < 2500, `returned after ${Date.now() - started} ms, not when the escaped child ended`);
  });

  test('a timeout beyond what a timer can hold does not fire at once', async () => {
    const r = await runCommand(script('print-args.mjs', 'x'), { env, cwd: null, killGraceMs: 200 }, ctx(28 * 24 * 3600 * 1000));
    assert.equal(r.ok, true, r.error ?? '');
  });

  test('a program that does not exist fails with a message that says so', async () => {
    const r = await runCommand(['no-such-program-anywhere'], { env, cwd: null, killGraceMs: 500 }, ctx());
    assert.equal(r.ok, false);
    assert.equal(r.exitCode, null);
    assert.match(r.error ?? '', /no-such-program-anywhere: program not found on the PATH given to steps/);
  });

  test('the command sees only the environment it is given', async () => {
    const r = await runCommand(script('print-env.mjs'), { env: { ONLY: 'this', PATH: env.PATH }, cwd: null, killGraceMs: 500 }, ctx());
    const seen = JSON.parse(r.vars.stdout ?? '{}') as Record<string, string>;
    assert.equal(seen['ONLY'], 'this');
    assert.equal(seen['HOME'], undefined);
    assert.equal(seen['REMEDIATOR_API_TOKENS'], undefined);
  });

  test('the working directory is honoured', async () => {
    const r = await runCommand([node, '-e', 'process.stdout.write(process.cwd())'], { env, cwd: SCRIPTS, killGraceMs: 500 }, ctx());
    assert.equal(r.vars.stdout, SCRIPTS);
  });
});
