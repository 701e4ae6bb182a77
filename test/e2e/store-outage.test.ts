import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { ConfigInput } from '../../src/config/config-schema.js';
import type { Run } from '../../src/domain/run.js';
import { fixture, ROOT, writePlaybooks } from '../support/fixtures.js';
import { startPgCluster, pgBinDir, type PgCluster } from '../support/pg-cluster.js';
import { removeDir, startTestDaemon, type TestDaemon } from '../support/test-daemon.js';
import { mountSmallDisk, type SmallDisk } from '../support/tmpfs.js';
import { until } from '../support/until.js';

/**
 * A store that stops answering while runs are mid-step — PostgreSQL stopped as a crash would, or
 * SQLite's disk full — and comes back: every run whose end could not be recorded is ended when
 * it can be, without a restart; none stays `running` holding its key, none runs twice, and the
 * next alert for the same target acts. Readiness says "not ready" while the store cannot write.
 */
const SCRIPTS = path.join(ROOT, 'test', 'fixtures', 'scripts');
const TARGETS = ['alpha', 'bravo', 'charlie'];
/** As long as the outage that stranded runs: longer than the few seconds the executor used to retry. */
const OUTAGE_MS = 10_000;

let fp = 0;
function alert(target: string): Record<string, unknown> {
  const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[] };
  const a = p.alerts[0] as Record<string, unknown>;
  a['labels'] = { alertname: 'OutageTest', target };
  a['fingerprint'] = `0ff${(fp++).toString(16).padStart(13, '0')}`;
  return p;
}

/** A daemon whose one playbook waits in its first step until `gate` exists. */
async function daemonOn(dir: string, gate: string, config: ConfigInput): Promise<TestDaemon> {
  const playbooks = writePlaybooks(dir, {
    outage: `name: outage
match: { alertname: OutageTest }
mode: live
params:
  target: { from: labels.target, pattern: '[a-z]+' }
guards: { key: '{{ params.target }}' }
steps:
  - name: work
    run: [${process.execPath}, ${SCRIPTS}/wait-for-file.mjs, ${gate}]
    timeout: 2m
  - name: after
    run: [${process.execPath}, ${SCRIPTS}/print-args.mjs, 'done {{ params.target }}']
`,
  });
  return startTestDaemon({ dir, playbooks, config: { execution: 'live', runs: { lease: '3s' }, ...config }, env: { PATH: process.env['PATH'] } });
}

const ready = async (d: TestDaemon) => (await fetch(`${d.url}/-/ready`)).status;

async function runsOf(d: TestDaemon): Promise<Run[]> {
  return (await d.api<{ runs: Run[] }>('/api/runs?limit=100')).runs;
}

/** Starts one run per target and waits until each is in its first step. */
async function startRuns(d: TestDaemon): Promise<void> {
  for (const t of TARGETS) assert.equal((await d.post(alert(t))).status, 200);
  await until(
    'every run in its first step',
    async () => {
      const runs = await runsOf(d);
      if (runs.length !== TARGETS.length || runs.some((r) => r.state !== 'running')) return false;
      const details = await Promise.all(runs.map((r) => d.api<{ steps: { state: string }[] }>(`/api/runs/${r.id}`)));
      return details.every((x) => x.steps[0]?.state === 'running');
    },
    { timeoutMs: 20_000 },
  );
}

/** After the outage: every run ended (none left holding its key), one per target, and the next alert acts. */
async function assertRecovered(d: TestDaemon): Promise<void> {
  const runs = await until(
    'every stranded run ended, without a restart',
    async () => {
      const rs = await runsOf(d).catch(() => []);
      return rs.length === TARGETS.length && rs.every((r) => !['running', 'pending'].includes(r.state)) && rs;
    },
    { timeoutMs: 60_000, everyMs: 200 },
  );
  assert.deepEqual(runs.map((r) => r.labels['target']).sort(), [...TARGETS].sort(), 'one run per target: nothing doubled');
  await until('ready again', async () => (await ready(d)) === 200, { timeoutMs: 20_000 });
  // The key is free again: the next alert for a target runs, instead of "duplicate".
  assert.equal((await d.post(alert('alpha'))).status, 200);
  await d.settled();
  const again = (await runsOf(d)).filter((r) => r.labels['target'] === 'alpha');
  assert.equal(again.length, 2);
  assert.equal(again.find((r) => !runs.some((x) => x.id === r.id))?.state, 'succeeded');
}

describe('a store outage mid-run', { timeout: 180_000 }, () => {
  let daemon: TestDaemon | undefined;
  let cluster: PgCluster | undefined;
  let disk: SmallDisk | undefined;
  const dirs: string[] = [];
  after(async () => {
    await daemon?.close().catch(() => undefined);
    await cluster?.remove();
    for (const dir of dirs) removeDir(dir);
    await disk?.remove();
  });

  test('PostgreSQL stopped as a crash would, for 10 s while steps end: runs recovered when it is back', async (t) => {
    if (pgBinDir() === null) {
      if (process.env['CI'] !== undefined) throw new Error('CI is set and PostgreSQL is not installed (.ci/run installs it)');
      t.skip('skipped: no PostgreSQL binaries to start a cluster of our own');
      return;
    }
    cluster = await startPgCluster();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-outage-pg-'));
    dirs.push(dir);
    const gate = path.join(dir, 'gate');
    daemon = await daemonOn(dir, gate, { db: cluster.url });
    await startRuns(daemon);

    await cluster.crash();
    // The steps end while nothing can record it.
    writeFileSync(gate, '');
    await until('not ready while PostgreSQL is down', async () => (await ready(daemon as TestDaemon)) === 503, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await cluster.start();

    await assertRecovered(daemon);
    await daemon.close();
    daemon = undefined;
  });

  test('SQLite on a full disk while steps end: webhooks get 503, readiness says so, runs recovered once there is room', async (t) => {
    const mounted = await mountSmallDisk(16 * 1024 * 1024);
    if (typeof mounted === 'string') {
      t.skip(`skipped: ${mounted}`);
      console.log(`skipped: ${mounted}`);
      return;
    }
    disk = mounted;
    const gate = path.join(os.tmpdir(), `remediator-outage-gate-${process.pid}`);
    daemon = await daemonOn(disk.dir, gate, {});
    await startRuns(daemon);

    disk.fill();
    writeFileSync(gate, '');
    const refused = await daemon.post(alert('delta'));
    assert.equal(refused.status, 503, 'a webhook that cannot be stored is refused, retryably');
    assert.equal(await ready(daemon), 503, 'readiness says what the webhook found');
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    assert.equal(await ready(daemon), 503, 'still full: still not ready');
    disk.free();

    await assertRecovered(daemon);
    await daemon.close();
    daemon = undefined;
    removeDir(gate);
  });
});
