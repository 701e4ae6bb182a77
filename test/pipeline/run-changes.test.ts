import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { Notification } from '../../src/domain/notifier.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { RunChanges } from '../../src/pipeline/run-changes.js';
import { SqliteStore } from '../../src/record/sqlite/sqlite-store.js';
import { contractRun, contractStep } from '../record/store-contract.js';

const quiet = createLogger('error', new Writable({ write: (_c, _e, done) => done() }));

test('a run interrupted outside an executor is counted and announced, naming the step that may still be running', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-changes-'));
  const store = SqliteStore.open(path.join(dir, 'r.db'));
  try {
    const metrics = createMetrics(new Registry());
    const told: Notification[] = [];
    const changes = new RunChanges({ store, metrics, logger: quiet, announce: (_run, n) => Promise.resolve(void told.push(n)) });
    const watched: string[] = [];
    changes.watch((id) => watched.push(id));

    const run = contractRun({ dryRun: false, reason: 'playbook mode is live' });
    await store.createRun(run, [contractStep, { ...contractStep, index: 1, name: 'verify' }], []);
    await store.transitionRun(run.id, { from: ['pending'], to: 'running', at: '2026-11-28T21:13:01.000Z' });
    await store.transitionRun(run.id, {
      from: ['running'],
      to: 'running',
      at: '2026-11-28T21:13:02.000Z',
      steps: [{ phase: 'main', index: 0, state: 'running' }],
    });
    const ids = await store.interruptRunning('2026-11-28T21:20:00.000Z', 'the daemon restarted while the run was running; its steps were not re-executed');
    assert.deepEqual(ids, [run.id]);

    changes.endedElsewhere(ids, 'interrupted');
    await changes.idle();
    assert.deepEqual(watched, [run.id]);
    assert.deepEqual(told, [
      {
        kind: 'run.finished',
        text: `rollback for ServiceUpgradeErrorBurst (shop/checkout) interrupted: the daemon restarted while the run was running; its steps were not re-executed; step 1 undo was running: its command may still be running, or may have done its work [run ${run.id}]`,
        runId: run.id,
        playbook: 'rollback',
        data: { state: 'interrupted', dryRun: false },
      },
    ]);
    assert.match(await metrics.registry.metrics(), /remediator_runs_total\{playbook="rollback",outcome="interrupted",mode="live"\} 1/);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
