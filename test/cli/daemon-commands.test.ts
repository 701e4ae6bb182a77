import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Run } from '../../src/domain/run.js';
import { runCli } from '../support/cli.js';
import { fixture } from '../support/fixtures.js';
import { API_TOKEN, removeDir, startTestDaemon, type TestDaemon } from '../support/test-daemon.js';

const PLAYBOOK = `name: flag-off
match: { alertname: FlagBurst }
mode: dry-run
params:
  feature: { from: labels.feature, pattern: '[a-z]+' }
  env: { from: labels.env, pattern: '[a-z]+' }
steps:
  - name: off
    http:
      method: PATCH
      url: 'https://flags.example.test/api/{{ params.env }}/{{ params.feature }}'
      body: { enabled: false, reason: 'run {{ run.id }}' }
`;

describe('remediator reload, runs and show against a running daemon; the token a laptop generated', () => {
  let daemon: TestDaemon;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const playbooks = () => path.join(dir, 'playbooks');

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-cli-daemon-'));
    mkdirSync(playbooks());
    writeFileSync(path.join(playbooks(), 'flag-off.yaml'), PLAYBOOK);
    daemon = await startTestDaemon({ dir, playbooks: playbooks() });
    env = { REMEDIATOR_URL: daemon.url, REMEDIATOR_TOKEN: API_TOKEN };
    const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[] };
    Object.assign(p.alerts[0] as object, { labels: { alertname: 'FlagBurst', feature: 'search', env: 'prod' }, fingerprint: 'f1a9000000000000' });
    await daemon.post(p);
    await daemon.settled();
  });
  after(async () => {
    await daemon.close();
    removeDir(dir);
  });

  test('runs: without guards.key the TARGET column shows the params, not fingerprint@startsAt', async () => {
    const [run] = (await daemon.api<{ runs: Run[] }>('/api/runs')).runs;
    assert.equal(run?.targetKey, run?.instanceKey, 'the playbook has no guards.key');
    const r = await runCli(['runs'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^r_\S+ +succeeded +dry-run +flag-off +feature=search env=prod +\S+Z$/m);
    assert.doesNotMatch(r.stdout, /f1a9000000000000@/);
  });

  test('show: an http step with its method, URL and body', async () => {
    const [run] = (await daemon.api<{ runs: Run[] }>('/api/runs')).runs;
    const r = await runCli(['show', run?.id ?? ''], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `1\\. off \\[http\\]: planned\\n {5}PATCH https://flags\\.example\\.test/api/prod/search\\n {5}body: \\{"enabled":false,"reason":"run ${run?.id}"\\}\\n`,
      ),
    );
  });

  test('reload: the set the daemon now runs, or the errors of a refused one and exit 1', async () => {
    writeFileSync(path.join(playbooks(), 'second.yaml'), PLAYBOOK.replace('name: flag-off', 'name: second').replace('FlagBurst', 'Other'));
    const ok = await runCli(['reload'], { env });
    assert.deepEqual(ok, { code: 0, stdout: 'reloaded: 2 playbook(s) active; added second; removed none; changed none\n', stderr: '' });

    writeFileSync(path.join(playbooks(), 'broken.yaml'), 'name: broken\nmatch: { alertname: X }\nsteps:\n  - wait: 5 minutes\n');
    const refused = await runCli(['reload'], { env });
    assert.equal(refused.code, 1);
    assert.match(
      refused.stdout,
      /^reload refused: the previous playbook set stays active; 1 error\(s\):\n {2}broken\.yaml:4:11: steps\[0\]\.wait: must be a duration/,
    );
    assert.deepEqual((await daemon.api<{ playbooks: { name: string }[] }>('/api/playbooks')).playbooks.map((p) => p.name).sort(), ['flag-off', 'second']);
  });

  test('no REMEDIATOR_TOKEN: the token npm start generated in data/ is used for a daemon on this machine, and said so', async () => {
    const laptop = mkdtempSync(path.join(os.tmpdir(), 'remediator-laptop-'));
    try {
      mkdirSync(path.join(laptop, 'data'));
      writeFileSync(path.join(laptop, 'data', 'api.token'), `${API_TOKEN}\n`, { mode: 0o600 });
      const r = await runCli(['status'], { env: { REMEDIATOR_URL: daemon.url }, cwd: laptop });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^remediator: no REMEDIATOR_TOKEN set: using the token in data\/api\.token \(generated at the first start\)\n$/);
      assert.match(r.stdout, /not paused/);
      // Never sent to a daemon elsewhere: no token, no request.
      const remote = await runCli(['status', '--url', 'http://remediator.example.test:9595'], { cwd: laptop });
      assert.equal(remote.code, 4);
      assert.match(remote.stderr, /no API token: set REMEDIATOR_TOKEN/);
    } finally {
      removeDir(laptop);
    }
  });
});
