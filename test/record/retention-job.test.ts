import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../src/observability/logger.js';
import { RetentionJob } from '../../src/record/retention-job.js';
import { verifyStoreChain } from '../../src/record/audit-verify.js';
import { SqliteStore } from '../../src/record/sqlite/sqlite-store.js';
import { runCli } from '../support/cli.js';
import { until } from '../support/until.js';

const NOW = new Date('2026-11-29T03:17:00.000Z');

test('retention runs on its cron schedule, removes what is older than keep in chunks, and the trail still verifies', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-retention-'));
  const db = path.join(dir, 'r.db');
  const store = SqliteStore.open(db, () => NOW);
  const logs: string[] = [];
  const logger = createLogger('info', new Writable({ write: (c: Buffer, _e, done) => void (logs.push(c.toString()), done()) }));
  try {
    // 120 days of one event a day, the newest yesterday.
    for (let d = 120; d >= 1; d--) await store.appendEvents([{ kind: 'auth.failed', at: new Date(NOW.getTime() - d * 86_400_000).toISOString(), data: { d } }]);
    // Every second, for the test; chunks of 7 so a pass takes several.
    const job = new RetentionJob({ store, keepMs: 90 * 86_400_000, schedule: '* * * * * *', clock: () => NOW, logger, chunk: 7 });
    job.start();
    const removed = await until('a retention pass', () => logs.find((l) => l.includes('retention: removed')), { timeoutMs: 5000 }).finally(() => job.stop());
    const line = JSON.parse(removed) as Record<string, unknown>;
    assert.equal(line['events'], 30, 'the 30 days beyond 90');
    assert.equal(line['before'], '2026-08-31T03:17:00.000Z');
    const left = (await store.listEvents({ limit: 1000 })).filter((e) => e.kind === 'auth.failed').map((e) => e.data['d']);
    assert.deepEqual([left.length, left[0]], [90, 90]);
    assert.equal((await verifyStoreChain(store)).problem, null);
    // A second pass finds nothing and records nothing.
    const again = await job.runNow();
    assert.deepEqual([again.events, again.runs, again.batches], [0, 0, 0]);
  } finally {
    await store.close();
  }
  // The auditor's tools agree: verify passes, and an export verifies on its own.
  const verify = await runCli(['audit', 'verify', '--db', db]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  const out = path.join(dir, 'export.jsonl');
  assert.equal((await runCli(['audit', 'export', '--db', db, '--out', out])).code, 0);
  const fromFile = await runCli(['audit', 'verify', '--file', out]);
  assert.equal(fromFile.code, 0, fromFile.stdout + fromFile.stderr);
  rmSync(dir, { recursive: true, force: true });
});
