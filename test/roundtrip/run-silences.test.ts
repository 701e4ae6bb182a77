import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ApiClient } from '../../src/cli/api-client.js';
import { showCommand } from '../../src/cli/run-commands.js';
import type { ConfigInput } from '../../src/config/config-schema.js';
import { runMessage } from '../../src/notify/slack/run-message.js';
import type { Run, RunDetail } from '../../src/domain/run.js';
import { findAlertmanagerBinaries, freePort, startAlertmanager, type Alertmanager, alertmanagerSkip, requireAlertmanager } from '../support/alertmanager.js';
import { fixture, ROOT } from '../support/fixtures.js';
import { API_TOKEN, removeDir, startTestDaemon, type TestDaemon } from '../support/test-daemon.js';
import { until } from '../support/until.js';
import { AlertmanagerClient } from '../../src/roundtrip/alertmanager-client.js';

// Silences while remediating, against a real Alertmanager 0.25 (clustering off): what amtool
// shows after each kind of run end.

const execFileAsync = promisify(execFile);
const binaries = findAlertmanagerBinaries();
const NODE = process.execPath;
const SCRIPTS = path.join(ROOT, 'test', 'fixtures', 'scripts');

interface AmSilence {
  id: string;
  createdBy: string;
  comment: string;
  endsAt: string;
  matchers: { name: string; value: string; isRegex: boolean; isEqual: boolean }[];
  status: { state: string };
}

