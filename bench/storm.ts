// An alert storm: 10,000 distinct alerts posted as 100 webhooks of 100 alerts at concurrency 4, in
// dry-run, one notify step. Three configurations (SQLite; PostgreSQL with one replica; PostgreSQL
// with two replicas that each receive every POST, as an Alertmanager HA pair sends), and the
// references they are compared with, measured in the same run: a hand-written transaction per
// alert (a unique run insert and one chained event) on each store, and an express no-op route.
// STORM_ALERTS and STORM_DEADLINE_S shrink it; a configuration not done by the deadline says so.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Registry } from 'prom-client';
import { startDaemon, type Daemon } from '../src/cli/serve.js';
import { configSchema } from '../src/config/config-schema.js';
import { silentLogger } from '../src/observability/logger.js';
import { expressNoop } from './express-noop.js';

const TOKEN = 'bench-token-0000000000';
const ALERTS = Number(process.env['STORM_ALERTS'] ?? 10_000);
const PER_WEBHOOK = 100;
const WEBHOOKS = Math.ceil(ALERTS / PER_WEBHOOK);
const CONCURRENCY = 4;
const DEADLINE_MS = Number(process.env['STORM_DEADLINE_S'] ?? 120) * 1000;
const pgUrl = process.env['REMEDIATOR_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

const template = JSON.parse(readFileSync(path.join('test', 'fixtures', 'alertmanager', 'amtool-firing.json'), 'utf8')) as {
  alerts: Record<string, unknown>[];
  groupKey: string;
};

function webhookBody(w: number): unknown {
  const body = structuredClone(template) as Record<string, unknown> & { alerts: Record<string, unknown>[] };
  const one = body.alerts[0] as Record<string, unknown>;
  body.groupKey = `{}:{storm="${w}"}`;
  body.alerts = Array.from({ length: PER_WEBHOOK }, (_, j) => {
    const n = w * PER_WEBHOOK + j;
    return {
      ...one,
      labels: { ...(one['labels'] as Record<string, string>), alertname: 'HighErrorRate', service: 'api', pod: `pod-${n}` },
      fingerprint: n.toString(16).padStart(16, '0'),
    };
  });
  return body;
}

// Round trips to PostgreSQL: every query a client sends, counted here (the stores use pg's Client).
let roundTrips = 0;
// eslint-disable-next-line @typescript-eslint/unbound-method -- called with its client as this
const clientQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  roundTrips++;
  return (clientQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof clientQuery;

function writtenBytes(): number {
  const io = readFileSync('/proc/self/io', 'utf8');
  return Number(/write_bytes: (\d+)/.exec(io)?.[1] ?? 0);
}

const pct = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))] ?? 0;

interface Row {
  readonly config: string;
  readonly answeredMs: number;
  readonly decidedMs: number | null;
  readonly decided: number;
  readonly postP99: number;
  readonly healthyMax: number;
  readonly perAlert: string;
  readonly floorPerS: number;
}

async function startOne(dir: string, db: string, name: string): Promise<Daemon> {
  const playbooks = path.join(dir, 'playbooks');
  mkdirSync(playbooks, { recursive: true });
  writeFileSync(
    path.join(playbooks, 'note.yaml'),
    "name: note\nmatch: { alertname: HighErrorRate }\nparams:\n  pod: { from: labels.pod, pattern: '[a-z0-9-]+' }\nsteps:\n  - notify: { text: 'storm on {{ params.pod }}' }\n",
  );
  return startDaemon(
    configSchema.parse({
      listen: '127.0.0.1:0',
      playbooks,
      db,
      execution: 'dry-run',
      logLevel: 'error',
      replicaName: name,
      retention: { enabled: false },
    }),
    { webhookTokens: [TOKEN], webhookBasic: [], apiTokens: [{ identity: 'b', token: 'bench-api-token-000000' }], notices: [] },
    silentLogger(),
    { registry: new Registry() },
  );
}

