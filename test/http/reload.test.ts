import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Run } from '../../src/domain/run.js';
import { startDaemonProcess } from '../support/daemon-process.js';
import { fixtureText, TEST_PLAYBOOKS } from '../support/fixtures.js';
import { API_TOKEN, removeDir, startTestDaemon } from '../support/test-daemon.js';
import { until } from '../support/until.js';

const BROKEN = 'name: broken\nmatch: { alertname: X }\nsteps:\n  - wait: 5 minutes\n';
const EXTRA = "name: extra\nmatch: { alertname: Extra }\nsteps:\n  - notify: { text: 'x' }\n";

test('POST /-/reload: a valid set replaces the old one; a broken set is refused and the old one keeps working', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-reload-'));
  cpSync(TEST_PLAYBOOKS, dir, { recursive: true });
  const d = await startTestDaemon({ playbooks: dir });
  try {
    const reload = (token?: string) => fetch(`${d.url}/-/reload`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });
    assert.equal((await reload()).status, 401, 'reloading needs an API token');

    writeFileSync(path.join(dir, 'extra.yaml'), EXTRA);
    const ok = await reload(API_TOKEN);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { ok: true, playbooks: 5, added: ['extra'], removed: [], changed: [], heldRuns: { reproposed: 0, cancelled: 0 } });

    writeFileSync(path.join(dir, 'broken.yaml'), BROKEN);
    const refused = await reload(API_TOKEN);
    assert.equal(refused.status, 422);
    const body = (await refused.json()) as { ok: boolean; errors: string[] };
    assert.equal(body.ok, false);
    assert.match(body.errors[0] ?? '', /^broken\.yaml:4:11: steps\[0\]\.wait: must be a duration/);
    let metrics = await (await fetch(`${d.url}/metrics`)).text();
    assert.match(metrics, /remediator_config_last_reload_successful 0/);
    assert.match(metrics, /remediator_playbooks_loaded 5/);

    // The previous set is still the one in use.
    await d.post(fixtureText('amtool-firing.json'));
    await d.settled();
    assert.deepEqual(
      (await d.api<{ runs: Run[] }>('/api/runs')).runs.map((r) => r.playbook),
      ['high-error-rate'],
    );

    rmSync(path.join(dir, 'broken.yaml'));
    assert.equal((await reload(API_TOKEN)).status, 200);
    metrics = await (await fetch(`${d.url}/metrics`)).text();
    assert.match(metrics, /remediator_config_last_reload_successful 1/);
  } finally {
    await d.close();
    removeDir(d.dir);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a reload naming an escalate.notify notifier that is not configured is refused, as at start', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-reload-'));
  cpSync(TEST_PLAYBOOKS, dir, { recursive: true });
  const d = await startTestDaemon({ playbooks: dir });
  try {
    writeFileSync(
      path.join(dir, 'paging.yaml'),
      "name: paging\nmatch: { alertname: X }\nescalate: { after: 2, within: 1h, notify: [pagerduty] }\nsteps:\n  - notify: { text: 'x' }\n",
    );
    const refused = await fetch(`${d.url}/-/reload`, { method: 'POST', headers: { authorization: `Bearer ${API_TOKEN}` } });
    assert.equal(refused.status, 422);
    const body = (await refused.json()) as { errors: string[] };
    assert.match(body.errors.join('\n'), /pagerduty.*\(escalate\.notify\)/);
    assert.equal(d.playbooks.byName('paging'), undefined, 'the previous set stays');
  } finally {
    await d.close();
    removeDir(d.dir);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGHUP reloads the playbooks instead of stopping the daemon', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-reload-'));
  cpSync(TEST_PLAYBOOKS, dir, { recursive: true });
  const daemon = await startDaemonProcess({ playbooks: dir });
  try {
    writeFileSync(path.join(dir, 'extra.yaml'), EXTRA);
    daemon.signal('SIGHUP');
    await daemon.waitForLine((l) => l.includes('playbooks reloaded: 5 active (added 1'), 'the reload log line');
    const { playbooks } = await daemon.api<{ playbooks: { name: string }[] }>('/api/playbooks');
    assert.ok(playbooks.some((p) => p.name === 'extra'));
    assert.equal((await fetch(`${daemon.url}/-/healthy`)).status, 200, 'still running');
  } finally {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * A directory laid out as the kubelet lays out a ConfigMap volume: the files live in a timestamped
 * directory, `..data` links to it, and each visible file links through `..data`. An update writes a
 * new timestamped directory and swaps `..data` in one rename.
 */
function configMapVolume(dir: string) {
  let generation = 0;
  const publish = (files: Record<string, string>) => {
    generation++;
    const stamp = `..2026_12_02_03_12_0${generation}`;
    mkdirSync(path.join(dir, stamp));
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, stamp, name), text);
    symlinkSync(stamp, path.join(dir, '..data_tmp'));
    renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    for (const name of Object.keys(files)) {
      if (!existsSync(path.join(dir, name))) symlinkSync(path.join('..data', name), path.join(dir, name));
    }
  };
  return { publish };
}

test('reload.watch: a ConfigMap update reaches the daemon without a signal or a request; a broken one is refused', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-watch-'));
  const volume = configMapVolume(dir);
  volume.publish({ 'extra.yaml': EXTRA });
  const d = await startTestDaemon({ playbooks: dir, config: { reload: { watch: true, interval: '200ms' } } });
  try {
    const names = async () => (await d.api<{ playbooks: { name: string; hash: string }[] }>('/api/playbooks')).playbooks.map((p) => p.name);
    assert.deepEqual(await names(), ['extra']);
    const loadedEvents = async () => (await d.store.listEvents({ kind: 'playbooks.loaded', limit: 100 })).length;
    assert.equal(await loadedEvents(), 1, 'the start');

    volume.publish({
      'extra.yaml': EXTRA.replace("text: 'x'", "text: 'y'"),
      'second.yaml': EXTRA.replace('name: extra', 'name: second').replace('Extra', 'Second'),
    });
    await until('the new set', async () => ((await names()).join() === 'extra,second' ? true : null));
    const loaded = (await d.store.listEvents({ kind: 'playbooks.loaded', limit: 100 })).at(-1);
    assert.deepEqual(loaded?.data['added'], ['second']);
    assert.deepEqual(loaded?.data['changed'], ['extra']);

    // (That comparing unchanged files reloads nothing is the watcher's own test, counting its comparisons.)
    volume.publish({ 'extra.yaml': BROKEN.replace('name: broken', 'name: extra'), 'second.yaml': EXTRA.replace('name: extra', 'name: second') });
    await until('the refused reload', async () => ((await d.store.listEvents({ kind: 'playbooks.reload_failed', limit: 10 })).length === 1 ? true : null));
    assert.deepEqual(await names(), ['extra', 'second'], 'the previous set stays');
    assert.match(await (await fetch(`${d.url}/metrics`)).text(), /remediator_config_last_reload_successful 0/);
  } finally {
    await d.close();
    removeDir(d.dir);
    rmSync(dir, { recursive: true, force: true });
  }
});