describe('silences of runs in a real Alertmanager', { skip: alertmanagerSkip(binaries), timeout: 120_000 }, () => {
  let am: Alertmanager | undefined;
  let daemon: TestDaemon | undefined;

  before(async () => {
    am = await startAlertmanager({ binaries: requireAlertmanager(binaries), webhookUrl: 'http://127.0.0.1:9/webhook', webhookToken: 'unused-token' });
  });
  after(async () => {
    await am?.stop();
  });
  afterEach(async () => {
    if (daemon) {
      await daemon.close();
      removeDir(daemon.dir);
      daemon = undefined;
    }
  });

  /** Every silence amtool lists (expired ones too with `expired`), as JSON. */
  async function amtoolSilences(expired = false): Promise<AmSilence[]> {
    const args = ['silence', 'query', '-o', 'json', `--alertmanager.url=${am!.url}`, ...(expired ? ['--expired'] : [])];
    const { stdout } = await execFileAsync(binaries!.amtool, args, { timeout: 15_000 });
    return JSON.parse(stdout) as AmSilence[];
  }

  async function daemonWith(playbook: string, config: ConfigInput = {}): Promise<TestDaemon> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-silence-'));
    const pbDir = path.join(dir, 'playbooks');
    mkdirSync(pbDir);
    writeFileSync(path.join(pbDir, 'silenced.yaml'), playbook);
    daemon = await startTestDaemon({
      dir,
      playbooks: pbDir,
      config: { execution: 'live', alertmanager: { url: am!.url }, publicUrl: 'https://remediator.example.com', ...config },
      env: { PATH: process.env['PATH'] },
    });
    return daemon;
  }

  let counter = 0;
  function payload(labels: Record<string, string>) {
    const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[]; status: string };
    const alert = p.alerts[0] as Record<string, unknown>;
    alert['labels'] = { alertname: 'SilenceTest', ...labels };
    alert['fingerprint'] = `a${(counter++).toString(16).padStart(15, '0')}`;
    return p;
  }

  async function onlyRun(d: TestDaemon): Promise<RunDetail> {
    await d.settled();
    const { runs } = await d.api<{ runs: Run[] }>('/api/runs');
    assert.equal(runs.length, 1);
    return d.api<RunDetail>(`/api/runs/${runs[0]?.id}`);
  }

  const playbook = (steps: string, silence = '{ extend: 10m }', mode = 'live') => `name: silenced
match: { alertname: SilenceTest }
mode: ${mode}
silence: ${silence}
steps:
  - name: look
    run: [${NODE}, ${SCRIPTS}/print-args.mjs, look]
    readOnly: true
${steps}`;

  test('a live run that succeeds: silence created at its first acting step, with the alert labels, then ends `extend` later', async () => {
    const d = await daemonWith(playbook(`  - name: act\n    run: [${NODE}, ${SCRIPTS}/print-args.mjs, act]\n`));
    const before = Date.now();
    assert.equal((await d.post(payload({ namespace: 'shop', deployment: 'ok-one' }))).status, 200);
    const run = await onlyRun(d);
    assert.equal(run.state, 'succeeded', run.reason);
    assert.ok(run.silenceId, 'the silence id is stored on the run');
    const created = run.events.find((e) => e.kind === 'silence.created');
    const stepStarted = run.events.find((e) => e.kind === 'step.started' && e.data['step'] === 'act');
    assert.ok(created && stepStarted && created.id < stepStarted.id, 'created before the first step that changes something started');
    assert.ok(
      run.events.findIndex((e) => e.kind === 'silence.created') > run.events.findIndex((e) => e.kind === 'step.finished' && e.data['step'] === 'look'),
      'not before: the read-only step ran unsilenced',
    );
    assert.ok(run.events.some((e) => e.kind === 'silence.extended'));

    const silence = (await amtoolSilences()).find((s) => s.id === run.silenceId);
    assert.ok(silence, `amtool lists silence ${run.silenceId}`);
    assert.equal(silence.createdBy, 'remediator');
    assert.match(silence.comment, new RegExp(`run ${run.id} of playbook silenced .*https://remediator\\.example\\.com/console/runs/${run.id}`));
    assert.deepEqual(
      silence.matchers.map((m) => `${m.name}=${m.value}`),
      ['alertname=SilenceTest', 'deployment=ok-one', 'namespace=shop'],
    );
    assert.ok(silence.matchers.every((m) => m.isEqual && !m.isRegex));
    const client = { get: (p: string) => d.api(p) } as unknown as ApiClient;
    assert.match(await showCommand(client, run.id, false), new RegExp(`silenced in Alertmanager: silence ${run.silenceId}`));
    assert.ok(
      JSON.stringify(runMessage({ run, publicUrl: null })).includes(`*Silenced* in Alertmanager: silence \`${run.silenceId}\``),
      'the Slack message names the silence',
    );
    const endsAt = Date.parse(silence.endsAt);
    assert.ok(endsAt >= before + 600_000 && endsAt <= Date.now() + 600_000 + 1000, `ends 10m after the success: ${silence.endsAt}`);
  });

  test('a live run that fails: its silence is expired at once', async () => {
    const d = await daemonWith(playbook(`  - name: act\n    run: [${NODE}, ${SCRIPTS}/exit-with.mjs, '3']\n`));
    assert.equal((await d.post(payload({ deployment: 'fails' }))).status, 200);
    const run = await onlyRun(d);
    assert.equal(run.state, 'failed');
    assert.ok(run.silenceId);
    assert.ok(run.events.some((e) => e.kind === 'silence.expired'));
    assert.equal(
      (await amtoolSilences()).find((s) => s.id === run.silenceId),
      undefined,
      'no longer active',
    );
    assert.equal((await amtoolSilences(true)).find((s) => s.id === run.silenceId)?.status.state, 'expired');
  });

  test('keepOnFailure keeps the silence of a failed run', async () => {
    const d = await daemonWith(playbook(`  - name: act\n    run: [${NODE}, ${SCRIPTS}/exit-with.mjs, '3']\n`, '{ keepOnFailure: true }'));
    assert.equal((await d.post(payload({ deployment: 'kept' }))).status, 200);
    const run = await onlyRun(d);
    assert.equal(run.state, 'failed');
    assert.ok(run.events.some((e) => e.kind === 'silence.kept'));
    assert.equal((await amtoolSilences()).find((s) => s.id === run.silenceId)?.status.state, 'active');
  });

  test('a run rejected at an approval step after it acted: its silence is expired', async () => {
    const d = await daemonWith(
      playbook(
        `  - name: act\n    run: [${NODE}, ${SCRIPTS}/print-args.mjs, act]\n  - name: confirm\n    approval: { message: go on? }\n  - name: more\n    run: [${NODE}, ${SCRIPTS}/print-args.mjs, more]\n`,
      ),
    );
    assert.equal((await d.post(payload({ deployment: 'rejected' }))).status, 200);
    await d.settled();
    const { runs } = await d.api<{ runs: Run[] }>('/api/runs');
    const id = runs[0]!.id;
    assert.equal(runs[0]?.state, 'awaiting_approval');
    const silenceId = (await d.api<RunDetail>(`/api/runs/${id}`)).silenceId;
    assert.equal((await amtoolSilences()).find((s) => s.id === silenceId)?.status.state, 'active', 'silenced while held');
    const res = await fetch(`${d.url}/api/runs/${id}/reject`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ comment: 'no' }),
    });
    assert.equal(res.status, 200, await res.text());
    const run = await until('the silence expired', async () => {
      await d.settled();
      const r = await d.api<RunDetail>(`/api/runs/${id}`);
      return r.events.some((e) => e.kind === 'silence.expired') ? r : null;
    });
    assert.equal(run.state, 'rejected');
    assert.equal(
      (await amtoolSilences()).find((s) => s.id === silenceId),
      undefined,
    );
    // Told twice (the run's change, and the approval's end): expired once.
    await d.settled();
    const after = await d.api<RunDetail>(`/api/runs/${id}`);
    assert.equal(after.events.filter((e) => e.kind === 'silence.expired' || e.kind === 'silence.failed').length, 1);
  });

  test('a dry run records the silence it would create, and creates none', async () => {
    const d = await daemonWith(playbook(`  - name: act\n    run: [${NODE}, ${SCRIPTS}/print-args.mjs, act]\n`, '{ extend: 5m }', 'dry-run'));
    const count = (await amtoolSilences()).length;
    assert.equal((await d.post(payload({ deployment: 'dry' }))).status, 200);
    const run = await onlyRun(d);
    assert.equal(run.dryRun, true);
    const planned = run.events.find((e) => e.kind === 'silence.planned');
    assert.ok(planned, 'silence.planned recorded');
    assert.deepEqual(
      (planned.data['matchers'] as { name: string }[]).map((m) => m.name),
      ['alertname', 'deployment'],
    );
    assert.equal(run.silenceId ?? null, null);
    assert.equal((await amtoolSilences()).length, count);
  });

  test('Alertmanager unreachable: silence.failed on the run, counted, and the run goes on', async () => {
    const d = await daemonWith(playbook(`  - name: act\n    run: [${NODE}, ${SCRIPTS}/print-args.mjs, act]\n`), {
      alertmanager: { url: `http://127.0.0.1:${await freePort()}`, timeout: '2s' },
    });
    assert.equal((await d.post(payload({ deployment: 'unreachable' }))).status, 200);
    const run = await onlyRun(d);
    assert.equal(run.state, 'succeeded', run.reason);
    const failed = run.events.find((e) => e.kind === 'silence.failed');
    assert.match(String(failed?.data['error']), /no Alertmanager answered POST \/api\/v2\/silences: .*ECONNREFUSED/);
    const metrics = await (await fetch(`${d.url}/metrics`)).text();
    assert.match(metrics, /remediator_silences_total\{outcome="failed"\} 1/);
  });

  test('the alert resolving while silenced is seen by polling Alertmanager: verify resolved holds, resolvedAt is recorded', async () => {
    const d = await daemonWith(
      playbook(
        `  - name: act\n    run: [${NODE}, ${SCRIPTS}/print-args.mjs, act]\n  - name: gone\n    verify: { resolved: true, within: 30s, every: 100ms }\n`,
      ),
      { alertmanager: { url: am!.url, resolvePoll: '200ms' } },
    );
    const labels = { alertname: 'SilenceTest', deployment: 'resolves' };
    await am!.addAlert(labels);
    const client = new AlertmanagerClient({ urls: [am!.url], timeoutMs: 5000 });
    const [inAm] = await client.listAlerts(['deployment="resolves"']);
    assert.ok(inAm);
    const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[] };
    Object.assign(p.alerts[0] as Record<string, unknown>, { labels, fingerprint: inAm.fingerprint, startsAt: inAm.startsAt });
    assert.equal((await d.post(p)).status, 200);
    const silenced = await until('the run silenced its alert', async () => {
      const { runs } = await d.api<{ runs: Run[] }>('/api/runs');
      return runs[0]?.silenceId ? runs[0] : null;
    });
    await until('Alertmanager reports the alert silenced', async () => (await client.listAlerts(['deployment="resolves"']))[0]?.status.state === 'suppressed');
    await am!.resolveAlert(labels);
    const run = await until(
      'the run ended',
      async () => {
        const r = await d.api<RunDetail>(`/api/runs/${silenced.id}`);
        return r.state === 'running' ? null : r;
      },
      { timeoutMs: 40_000 },
    );
    assert.equal(run.state, 'succeeded', run.reason);
    assert.ok(run.resolvedAt, 'the resolve is recorded on the run');
    assert.ok(run.events.some((e) => e.kind === 'alert.resolved'));
  });
});