/** Posts the storm to every daemon (each gets every webhook), timing answers and /-/healthy. */
async function storm(
  config: string,
  daemons: Daemon[],
  pending: () => Promise<number>,
  counted: () => Promise<number>,
  perAlert: (decided: number) => string,
  floorPerS: number,
): Promise<Row> {
  const latencies: number[] = [];
  let healthyMax = 0;
  let stormOver = false;
  const healthy = (async () => {
    while (!stormOver) {
      const t0 = performance.now();
      const res = await fetch(`${daemons[0]!.url}/-/healthy`);
      await res.arrayBuffer();
      healthyMax = Math.max(healthyMax, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < WEBHOOKS) {
        const body = JSON.stringify(webhookBody(next++));
        await Promise.all(
          daemons.map(async (d) => {
            const t0 = performance.now();
            const res = await fetch(`${d.url}/webhook`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
              body,
            });
            await res.arrayBuffer();
            if (res.status !== 200) throw new Error(`status ${res.status}`);
            latencies.push(performance.now() - t0);
          }),
        );
      }
    }),
  );
  const answeredMs = performance.now() - start;
  let decidedMs: number | null = null;
  while (performance.now() - start < DEADLINE_MS) {
    if ((await pending()) === 0) {
      decidedMs = performance.now() - start;
      break;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  stormOver = true;
  await healthy;
  const decided = await counted();
  return { config, answeredMs, decidedMs, decided, postP99: pct(latencies, 0.99), healthyMax, perAlert: perAlert(decided), floorPerS };
}

/** The SQLite floor: one durable transaction per alert, a unique run insert and one chained event. */
function sqliteFloor(dir: string, n: number): number {
  const db = new Database(path.join(dir, 'floor.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE runs (id TEXT PRIMARY KEY, instance_key TEXT NOT NULL UNIQUE, data TEXT NOT NULL)');
  db.exec('CREATE TABLE events (id INTEGER PRIMARY KEY, run_id TEXT, kind TEXT, data TEXT, prev_hash TEXT, hash TEXT)');
  const run = db.prepare('INSERT INTO runs (id, instance_key, data) VALUES (?, ?, ?)');
  const event = db.prepare('INSERT INTO events (run_id, kind, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?)');
  let prev = '0'.repeat(64);
  const one = db.transaction((i: number) => {
    const id = `r${i}`;
    run.run(id, `${i}@x`, JSON.stringify({ pod: `pod-${i}` }));
    const data = JSON.stringify({ action: 'run', pod: `pod-${i}` });
    const hash = createHash('sha256').update(prev).update(data).digest('hex');
    event.run(id, 'run.created', data, prev, hash);
    prev = hash;
  });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) one(i);
  const ms = performance.now() - t0;
  db.close();
  return (n / ms) * 1000;
}

/** The PostgreSQL floor: the same, one transaction (BEGIN, two inserts, COMMIT) per alert. */
async function pgFloor(client: pg.Client, n: number): Promise<number> {
  const schema = `remediator_floor_${randomBytes(4).toString('hex')}`;
  await client.query(`CREATE SCHEMA ${schema}`);
  try {
    await client.query(`CREATE TABLE ${schema}.runs (id TEXT PRIMARY KEY, instance_key TEXT NOT NULL UNIQUE, data JSONB NOT NULL)`);
    await client.query(`CREATE TABLE ${schema}.events (id BIGSERIAL PRIMARY KEY, run_id TEXT, kind TEXT, data JSONB, prev_hash TEXT, hash TEXT)`);
    let prev = '0'.repeat(64);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const id = `r${i}`;
      const data = JSON.stringify({ action: 'run', pod: `pod-${i}` });
      const hash = createHash('sha256').update(prev).update(data).digest('hex');
      await client.query('BEGIN');
      await client.query({
        name: `fr-${schema}`,
        text: `INSERT INTO ${schema}.runs (id, instance_key, data) VALUES ($1, $2, $3)`,
        values: [id, `${i}@x`, data],
      });
      await client.query({
        name: `fe-${schema}`,
        text: `INSERT INTO ${schema}.events (run_id, kind, data, prev_hash, hash) VALUES ($1, $2, $3, $4, $5)`,
        values: [id, 'run.created', data, prev, hash],
      });
      await client.query('COMMIT');
      prev = hash;
    }
    return (n / (performance.now() - t0)) * 1000;
  } finally {
    await client.query(`DROP SCHEMA ${schema} CASCADE`);
  }
}

