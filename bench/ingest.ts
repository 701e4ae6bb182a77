// Webhook ingest: authenticated, validated, committed, answered, then processed into dry-run
// runs. Real HTTP on loopback, a real SQLite file and, when one answers, a real PostgreSQL schema
// (REMEDIATOR_TEST_PG_URL, default the local one), bounded count. At concurrency 16 and 64, each
// beside an express no-op route posted the same body at the same concurrency: the intake ratio is
// the webhook route's answers a second over the no-op's.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { Registry } from 'prom-client';
import { startDaemon } from '../src/cli/serve.js';
import { configSchema } from '../src/config/config-schema.js';
import { silentLogger } from '../src/observability/logger.js';
import { expressNoop } from './express-noop.js';

const TOKEN = 'bench-token-0000000000';
const N = 2000;
const CONCURRENCIES = [16, 64];
const template = JSON.parse(readFileSync(path.join('test', 'fixtures', 'alertmanager', 'amtool-firing.json'), 'utf8')) as {
  alerts: { fingerprint: string }[];
};

/** One body as the daemon gets it, its fingerprint the i-th. */
function webhookBody(i: number): string {
  const body = structuredClone(template);
  (body.alerts[0] as { fingerprint: string }).fingerprint = i.toString(16).padStart(16, '0');
  return JSON.stringify(body);
}

/** Posts N webhooks at `concurrency` and logs the figures, with the ratio to the no-op route. */
async function ingest(label: string, db: (dir: string) => string, concurrency: number, noopPerS: number): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-bench-'));
  // A playbook that spawns nothing: this measures receive, match, decide and record, not process start-up.
  const playbooks = path.join(dir, 'playbooks');
  mkdirSync(playbooks);
  writeFileSync(
    path.join(playbooks, 'note.yaml'),
    "name: note\nmatch: { alertname: HighErrorRate }\nparams:\n  service: { from: labels.service, pattern: '[a-z]+' }\nsteps:\n  - notify: { text: 'burst on {{ params.service }}' }\n",
  );
  const daemon = await startDaemon(
    configSchema.parse({ listen: '127.0.0.1:0', playbooks, db: db(dir), logLevel: 'error', retention: { enabled: false } }),
    { webhookTokens: [TOKEN], webhookBasic: [], apiTokens: [{ identity: 'b', token: 'bench-api-token-000000' }], notices: [] },
    silentLogger(),
    { registry: new Registry() },
  );
  let next = 0;
  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < N) {
        const body = webhookBody(next++);
        const t0 = performance.now();
        const res = await fetch(`${daemon.url}/webhook`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body,
        });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`status ${res.status}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const answered = performance.now() - start;
  await daemon.settled();
  const processed = performance.now() - start;
  latencies.sort((a, b) => a - b);
  const p = (q: number) => (latencies[Math.floor(q * (latencies.length - 1))] ?? 0).toFixed(2);
  const perS = (N / answered) * 1000;
  console.log(
    `ingest (${label}): ${N} webhooks, concurrency ${concurrency}: answered in ${answered.toFixed(0)} ms = ${perS.toFixed(0)}/s ` +
      `(${(perS / noopPerS).toFixed(2)} of the express no-op's ${noopPerS.toFixed(0)}/s; p50 ${p(0.5)} ms, p99 ${p(0.99)} ms); ` +
      `all processed into runs after ${processed.toFixed(0)} ms; rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
  );
  await daemon.close();
  rmSync(dir, { recursive: true, force: true });
}

const noop = new Map<number, number>();
for (const c of CONCURRENCIES) {
  noop.set(c, await expressNoop(webhookBody(0), N, c));
  await ingest('SQLite, synchronous=FULL', (dir) => path.join(dir, 'r.db'), c, noop.get(c) as number);
}

const pgUrl = process.env['REMEDIATOR_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const admin = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 });
admin.on('error', () => undefined);
try {
  await admin.connect();
} catch (err) {
  console.log(`ingest (PostgreSQL): skipped, no PostgreSQL at the test URL (${(err as Error).message})`);
  process.exit(0);
}
try {
  for (const c of CONCURRENCIES) {
    const schema = `remediator_bench_${randomBytes(4).toString('hex')}`;
    try {
      await ingest('PostgreSQL, synchronous_commit on', () => `${pgUrl}?schema=${schema}`, c, noop.get(c) as number);
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  }
} finally {
  await admin.end();
}
