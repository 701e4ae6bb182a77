import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Run, RunDetail } from '../../src/domain/run.js';
import { runCli } from '../support/cli.js';
import { fixture } from '../support/fixtures.js';
import { API_TOKEN, removeDir, startTestDaemon, type TestDaemon } from '../support/test-daemon.js';

const NODE = process.execPath;

describe('remediator runs | show | approve | reject | cancel, against a running daemon', () => {
  let daemon: TestDaemon;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const ids: Record<string, string> = {};

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-cli-runs-'));
    mkdirSync(path.join(dir, 'playbooks'));
    writeFileSync(
      path.join(dir, 'playbooks', 'rollback.yaml'),
      `name: rollback
match: { alertname: Burst }
mode: approve
approval: { timeout: 10m }
params:
  deployment: { from: labels.deployment, pattern: '[a-z]+' }
guards: { key: '{{ params.deployment }}' }
steps:
  - name: look
    readOnly: true
    run: [${NODE}, -e, 'process.stdout.write("ok")']
  - name: undo
    run: [${NODE}, -e, 'process.stdout.write("undone")']
`,
    );
    daemon = await startTestDaemon({ dir, playbooks: path.join(dir, 'playbooks'), config: { execution: 'live' }, env: { PATH: process.env['PATH'] } });
    env = { REMEDIATOR_URL: daemon.url, REMEDIATOR_TOKEN: API_TOKEN };
    for (const [i, deployment] of ['checkout', 'cart', 'search'].entries()) {
      const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[] };
      Object.assign(p.alerts[0] as object, {
        labels: { alertname: 'Burst', deployment },
        fingerprint: `c1${i}0000000000000`,
        startsAt: '2026-11-29T03:12:00Z',
      });
      await daemon.post(p);
    }
    await daemon.settled();
    const { runs } = await daemon.api<{ runs: Run[] }>('/api/runs');
    for (const r of runs) ids[r.targetKey] = r.id;
  });
  after(async () => {
    await daemon.close();
    removeDir(dir);
  });

  test('runs --pending lists the held runs with their expiry, and says how to approve', async () => {
    const r = await runCli(['runs', '--pending'], { env });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0] ?? '', /^ID +STATE +MODE +PLAYBOOK +TARGET +CREATED$/);
    assert.equal(lines.filter((l) => /^r_\S+ +awaiting_approval until \S+Z +live +rollback +(checkout|cart|search) +\S+Z$/.test(l)).length, 3, r.stdout);
    assert.match(r.stdout, /approve with: remediator approve ID \[--comment "…"\]/);
    const json = await runCli(['runs', '--json', '--limit', '2'], { env });
    assert.equal(json.code, 0, json.stderr);
    assert.equal((JSON.parse(json.stdout) as Run[]).length, 2);
  });

  test('show prints the plan and the open request', async () => {
    const r = await runCli(['show', ids['checkout'] as string], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^run ${ids['checkout']}: awaiting_approval\\n`));
    // Every step with the command it runs (it printed "2. undo [run]: planned" and nothing more).
    assert.match(
      r.stdout,
      /steps:\n {2}1\. look \[run, read-only\]: succeeded\n {5}\$ \S+ -e 'process\.stdout\.write\("ok"\)'\n {7}ok\n {2}2\. undo \[run\]: planned\n {5}\$ \S+ -e 'process\.stdout\.write\("undone"\)'\n/,
      'with the commands, and what the look found',
    );
    assert.match(r.stdout, /approvals:\n {2}#1 before step undo, requested \S+: waiting until \S+ for anyone with a token/);
    assert.match(r.stdout, new RegExp(`approve with: remediator approve ${ids['checkout']}`));
  });

  test('approve runs it, recorded as the token identity through the CLI; a second approve exits 1 saying who approved', async () => {
    const id = ids['checkout'] as string;
    const r = await runCli(['approve', id, '--comment', 'graphs checked'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `run ${id} approved by tester: the run goes on; follow it with: remediator show ${id}\n`);
    await daemon.settled();
    const run = await daemon.api<RunDetail>(`/api/runs/${id}`);
    assert.equal(run.state, 'succeeded', run.reason);
    assert.deepEqual([run.approvals[0]?.decidedBy, run.approvals[0]?.decidedVia, run.approvals[0]?.comment], ['tester', 'cli', 'graphs checked']);

    const again = await runCli(['approve', id], { env });
    assert.equal(again.code, 3, 'no longer waiting');
    assert.match(again.stderr, /409: run \S+ cannot be approved: it was already approved by tester via cli/);
  });

  test('reject and cancel', async () => {
    const rejected = await runCli(['reject', ids['cart'] as string, '--comment', 'false alarm'], { env });
    assert.equal(rejected.code, 0, rejected.stderr);
    assert.equal(rejected.stdout, `run ${ids['cart']} rejected by tester: the run will not act\n`);
    const cancelled = await runCli(['cancel', ids['search'] as string, '--reason', 'fixed by hand'], { env });
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal(cancelled.stdout, `run ${ids['search']} cancelled\n`);
    const states = await Promise.all(['cart', 'search'].map(async (k) => (await daemon.api<RunDetail>(`/api/runs/${ids[k]}`)).state));
    assert.deepEqual(states, ['rejected', 'cancelled']);
    const none = await runCli(['runs', '--pending'], { env });
    assert.equal(none.stdout, 'no run is waiting for approval\n');
  });

  test('mistakes exit non-zero with what to do', async () => {
    const state = await runCli(['runs', '--state', 'bogus'], { env });
    assert.equal(state.code, 1);
    assert.match(state.stderr, /--state bogus: give one of pending, awaiting_approval/);
    const missing = await runCli(['approve', 'r_nope'], { env });
    assert.equal(missing.code, 5, 'no such run');
    assert.match(missing.stderr, /404: no run with id r_nope/);
    const noId = await runCli(['approve'], { env });
    assert.equal(noId.code, 1);
    assert.match(noId.stderr, /missing required argument 'id'/);
  });
});