const rows: Row[] = [];
const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-storm-'));
const expressPerS = await expressNoop(JSON.stringify(webhookBody(0)), WEBHOOKS * 3, CONCURRENCY);
const sqliteFloorPerS = sqliteFloor(dir, 5000);

if (process.env['STORM_SKIP_SQLITE'] === undefined) {
  const db = path.join(dir, 'storm.db');
  const daemon = await startOne(dir, db, 'sqlite');
  const reader = new Database(db, { readonly: true });
  const before = writtenBytes();
  rows.push(
    await storm(
      'SQLite',
      [daemon],
      () => Promise.resolve((reader.prepare('SELECT COUNT(*) AS n FROM batches WHERE processed_at IS NULL').get() as { n: number }).n),
      () => Promise.resolve((reader.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n),
      (decided) => `${((writtenBytes() - before) / Math.max(decided, 1) / 1024).toFixed(1)} KiB written`,
      sqliteFloorPerS,
    ),
  );
  reader.close();
  await daemon.close();
}

const admin = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 });
admin.on('error', () => undefined);
let pgUp = process.env['STORM_SKIP_PG'] === undefined;
let pgFloorPerS = 0;
try {
  if (pgUp) await admin.connect();
} catch (err) {
  pgUp = false;
  console.log(`storm (PostgreSQL): skipped, no PostgreSQL at the test URL (${(err as Error).message})`);
}
if (pgUp) {
  pgFloorPerS = await pgFloor(admin, 1000);
  for (const replicas of [1, 2]) {
    const schema = `remediator_storm_${randomBytes(4).toString('hex')}`;
    const daemons: Daemon[] = [];
    try {
      for (let r = 0; r < replicas; r++) daemons.push(await startOne(dir, `${pgUrl}?schema=${schema}`, `replica-${r}`));
      const before = roundTrips;
      rows.push(
        await storm(
          `PostgreSQL, ${replicas} replica${replicas > 1 ? 's' : ''}`,
          daemons,
          async () => Number((await admin.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${schema}.batches WHERE processed_at IS NULL`)).rows[0]?.n),
          async () => Number((await admin.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${schema}.runs`)).rows[0]?.n),
          (decided) => `${((roundTrips - before) / Math.max(decided, 1)).toFixed(1)} round trips`,
          pgFloorPerS,
        ),
      );
    } finally {
      await Promise.all(daemons.map((d) => d.close()));
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  }
}
await admin.end();
rmSync(dir, { recursive: true, force: true });

const s = (ms: number) => (ms / 1000).toFixed(2);
console.log(`storm: ${ALERTS} alerts as ${WEBHOOKS} webhooks of ${PER_WEBHOOK}, concurrency ${CONCURRENCY}, dry-run, one notify step`);
console.log(
  `  express 5 no-op route: ${expressPerS.toFixed(0)} req/s; per-alert transaction floor: SQLite ${sqliteFloorPerS.toFixed(0)}/s, PostgreSQL ${pgFloorPerS.toFixed(0)}/s`,
);
console.log('  | store | answered s (ratio to express) | decided s | alerts/s (ratio to floor) | POST p99 ms | /-/healthy max ms | per alert |');
for (const r of rows) {
  // Not done by the deadline: the rate of what was decided by then (runs created).
  const rate = r.decidedMs === null ? (r.decided / DEADLINE_MS) * 1000 : (ALERTS / r.decidedMs) * 1000;
  const answeredRatio = ((WEBHOOKS / r.answeredMs) * 1000) / expressPerS;
  console.log(
    `  | ${r.config} | ${s(r.answeredMs)} (${answeredRatio.toFixed(2)}) | ${r.decidedMs === null ? `not done after ${s(DEADLINE_MS)} (${r.decided} runs)` : s(r.decidedMs)} | ` +
      `${rate.toFixed(0)} (${(rate / r.floorPerS).toFixed(3)} of ${r.floorPerS.toFixed(0)}/s) | ${r.postP99.toFixed(1)} | ${r.healthyMax.toFixed(1)} | ${r.perAlert} |`,
  );
}
