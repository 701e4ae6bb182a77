import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../support/cli.js';
import { API_TOKEN, removeDir, startTestDaemon, type TestDaemon } from '../support/test-daemon.js';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('remediator pause | resume | status | circuit, against a running daemon', () => {
  let daemon: TestDaemon;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    daemon = await startTestDaemon();
    env = { REMEDIATOR_URL: daemon.url, REMEDIATOR_TOKEN: API_TOKEN };
  });
  after(async () => {
    await daemon.close();
    removeDir(daemon.dir);
  });

  test('pause, status, resume: recorded with the token identity, through the CLI channel', async () => {
    const paused = await runCli(['pause', '--for', '2h', '--reason', 'cluster upgrade'], { env });
    assert.equal(paused.code, 0, paused.stderr);
    assert.match(paused.stdout, /^paused by tester until \S+Z \(2h\): cluster upgrade\n/);
    const status = await runCli(['status'], { env });
    assert.equal(status.code, 0, status.stderr);
    assert.match(
      status.stdout,
      /^paused by tester until \S+: cluster upgrade\ncircuit: closed \(never opened\)\nbudget: 0 of 20 live run\(s\) per 1h spent\n$/,
    );

    const resumed = await runCli(['resume'], { env });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /^resumed: lifted the pause by tester \(until \S+: cluster upgrade\)\n$/);
    const again = await runCli(['resume'], { env });
    assert.equal(again.code, 0);
    assert.match(again.stdout, /^not paused: nothing to resume \(the last pause, by tester, was lifted at \S+ by tester\)\n$/);

    const events = (await daemon.store.listEvents({ limit: 1000 })).filter((e) => e.kind === 'paused' || e.kind === 'resumed');
    assert.deepEqual(
      events.map((e) => [e.kind, e.data['by'], e.data['via']]),
      [
        ['paused', 'tester', 'cli'],
        ['resumed', 'tester', 'cli'],
      ],
    );
  });

  test('circuit status and close', async () => {
    const quiet = await runCli(['circuit', 'status'], { env });
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stdout, 'circuit: closed (never opened)\nbudget: 0 of 20 live run(s) per 1h spent\n');
    await daemon.store.openCircuit({ at: '2024-05-01T12:00:00.000Z', reason: 'budget of 20 live run(s) per 1h spent', by: 'remediator' });

    const open = await runCli(['circuit', 'status', '--url', daemon.url], { env: { REMEDIATOR_TOKEN: API_TOKEN } });
    assert.equal(open.code, 0, open.stderr);
    assert.match(
      open.stdout,
      /^circuit: OPEN since 2024-05-01T12:00:00.000Z: budget of 20 live run\(s\) per 1h spent\nevery live run waits for approval until a person closes it: remediator circuit close/,
    );

    const closed = await runCli(['circuit', 'close', '--note', 'rollbacks checked'], { env });
    assert.equal(closed.code, 0, closed.stderr);
    assert.match(closed.stdout, /^circuit closed by tester \(it opened at 2024-05-01T12:00:00.000Z: budget of 20 live run\(s\) per 1h spent\)/);
    const twice = await runCli(['circuit', 'close'], { env });
    assert.equal(twice.code, 0);
    assert.equal(twice.stdout, 'the circuit is not open: nothing to close\n');
    const state = await daemon.store.globalState({ budgetSince: null });
    assert.deepEqual([state.circuit?.closedBy, state.circuit?.closeNote], ['tester', 'rollbacks checked']);
  });

  test('the token may come from a file (REMEDIATOR_TOKEN_FILE)', async () => {
    const file = path.join(daemon.dir, 'token');
    writeFileSync(file, `${API_TOKEN}\n`, { mode: 0o600 });
    const r = await runCli(['circuit', 'status'], { env: { REMEDIATOR_URL: daemon.url, REMEDIATOR_TOKEN_FILE: file } });
    assert.equal(r.code, 0, r.stderr);
  });

  test('errors say how to fix them; the exit code says what kind of error', async () => {
    const noToken = await runCli(['resume'], { env: { REMEDIATOR_URL: daemon.url } });
    assert.equal(noToken.code, 4, 'not allowed');
    assert.match(noToken.stderr, /no API token: set REMEDIATOR_TOKEN \(or REMEDIATOR_TOKEN_FILE\)/);

    const wrong = await runCli(['resume'], { env: { REMEDIATOR_URL: daemon.url, REMEDIATOR_TOKEN: 'not-the-token-at-all' } });
    assert.equal(wrong.code, 4, 'not allowed');
    assert.match(wrong.stderr, /refused the API token \(401\): set REMEDIATOR_TOKEN to a token listed in its REMEDIATOR_API_TOKENS/);

    const port = await closedPort();
    const down = await runCli(['circuit', 'status', '--url', `http://127.0.0.1:${port}`], { env: { REMEDIATOR_TOKEN: API_TOKEN } });
    assert.equal(down.code, 2, 'unreachable: try again');
    assert.match(
      down.stderr,
      new RegExp(`cannot reach the daemon at http://127.0.0.1:${port} \\(ECONNREFUSED\\): is it running\\? Point --url or REMEDIATOR_URL at it`),
    );

    const badFor = await runCli(['pause', '--for', 'a while', '--reason', 'x'], { env });
    assert.equal(badFor.code, 1);
    assert.match(badFor.stderr, /--for a while: give a duration such as 30m or 2h/);

    const tooLong = await runCli(['pause', '--for', '30d', '--reason', 'x'], { env });
    assert.equal(tooLong.code, 1);
    assert.match(tooLong.stderr, /POST \/api\/pause: 400: a pause lasts at most 7d;/);
    // The limit in the words --help uses (it said "at most 1w" for 8d).
    const eightDays = await runCli(['pause', '--for', '8d', '--reason', 'x'], { env });
    assert.equal(eightDays.code, 1);
    assert.match(eightDays.stderr, /a pause lasts at most 7d;/);
    assert.match((await runCli(['pause', '--help'])).stdout, /at most 7d/);

    const noReason = await runCli(['pause', '--for', '1h'], { env });
    assert.equal(noReason.code, 1);
    assert.match(noReason.stderr, /required option '--reason <text>' not specified/);
    assert.equal((await daemon.store.globalState({ budgetSince: null })).pause?.reason, 'cluster upgrade', 'no failed command changed the pause');
  });
});
