import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { AlertmanagerClient } from '../../src/roundtrip/alertmanager-client.js';
import { findAlertmanagerBinaries, freePort, startAlertmanager, type Alertmanager, alertmanagerSkip, requireAlertmanager } from '../support/alertmanager.js';

const execFileAsync = promisify(execFile);
const binaries = findAlertmanagerBinaries();

describe('AlertmanagerClient against a real Alertmanager', { skip: alertmanagerSkip(binaries), timeout: 60_000 }, () => {
  let am: Alertmanager | undefined;
  let dir: string | undefined;

  before(async () => {
    am = await startAlertmanager({ binaries: requireAlertmanager(binaries), webhookUrl: 'http://127.0.0.1:9/webhook', webhookToken: 'unused-token' });
    dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-am-client-'));
  });
  after(async () => {
    await am?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('creates a silence amtool sees, then expires it', async () => {
    const client = new AlertmanagerClient({ urls: [am!.url], timeoutMs: 5000 });
    const now = Date.now();
    const id = await client.createSilence({
      matchers: [{ name: 'alertname', value: 'ClientTest', isRegex: false, isEqual: true }],
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 600_000).toISOString(),
      createdBy: 'remediator',
      comment: 'client test',
    });
    const { stdout } = await execFileAsync(binaries!.amtool, ['silence', 'query', '-o', 'json', `--alertmanager.url=${am!.url}`]);
    const silences = JSON.parse(stdout) as { id: string; createdBy: string; matchers: { name: string; value: string }[] }[];
    const mine = silences.find((s) => s.id === id);
    assert.equal(mine?.createdBy, 'remediator');
    assert.deepEqual(
      mine?.matchers.map((m) => `${m.name}=${m.value}`),
      ['alertname=ClientTest'],
    );

    await client.expireSilence(id);
    const { stdout: after } = await execFileAsync(binaries!.amtool, ['silence', 'query', '-o', 'json', `--alertmanager.url=${am!.url}`]);
    assert.equal(
      (JSON.parse(after) as { id: string }[]).find((s) => s.id === id),
      undefined,
      'an expired silence is not listed as active',
    );
  });

  test('lists alerts by filter, silenced ones included', async () => {
    await am!.addAlert({ alertname: 'ClientListed', namespace: 'shop' });
    await am!.addAlert({ alertname: 'ClientOther', namespace: 'shop' });
    const client = new AlertmanagerClient({ urls: [am!.url], timeoutMs: 5000 });
    const alerts = await client.listAlerts(['alertname="ClientListed"']);
    assert.deepEqual(
      alerts.map((a) => a.labels['alertname']),
      ['ClientListed'],
    );
    assert.equal(alerts[0]?.status.state, 'active');
    assert.match(alerts[0]?.fingerprint ?? '', /^[0-9a-f]{16}$/);
  });

  test('uses the first Alertmanager that answers, and says which failed when none does', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const client = new AlertmanagerClient({ urls: [dead, am!.url], timeoutMs: 5000 });
    assert.ok(Array.isArray(await client.listAlerts()));
    const none = new AlertmanagerClient({ urls: [dead], timeoutMs: 5000 });
    await assert.rejects(none.listAlerts(), (err: Error & { code?: string; retryable?: boolean }) => {
      assert.match(err.message, /no Alertmanager answered GET \/api\/v2\/alerts: 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
      assert.equal(err.retryable, true);
      return true;
    });
  });

  test('a refused request (4xx) is reported with what Alertmanager said', async () => {
    const client = new AlertmanagerClient({ urls: [am!.url], timeoutMs: 5000 });
    const now = new Date().toISOString();
    await assert.rejects(
      client.createSilence({ matchers: [], startsAt: now, endsAt: now, createdBy: 'remediator', comment: 'x' }),
      /Alertmanager refused POST \/api\/v2\/silences \(127\.0\.0\.1:\d+: HTTP 4\d\d .*matchers/,
    );
  });

  test('sends the bearer token from its file; a missing file is a configuration error', () => {
    const file = path.join(dir!, 'token');
    writeFileSync(file, 'secret-token\n');
    assert.doesNotThrow(() => new AlertmanagerClient({ urls: [am!.url], tokenFile: file, timeoutMs: 1000 }));
    assert.throws(
      () => new AlertmanagerClient({ urls: [am!.url], tokenFile: path.join(dir!, 'missing'), timeoutMs: 1000 }),
      /alertmanager\.tokenFile: cannot read .*missing/,
    );
  });
});
