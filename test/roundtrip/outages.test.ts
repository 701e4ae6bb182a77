import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import nock from 'nock';
import { stringify } from 'yaml';
import type { ConfigInput } from '../../src/config/config-schema.js';
import type { Run, RunDetail } from '../../src/domain/run.js';
import { AlertmanagerClient } from '../../src/roundtrip/alertmanager-client.js';
import { alertmanagerSkip, findAlertmanagerBinaries, requireAlertmanager, startAlertmanager, type Alertmanager } from '../support/alertmanager.js';
import { startDaemonProcess, type DaemonProcess } from '../support/daemon-process.js';
import { fixture, ROOT } from '../support/fixtures.js';
import { API_TOKEN, removeDir, startTestDaemon, type TestDaemon } from '../support/test-daemon.js';
import { until } from '../support/until.js';

// The round trip when things break: Alertmanager (real, 0.25) stopped mid-run, and a daemon
// killed (SIGKILL, a real child process) while its run acts, then restarted on the same database.
// Grafana cannot run here: in the child it is answered by nock loaded into that process
// (test/fixtures/preload/grafana-nock.mjs), in this process by nock.

const binaries = findAlertmanagerBinaries();
const NODE = process.execPath;
const SCRIPTS = path.join(ROOT, 'test', 'fixtures', 'scripts');
const PRELOAD = path.join(ROOT, 'test', 'fixtures', 'preload', 'grafana-nock.mjs');
const GRAFANA = 'https://grafana.example.com';
const TOKEN = 'glsa_outage-token-for-tests';

interface Sent {
  method: string;
  path: string;
  authorization: string;
  body: { time: number; timeEnd?: number; tags: string[]; text: string };
}

/** Acts (the silence and the annotation are made), then waits for `release` to exist. */
const playbook = (release: string, silence = '{ extend: 10m }') => `name: outage
match: { alertname: OutageTest }
mode: live
silence: ${silence}
steps:
  - name: act
    run: [${NODE}, ${SCRIPTS}/print-args.mjs, act]
  - name: wait
    run: [${NODE}, ${SCRIPTS}/wait-for-file.mjs, ${JSON.stringify(release)}]
    readOnly: true
    timeout: 2m
`;

let counter = 0;
function payload(labels: Record<string, string>) {
  const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[] };
  const alert = p.alerts[0] as Record<string, unknown>;
  alert['labels'] = { alertname: 'OutageTest', ...labels };
  alert['fingerprint'] = `c${(counter++).toString(16).padStart(15, '0')}`;
  return p;
}

