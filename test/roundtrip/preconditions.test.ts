import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConfigInput } from '../../src/config/config-schema.js';
import type { AuditEvent, Run } from '../../src/domain/run.js';
import { findAlertmanagerBinaries, freePort, startAlertmanager, type Alertmanager, alertmanagerSkip, requireAlertmanager } from '../support/alertmanager.js';
import { fixture, ROOT } from '../support/fixtures.js';
import { removeDir, startTestDaemon, type TestDaemon } from '../support/test-daemon.js';

// `unless.firing` against a real Alertmanager 0.25: the blocking alert is added with amtool.

const binaries = findAlertmanagerBinaries();
const NODE = process.execPath;
const SCRIPTS = path.join(ROOT, 'test', 'fixtures', 'scripts');

describe('preconditions on active alerts in a real Alertmanager', { skip: alertmanagerSkip(binaries), timeout: 120_000 }, () => {
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

  async function daemonWith(unless: string, config: ConfigInput = {}): Promise<TestDaemon> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-unless-'));
    const pbDir = path.join(dir, 'playbooks');
    mkdirSync(pbDir);
    writeFileSync(
      path.join(pbDir, 'guarded.yaml'),
      `name: guarded\nmatch: { alertname: GuardedTest }\nmode: live\nunless: ${unless}\nsteps:\n  - run: [${NODE}, ${SCRIPTS}/print-args.mjs, act]\n`,
    );
    daemon = await startTestDaemon({
      dir,
      playbooks: pbDir,
      config: { execution: 'live', alertmanager: { url: am!.url, activeAlertsCache: '0s' }, ...config },
      env: { PATH: process.env['PATH'] },
    });
    return daemon;
  }

  let counter = 0;
  function payload() {
    const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[] };
    const alert = p.alerts[0] as Record<string, unknown>;
    alert['labels'] = { alertname: 'GuardedTest', n: String(counter) };
    alert['fingerprint'] = `b${(counter++).toString(16).padStart(15, '0')}`;
    return p;
  }

  async function decisions(d: TestDaemon): Promise<AuditEvent[]> {
    await d.settled();
    return (await d.api<{ events: AuditEvent[] }>('/api/audit?kind=decision')).events;
  }

  test('decides as usual while the blocking alert is not active, and suppresses naming it once it is', async () => {
    const d = await daemonWith(`{ firing: ['alertname="PreconditionUpgrade"', 'alertname=~"KubeAPIDown|EtcdNoLeader"'] }`);
    await am!.addAlert({ alertname: 'SomethingElse' });
    assert.equal((await d.post(payload())).status, 200);
    await d.settled();
    assert.deepEqual(
      (await d.api<{ runs: Run[] }>('/api/runs')).runs.map((r) => r.state),
      ['succeeded'],
    );

    await am!.addAlert({ alertname: 'PreconditionUpgrade', cluster: 'prod' });
    assert.equal((await d.post(payload())).status, 200);
    const events = await decisions(d);
    const last = events[events.length - 1];
    assert.equal(last?.data['action'], 'suppress');
    assert.equal(last?.data['reason'], 'precondition');
    assert.match(
      String(last?.data['detail']),
      /^alert PreconditionUpgrade \([0-9a-f]{16}\) is firing and matches unless\.firing alertname="PreconditionUpgrade"$/,
    );
    assert.equal((await d.api<{ runs: Run[] }>('/api/runs')).runs.length, 1, 'no second run');
    const metrics = await (await fetch(`${d.url}/metrics`)).text();
    assert.match(metrics, /remediator_runs_suppressed_total\{playbook="guarded",reason="precondition"\} 1/);
  });

  test('Alertmanager unreachable: onUnknown hold holds the run for approval, proceed runs it, both recorded', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const d = await daemonWith(`{ firing: ['alertname="PreconditionUpgrade"'] }`, { alertmanager: { url: dead, timeout: '2s' } });
    assert.equal((await d.post(payload())).status, 200);
    await d.settled();
    const [held] = (await d.api<{ runs: Run[] }>('/api/runs')).runs;
    assert.equal(held?.state, 'awaiting_approval');
    const heldDecision = (await decisions(d)).find((e) => e.data['action'] === 'run');
    assert.match(
      String(heldDecision?.data['reason']),
      /unless\.firing could not be checked \(no Alertmanager answered GET \/api\/v2\/alerts: .*ECONNREFUSED.*\); onUnknown: hold/,
    );
    await daemon!.close();
    removeDir(daemon!.dir);

    const p = await daemonWith(`{ firing: ['alertname="PreconditionUpgrade"'], onUnknown: proceed }`, { alertmanager: { url: dead, timeout: '2s' } });
    assert.equal((await p.post(payload())).status, 200);
    await p.settled();
    const [ran] = (await p.api<{ runs: Run[] }>('/api/runs')).runs;
    assert.equal(ran?.state, 'succeeded');
    const decided = (await decisions(p)).find((e) => e.data['action'] === 'run');
    assert.match(String(decided?.data['reason']), /onUnknown: proceed/);
  });
});
