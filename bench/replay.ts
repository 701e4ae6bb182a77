// Replay of a recorded history: 100,000 recorded alerts (25,000 webhook batches of 4 alerts over
// a week, each group sent three times and then resolved, across the example playbooks and alerts
// nothing matches) replayed through the example playbooks from a real SQLite file. The reference,
// in the same run: the same batches through the pipeline alone (processBatch on a sandbox, no
// reading of the history, no comparison), i.e. what the daemon's own deciding costs.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import type { DecideSettings } from '../src/domain/decision.js';
import { silentLogger } from '../src/observability/logger.js';
import { createMetrics } from '../src/observability/metrics.js';
import { processBatch } from '../src/pipeline/process-batch.js';
import { loadPlaybooks } from '../src/playbook/loader.js';
import { PlaybookSet } from '../src/playbook/playbook-set.js';
import { endRun } from '../src/prove/end-run.js';
import { replay } from '../src/prove/replay.js';
import { Sandbox } from '../src/prove/sandbox.js';
import { SqliteHistoryReader } from '../src/record/sqlite/history-reader.js';
import { SqliteStore } from '../src/record/sqlite/sqlite-store.js';

const BATCHES = 25_000;
const PER_BATCH = 4;
const START = Date.parse('2026-11-01T00:00:00Z');
const WEEK = 7 * 86_400_000;
const settings: DecideSettings = { execution: 'live', budget: { count: 1000, perMs: 3_600_000 }, maintenance: [] };

const loaded = await loadPlaybooks('playbooks');
if (loaded.errors.length > 0) throw new Error(JSON.stringify(loaded.errors));
const playbooks = loaded.playbooks;

const ALERTS: readonly [string, Record<string, string>][] = [
  ['ServiceUpgradeErrorBurst', { severity: 'critical' }],
  ['DeploymentSaturated', {}],
  ['CanaryErrorBurst', { severity: 'page' }],
  ['FeatureErrorBurst', {}],
  ['PodStuck', { remediation: 'restart-pod' }],
  ['NodeDiskPressure', { severity: 'warning' }],
];

/** The batches of the history: a group's firing, two re-sends five minutes apart, then its resolve. */
function batches(): { receivedAt: Date; payload: unknown }[] {
  const out: { receivedAt: Date; payload: unknown }[] = [];
  const groups = BATCHES / 4;
  for (let g = 0; g < groups; g++) {
    const [alertname, extra] = ALERTS[g % ALERTS.length] as [string, Record<string, string>];
    const deployment = `svc-${g % 700}`;
    const first = START + Math.floor((g / groups) * WEEK);
    const startsAt = new Date(first - 60_000).toISOString();
    for (let d = 0; d < 4; d++) {
      const resolved = d === 3;
      const alerts = Array.from({ length: PER_BATCH }, (_, p) => {
        const labels = { alertname, namespace: 'shop', deployment, service: deployment, feature: deployment, pod: `${deployment}-${p}`, ...extra };
        return {
          status: resolved ? 'resolved' : 'firing',
          labels,
          annotations: { summary: 'bench' },
          startsAt,
          endsAt: resolved ? new Date(first + d * 300_000).toISOString() : '0001-01-01T00:00:00Z',
          fingerprint: `${g.toString(16).padStart(8, '0')}${p}`,
        };
      });
      out.push({
        receivedAt: new Date(first + d * 300_000),
        payload: { version: '4', receiver: 'remediator', status: resolved ? 'resolved' : 'firing', groupKey: `{}:${g}`, alerts },
      });
    }
  }
  return out.sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
}

const history = batches();
const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-bench-replay-'));
const file = path.join(dir, 'recorded.db');

// The recorded history: the pipeline on a real SQLite file, its runs ended at once through the store.
{
  let now = START;
  const store = SqliteStore.open(file, () => new Date(now));
  const set = new PlaybookSet(playbooks, new Date(START));
  const metrics = createMetrics(new Registry());
  const t0 = performance.now();
  for (let i = 0; i < history.length; i += 500) {
    const page = history.slice(i, i + 500);
    const ids = await Promise.all(
      page.map((b) =>
        store.saveBatch({
          receivedAt: b.receivedAt,
          receiver: 'remediator',
          status: 'firing',
          groupKey: '',
          alertCount: PER_BATCH,
          payload: b.payload,
          source: {},
        }),
      ),
    );
    for (const [j, b] of page.entries()) {
      now = b.receivedAt.getTime();
      const created: { id: string; dryRun: boolean; playbook: string }[] = [];
      await processBatch(
        { id: ids[j] as string, receivedAt: b.receivedAt, payload: b.payload },
        {
          store,
          playbooks: set,
          settings,
          clock: () => new Date(now),
          logger: silentLogger(),
          metrics,
          onRunCreated: (run) => created.push({ id: run.id, dryRun: run.dryRun, playbook: run.playbook }),
        },
      );
      for (const run of created) {
        const detail = await store.getRun(run.id);
        await endRun(
          store,
          run,
          set.byName(run.playbook) ?? (playbooks[0] as (typeof playbooks)[number]),
          detail?.steps ?? [],
          { state: 'succeeded' },
          new Date(now),
        );
      }
    }
  }
  await store.close();
  console.log(`replay: recorded ${history.length} batches (${history.length * PER_BATCH} alerts) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

// The reference: the same batches through the pipeline alone, on a sandbox.
const ref0 = performance.now();
{
  const sandbox = Sandbox.open(playbooks, settings, new Date(START));
  for (let i = 0; i < history.length; i += 200) {
    const page = history.slice(i, i + 200);
    const ids = await sandbox.storeBatches(page);
    for (const [j, b] of page.entries()) {
      sandbox.setTime(b.receivedAt);
      await sandbox.process({ id: ids[j] as string, receivedAt: b.receivedAt, payload: b.payload });
    }
  }
  await sandbox.close();
}
const referenceMs = performance.now() - ref0;

// The replay: read from the file, replayed, compared.
const rep0 = performance.now();
const reader = SqliteHistoryReader.open(file);
const result = await replay(reader, { playbooks, settings, since: null, until: new Date(START + WEEK + 86_400_000) });
await reader.close();
const replayMs = performance.now() - rep0;
rmSync(dir, { recursive: true, force: true });

const alerts = result.alerts;
console.log(
  `replay: ${alerts} recorded alerts (${result.batches} batches) replayed and compared in ${(replayMs / 1000).toFixed(1)} s = ${((alerts / replayMs) * 1000).toFixed(0)} alerts/s, ` +
    `${result.changes.length} change(s); reference, the pipeline alone over the same batches: ${(referenceMs / 1000).toFixed(1)} s; ratio ${(replayMs / referenceMs).toFixed(2)}`,
);
if (result.changes.length !== 0)
  throw new Error(`an unchanged playbook set replayed with ${result.changes.length} change(s): ${JSON.stringify(result.changes.slice(0, 3))}`);