/** A fresh directory with the playbook, the release file's path and the Grafana token file. */
function workspace(silence?: string): { dir: string; playbooks: string; release: string; tokenFile: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-outage-'));
  const playbooks = path.join(dir, 'playbooks');
  mkdirSync(playbooks);
  const release = path.join(dir, 'release');
  writeFileSync(path.join(playbooks, 'outage.yaml'), playbook(release, silence));
  const tokenFile = path.join(dir, 'grafana-token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  return { dir, playbooks, release, tokenFile };
}

describe('the round trip through outages and restarts', { skip: alertmanagerSkip(binaries), timeout: 180_000 }, () => {
  let am: Alertmanager | undefined;
  let daemon: TestDaemon | undefined;
  let child: DaemonProcess | undefined;
  const releases: string[] = [];

  before(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect(/^(127\.0\.0\.1|localhost)(:\d+)?$/);
    am = await startAlertmanager({ binaries: requireAlertmanager(binaries), webhookUrl: 'http://127.0.0.1:9/webhook', webhookToken: 'unused-token' });
  });
  after(async () => {
    nock.enableNetConnect();
    await am?.stop();
  });
  afterEach(async () => {
    // Whatever a test left waiting ends now (a killed daemon's step is stopped by the restart, but not if a test failed before).
    for (const r of releases.splice(0)) if (!existsSync(r)) writeFileSync(r, '');
    await child?.stop();
    child = undefined;
    if (daemon) {
      await daemon.close();
      removeDir(daemon.dir);
      daemon = undefined;
    }
    const pending = nock.pendingMocks();
    nock.cleanAll();
    assert.deepEqual(pending, [], 'Grafana calls expected but not made');
  });

  test('Alertmanager stopped mid-run: the silence cannot be extended, silence.failed says so, and the run succeeds', async () => {
    const own = await startAlertmanager({ binaries: requireAlertmanager(binaries), webhookUrl: 'http://127.0.0.1:9/webhook', webhookToken: 'unused-token' });
    try {
      const ws = workspace();
      releases.push(ws.release);
      daemon = await startTestDaemon({
        dir: ws.dir,
        playbooks: ws.playbooks,
        config: { execution: 'live', alertmanager: { url: own.url, timeout: '2s' } },
        env: { PATH: process.env['PATH'] },
      });
      const d = daemon;
      assert.equal((await d.post(payload({ deployment: 'am-goes-away' }))).status, 200);
      const run = await until('the run silenced and waiting', async () => {
        const { runs } = await d.api<{ runs: Run[] }>('/api/runs');
        const r = runs[0] ? await d.api<RunDetail>(`/api/runs/${runs[0].id}`) : null;
        return r?.silenceId && r.steps.find((s) => s.name === 'wait')?.state === 'running' ? r : null;
      });
      await own.stop();
      writeFileSync(ws.release, '');
      const ended = await until('the run ended and its silence was dealt with', async () => {
        await d.settled();
        const r = await d.api<RunDetail>(`/api/runs/${run.id}`);
        return r.state !== 'running' && r.events.some((e) => e.kind === 'silence.failed') ? r : null;
      });
      assert.equal(ended.state, 'succeeded', ended.reason);
      const failed = ended.events.filter((e) => e.kind === 'silence.failed');
      assert.equal(failed.length, 1);
      assert.equal(failed[0]?.data['action'], 'extend');
      assert.equal(failed[0]?.data['silenceId'], run.silenceId);
      assert.match(String(failed[0]?.data['error']), /no Alertmanager answered GET \/api\/v2\/silence\/.*ECONNREFUSED/);
      assert.ok(!ended.events.some((e) => e.kind === 'silence.extended'));
      const metrics = await (await fetch(`${d.url}/metrics`)).text();
      assert.match(metrics, /remediator_silences_total\{outcome="created"\} 1/);
      assert.match(metrics, /remediator_silences_total\{outcome="failed"\} 1/);
    } finally {
      await own.stop();
    }
  });

  test('a run held for approval after it acted, across a restart: rejected after it, its silence is expired and its region closed', async () => {
    const ws = workspace();
    writeFileSync(
      path.join(ws.playbooks, 'outage.yaml'),
      `name: outage
match: { alertname: OutageTest }
mode: live
silence: { extend: 10m }
steps:
  - name: act
    run: [${NODE}, ${SCRIPTS}/print-args.mjs, act]
  - name: confirm
    approval: { message: go on? }
  - name: more
    run: [${NODE}, ${SCRIPTS}/print-args.mjs, more]
`,
    );
    const config: ConfigInput = { execution: 'live', alertmanager: { url: am!.url }, grafana: { url: GRAFANA, tokenFile: ws.tokenFile } };
    let patched: Sent['body'] | undefined;
    nock(GRAFANA)
      .post('/api/annotations')
      .reply(200, { id: 77, message: 'Annotation added' })
      .patch('/api/annotations/77', (b: Sent['body']) => Boolean((patched = b)))
      .reply(200, { message: 'Annotation patched' });
    daemon = await startTestDaemon({ dir: ws.dir, playbooks: ws.playbooks, config, env: { PATH: process.env['PATH'] } });
    assert.equal((await daemon.post(payload({ deployment: 'held' }))).status, 200);
    await daemon.settled();
    const { runs } = await daemon.api<{ runs: Run[] }>('/api/runs');
    const held = runs[0]!;
    assert.equal(held.state, 'awaiting_approval');
    assert.ok(held.silenceId);
    await daemon.close();
    daemon = await startTestDaemon({ dir: ws.dir, playbooks: ws.playbooks, config, env: { PATH: process.env['PATH'] } });
    const d = daemon;
    const res = await fetch(`${d.url}/api/runs/${held.id}/reject`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ comment: 'not now' }),
    });
    assert.equal(res.status, 200, await res.text());
    const run = await until('the silence and the region of the rejected run ended', async () => {
      await d.settled();
      const r = await d.api<RunDetail>(`/api/runs/${held.id}`);
      return r.events.some((e) => e.kind === 'silence.expired') && r.events.some((e) => e.kind === 'annotation.updated') ? r : null;
    });
    assert.equal(run.state, 'rejected');
    const client = new AlertmanagerClient({ urls: [am!.url], timeoutMs: 5000 });
    assert.equal((await client.getSilence(held.silenceId))?.status.state, 'expired');
    assert.deepEqual(patched?.tags, ['remediator', 'outage', 'rejected']);
  });

  for (const keep of [false, true]) {
    test(`a run interrupted by a crash: after the restart its silence is ${keep ? 'kept (keepOnFailure)' : 'expired'} and its annotation closed, once`, async () => {
      const ws = workspace(keep ? '{ keepOnFailure: true }' : '{ extend: 10m }');
      releases.push(ws.release);
      const requests = path.join(ws.dir, 'grafana-requests.jsonl');
      const config: ConfigInput = {
        execution: 'live',
        publicUrl: 'https://remediator.example.com',
        alertmanager: { url: am!.url },
        grafana: { url: GRAFANA, tokenFile: ws.tokenFile, tags: ['deployment'] },
      };
      const configFile = path.join(ws.dir, 'config.yaml');
      writeFileSync(configFile, stringify(config));
      const db = path.join(ws.dir, 'remediator.db');
      child = await startDaemonProcess({
        playbooks: ws.playbooks,
        db,
        args: ['--config', configFile],
        env: { NODE_OPTIONS: `--import ${PRELOAD}`, GRAFANA_NOCK_LOG: requests, GRAFANA_NOCK_ID: '4242' },
      });
      const first = child;
      const res = await fetch(`${first.url}/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${first.webhookToken}` },
        body: JSON.stringify(payload({ deployment: keep ? 'crash-kept' : 'crash' })),
      });
      assert.equal(res.status, 200, await res.text());
      const acting = await until(
        'the run acting: silenced, annotated and waiting',
        async () => {
          const { runs } = await first.api<{ runs: Run[] }>('/api/runs');
          const r = runs[0] ? await first.api<RunDetail>(`/api/runs/${runs[0].id}`) : null;
          const ready = r?.silenceId && r.events.some((e) => e.kind === 'annotation.created') && r.steps.find((s) => s.name === 'wait')?.state === 'running';
          return ready ? r : null;
        },
        { timeoutMs: 20_000 },
      );
      first.signal('SIGKILL');
      assert.equal((await first.exited()).signal, 'SIGKILL');
      const client = new AlertmanagerClient({ urls: [am!.url], timeoutMs: 5000 });
      assert.equal((await client.getSilence(acting.silenceId!))?.status.state, 'active', 'the killed daemon left its silence in force');

      const [created] = readFileSync(requests, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Sent);
      assert.ok(created);
      assert.equal(created.method, 'POST');
      assert.equal(created.authorization, `Bearer ${TOKEN}`);
      assert.deepEqual(created.body.tags, ['remediator', 'outage', `deployment=${keep ? 'crash-kept' : 'crash'}`]);
      assert.equal(created.body.timeEnd, undefined);

      // The restart (in this process, on the same database): the run is interrupted, its silence
      // ended as a failed run's is, and its Grafana region closed through the id the run recorded.
      let patched: Sent['body'] | undefined;
      nock(GRAFANA, { reqheaders: { authorization: `Bearer ${TOKEN}` } })
        .patch('/api/annotations/4242', (b: Sent['body']) => Boolean((patched = b)))
        .reply(200, { message: 'Annotation patched' });
      daemon = await startTestDaemon({ dir: ws.dir, playbooks: ws.playbooks, config, env: { PATH: process.env['PATH'] } });
      const d = daemon;
      const end = keep ? 'silence.kept' : 'silence.expired';
      const run = await until('the silence and the annotation of the interrupted run dealt with', async () => {
        await d.settled();
        const r = await d.api<RunDetail>(`/api/runs/${acting.id}`);
        return r.events.some((e) => e.kind === end) && r.events.some((e) => e.kind === 'annotation.updated') ? r : null;
      });
      assert.equal(run.state, 'interrupted');
      assert.equal((await client.getSilence(acting.silenceId!))?.status.state, keep ? 'active' : 'expired');
      assert.ok(patched);
      assert.equal(patched.time, created.body.time);
      assert.equal(patched.timeEnd, Date.parse(run.finishedAt ?? ''));
      assert.deepEqual(patched.tags, [...created.body.tags, 'interrupted']);
      assert.match(patched.text, new RegExp(`^remediator run ${run.id} of playbook outage on OutageTest .* interrupted: the daemon restarted`));
      assert.ok(nock.isDone());

      // Once: another restart touches neither (no Grafana call is expected: one would be refused and recorded).
      await d.close();
      daemon = undefined;
      daemon = await startTestDaemon({ dir: ws.dir, playbooks: ws.playbooks, config, env: { PATH: process.env['PATH'] } });
      await daemon.settled();
      const again = await daemon.api<RunDetail>(`/api/runs/${acting.id}`);
      const count = (kind: string) => again.events.filter((e) => e.kind === kind).length;
      assert.equal(count(end), 1);
      assert.equal(count('silence.failed'), 0);
      assert.equal(count('annotation.created'), 1);
      assert.equal(count('annotation.updated'), 1);
      assert.equal(count('annotation.failed'), 0);
    });
  }
});
