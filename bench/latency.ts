// Webhook received → first step spawned, in live mode: how long an alert waits before the
// remediation begins. Real HTTP on loopback, a real SQLite file, a real child process per run.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { startDaemon } from '../src/cli/serve.js';
import { configSchema } from '../src/config/config-schema.js';
import { silentLogger } from '../src/observability/logger.js';

const TOKEN = 'bench-token-0000000000';
const N = 200;
const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-latency-'));
const playbooks = path.join(dir, 'playbooks');
mkdirSync(playbooks);
writeFileSync(
  path.join(playbooks, 'act.yaml'),
  `name: act\nmatch: { alertname: LatencyBench }\nmode: live\nsteps:\n  - name: act\n    run: [${process.execPath}, -e, '0']\n`,
);
const db = path.join(dir, 'r.db');
const daemon = await startDaemon(
  configSchema.parse({ listen: '127.0.0.1:0', playbooks, db, execution: 'live', guards: { budget: { count: 1_000_000, per: '1h' } } }),
  { webhookTokens: [TOKEN], webhookBasic: [], apiTokens: [{ identity: 'b', token: 'bench-api-token-000000' }], notices: [] },
  silentLogger(),
  { registry: new Registry() },
);
const template = JSON.parse(readFileSync(path.join('test', 'fixtures', 'alertmanager', 'amtool-firing.json'), 'utf8')) as { alerts: Record<string, unknown>[] };
const answered: number[] = [];
for (let i = 0; i < N; i++) {
  const body = structuredClone(template);
  const alert = body.alerts[0] as Record<string, unknown>;
  alert['labels'] = { alertname: 'LatencyBench', n: String(i) };
  alert['fingerprint'] = i.toString(16).padStart(16, '0');
  const t0 = performance.now();
  const res = await fetch(`${daemon.url}/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  answered.push(performance.now() - t0);
  await daemon.settled();
}
await daemon.close();

// The daemon's own record: batch stored → step started (written just before the spawn).
const store = new Database(db, { readonly: true });
const rows = store
  .prepare(
    `SELECT (julianday(s.at) - julianday(b.at)) * 86400000.0 AS ms
       FROM events s JOIN runs r ON r.id = s.run_id JOIN events b ON b.batch_id = r.batch_id AND b.kind = 'batch.received'
      WHERE s.kind = 'step.started'`,
  )
  .all() as { ms: number }[];
store.close();
const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]?.toFixed(1) ?? '?';
const spawn = rows.map((r) => r.ms);
console.log(
  `latency (live, SQLite): ${N} alerts one at a time: webhook answered p50 ${pct(answered, 0.5)} ms, p99 ${pct(answered, 0.99)} ms; ` +
    `received → first step spawned p50 ${pct(spawn, 0.5)} ms, p99 ${pct(spawn, 0.99)} ms (${spawn.length} runs)`,
);
rmSync(dir, { recursive: true, force: true });
