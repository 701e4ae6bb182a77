// The longer fuzz run: REMEDIATOR_FUZZ_COUNT (default 100,000) mutated real payloads from
// REMEDIATOR_FUZZ_SEED against a real daemon on a real SQLite file, over loopback, with the same
// checks as the bounded one in npm test (no 5xx, every 200 stored and processed). The reference,
// measured in the same run on a fresh daemon, is valid payloads only; the ratio says what the
// hostile mix costs per request, and the peak RSS what it costs in memory.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { startDaemon, type Daemon } from '../src/cli/serve.js';
import { configSchema } from '../src/config/config-schema.js';
import { silentLogger } from '../src/observability/logger.js';
import { writePlaybooks } from '../test/support/fixtures.js';
import { fuzzDaemon, storedBatches } from '../test/support/fuzz-run.js';
import { realPayloads } from '../test/support/fuzz-payloads.js';

const TOKEN = 'bench-token-0000000000';
const SEED = Number(process.env['REMEDIATOR_FUZZ_SEED'] ?? 20261129);
const COUNT = Number(process.env['REMEDIATOR_FUZZ_COUNT'] ?? 100_000);
const REFERENCE = 10_000;
const CONCURRENCY = 16;

async function daemonIn(dir: string): Promise<Daemon> {
  const playbooks = writePlaybooks(dir, {
    note: "name: note\nmatch: { alertname: HighErrorRate }\nparams:\n  service: { from: labels.service, pattern: '[a-z]+' }\nsteps:\n  - notify: { text: 'burst on {{ params.service }}' }\n",
  });
  return startDaemon(
    configSchema.parse({ listen: '127.0.0.1:0', playbooks, db: path.join(dir, 'r.db'), logLevel: 'error', retention: { enabled: false } }),
    { webhookTokens: [TOKEN], webhookBasic: [], apiTokens: [{ identity: 'b', token: 'bench-api-token-000000' }], notices: [] },
    silentLogger(),
    { registry: new Registry() },
  );
}

/** Valid payloads only, a new fingerprint each: ms per request, answered and processed. */
async function reference(): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-bench-fuzz-'));
  const daemon = await daemonIn(dir);
  const base = realPayloads();
  let next = 0;
  const start = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REFERENCE) {
        const i = next++;
        const body = structuredClone(base[i % base.length]) as { alerts: { fingerprint: string }[] };
        (body.alerts[0] as { fingerprint: string }).fingerprint = i.toString(16).padStart(16, '0');
        const res = await fetch(`${daemon.url}/webhook`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify(body),
        });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`reference: status ${res.status}`);
      }
    }),
  );
  await daemon.settled();
  const ms = Date.now() - start;
  await daemon.close();
  rmSync(dir, { recursive: true, force: true });
  return ms / REFERENCE;
}

const perValid = await reference();
const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-bench-fuzz-'));
const daemon = await daemonIn(dir);
const start = Date.now();
const result = await fuzzDaemon(daemon.url, TOKEN, { seed: SEED, count: COUNT, concurrency: CONCURRENCY });
await daemon.settled();
const perFuzz = (Date.now() - start) / COUNT;
const { ids, unprocessed } = storedBatches(path.join(dir, 'r.db'));
const missing = result.stored.filter((id) => !ids.has(id)).length;
await daemon.close();
rmSync(dir, { recursive: true, force: true });
console.log(
  `fuzz (seed ${SEED}): ${COUNT} mutated payloads, ${JSON.stringify(result.statuses)}: ${result.broken.length} broken answers, ${missing} accepted but not stored, ` +
    `${unprocessed} unprocessed; ${perFuzz.toFixed(3)} ms per request answered and processed vs ${perValid.toFixed(3)} ms for valid payloads only ` +
    `(ratio ${(perFuzz / perValid).toFixed(2)}); peak RSS ${(result.peakRss / 2 ** 20).toFixed(0)} MiB (daemon and client in one process)`,
);
if (result.broken.length > 0 || missing > 0 || unprocessed > 0) {
  console.log(JSON.stringify(result.broken.slice(0, 5), null, 2));
  process.exit(1);
}
