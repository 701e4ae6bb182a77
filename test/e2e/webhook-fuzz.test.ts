import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fuzzDaemon, storedBatches } from '../support/fuzz-run.js';
import { writePlaybooks } from '../support/fixtures.js';
import { removeDir, startTestDaemon, WEBHOOK_TOKEN } from '../support/test-daemon.js';

/**
 * A bounded fuzz run in every `npm test`: 20,000 mutated real Alertmanager payloads from one
 * seed (REMEDIATOR_FUZZ_SEED to try another; a failure names the seed and the index, so it can be
 * reproduced) against a real daemon on a real SQLite file. No request may get a 5xx; every 200
 * must be stored and, in the end, processed; memory stays bounded. `npm run bench` runs a longer one.
 */
const SEED = Number(process.env['REMEDIATOR_FUZZ_SEED'] ?? 20261129);
const COUNT = 20_000;

test(`20,000 mutated payloads (seed ${SEED}): no 5xx, every 200 stored and processed, memory bounded`, { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-fuzz-')); // A playbook that matches the captured alerts and spawns nothing: the run goes through decide, plan and record.

  const playbooks = writePlaybooks(dir, {
    note: "name: note\nmatch: { alertname: HighErrorRate }\nparams:\n  service: { from: labels.service, pattern: '[a-z]+' }\nsteps:\n  - notify: { text: 'burst on {{ params.service }}: {{ labels.n }}' }\n",
  });
  const daemon = await startTestDaemon({ dir, playbooks, config: { logLevel: 'warn', retention: { enabled: false } } });
  try {
    const result = await fuzzDaemon(daemon.url, WEBHOOK_TOKEN, { seed: SEED, count: COUNT, concurrency: 16 });
    await daemon.settled();
    const where = `seed ${SEED}`;
    assert.equal(result.sent, COUNT);
    assert.deepEqual(result.broken.slice(0, 5), [], `${where}: ${result.broken.length} broken answer(s)`);
    const { ids, unprocessed } = storedBatches(daemon.db);
    const missing = result.stored.filter((id) => !ids.has(id));
    assert.deepEqual(missing, [], `${where}: every 200 is stored`);
    assert.equal(ids.size, result.stored.length, `${where}: nothing stored that was refused`);
    assert.equal(unprocessed, 0, `${where}: every stored batch processed`);
    assert.ok((result.statuses[200] ?? 0) > COUNT / 4, `${where}: the valid third is accepted (${JSON.stringify(result.statuses)})`);
    assert.ok((result.statuses[400] ?? 0) > COUNT / 4, `${where}: the broken ones are refused (${JSON.stringify(result.statuses)})`);
    assert.ok(result.peakRss < 700 * 2 ** 20, `${where}: peak RSS ${(result.peakRss / 2 ** 20).toFixed(0)} MiB (daemon and client in one process)`);
    console.log(
      `# fuzz seed ${SEED}: ${COUNT} payloads in ${result.ms} ms, ${JSON.stringify(result.statuses)}, peak RSS ${(result.peakRss / 2 ** 20).toFixed(0)} MiB`,
    );
  } finally {
    await daemon.close();
    removeDir(dir);
  }
});
