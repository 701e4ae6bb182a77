// Listing runs and audit events at a million rows: GET /api/runs and GET /api/audit with their
// filters and deep cursor pages, through the store and through the real HTTP API of a daemon
// opened on the same SQLite file. Prints p50/p99 per query, the query plan of every query that
// scans a table without an index or sorts, the database size and how long building it took.
//
//   npx tsx bench/listing.ts [--rows 1000000] [--events N] [--repeat 100] [--db FILE] [--sql "CREATE INDEX …"]
//
// --rows (or BENCH_ROWS): runs to create; events default to 1.25 × rows. --repeat: calls per
// query. --db keeps the database in FILE and reuses it when it exists (no rebuild; the daemon
// started on it has marked its running runs interrupted and cancelled its pending ones). --sql
// runs SQL on the database before measuring (repeatable): try a candidate index and compare.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { startDaemon } from '../src/cli/serve.js';
import { configSchema } from '../src/config/config-schema.js';
import { hashCanonical } from '../src/domain/audit-chain.js';
import { canonicalJson } from '../src/domain/canonical-json.js';
import type { EventKind, RunState } from '../src/domain/run.js';
import type { EventQuery, RunQuery } from '../src/domain/store.js';
import { silentLogger } from '../src/observability/logger.js';
import { encodeCursor, encodeEventCursor } from '../src/record/cursor.js';
import { SqliteStore } from '../src/record/sqlite/sqlite-store.js';
import { TEST_PLAYBOOKS } from '../test/support/fixtures.js';
import { prng } from '../test/support/prng.js';

const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string', default: process.env['BENCH_ROWS'] ?? '1000000' },
    events: { type: 'string' },
    repeat: { type: 'string', default: '100' },
    db: { type: 'string' },
    sql: { type: 'string', multiple: true, default: [] },
  },
});
const RUNS = Math.round(Number(flags.rows));
const EVENTS = Math.round(Number(flags.events ?? RUNS * 1.25));
const REPEAT = Number(flags.repeat);
/** A query slower than this is given at most this long (and at least 5 calls). */
const BUDGET_MS = 1500;
const SLOW_P99_MS = 50;
const API_TOKEN = 'bench-api-token-0000000000';
const DAY = 86_400_000;
if (!(RUNS >= 1000) || !(EVENTS >= 1000) || !(REPEAT >= 1)) throw new Error('--rows and --events must be at least 1000, --repeat at least 1');

const started = performance.now();
const tmp = flags.db ? null : mkdtempSync(path.join(os.tmpdir(), 'remediator-bench-listing-'));
const file = flags.db ? path.resolve(flags.db) : path.join(tmp as string, 'r.db');

// ---------------------------------------------------------------------------------------------
// Building the database: the schema from SqliteStore.open, rows written by better-sqlite3 in big
// transactions (journal off while building), events chained exactly as the store chains them.

// A seeded PRNG: the same database for the same flags.
const random = prng(20261128);
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** An id shaped like src/record/ids.ts's (prefix, 10 chars of time, 16 random): sorts by time. */
function idAt(prefix: string, ms: number): string {
  let time = ms;
  let head = '';
  for (let i = 0; i < 10; i++) {
    head = (CROCKFORD[time % 32] as string) + head;
    time = Math.floor(time / 32);
  }
  let tail = '';
  for (let i = 0; i < 16; i++) tail += CROCKFORD[Math.floor(random() * 32)];
  return `${prefix}_${head}${tail}`;
}
/** Picks from weighted choices. */
function weighted<T>(choices: readonly (readonly [T, number])[]): () => T {
  const total = choices.reduce((s, [, w]) => s + w, 0);
  return () => {
    let r = random() * total;
    for (const [v, w] of choices) if ((r -= w) < 0) return v;
    return (choices[choices.length - 1] as readonly [T, number])[0];
  };
}

/** Twelve playbooks, a few busy and a long tail, and one that almost never runs. */
const PLAYBOOKS = [
  'rollback-on-error-burst',
  'restart-pod',
  'scale-out',
  'disk-cleanup',
  'shift-traffic-back',
  'degrade-feature',
  'rotate-credentials',
  'flush-cache',
  'restart-ingress',
  'reindex-search',
  'failover-db',
  'renew-certificate',
  'drain-node',
] as const;
const pickPlaybook = weighted(PLAYBOOKS.map((p, i) => [p, p === 'drain-node' ? 0.002 : 1 / (i + 1)] as const));
const BUSY_PLAYBOOK = PLAYBOOKS[0];
const RARE_PLAYBOOK = 'drain-node';
const pickEndState = weighted<RunState>([
  ['succeeded', 72],
  ['failed', 9],
  ['cancelled', 6],
  ['rejected', 4],
  ['expired', 4],
  ['interrupted', 0.5],
]);
const TARGETS = 400;

interface BuiltRun {
  readonly id: string;
  readonly playbook: string;
  readonly fingerprint: string;
}

async function build(): Promise<{ runsMs: number; eventsMs: number; indexMs: number }> {
  await SqliteStore.open(file).close();
  const db = new Database(file);
  // No journal while building (WAL must be left first), and the secondary indexes built once at
  // the end: sorting a million keys once is far cheaper than a million B-tree inserts.
  db.pragma('journal_mode = DELETE');
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  db.pragma('locking_mode = EXCLUSIVE');
  const indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('runs', 'events') AND sql IS NOT NULL").all() as {
    name: string;
    sql: string;
  }[];
  for (const index of indexes) db.exec(`DROP INDEX ${index.name}`);
  const end = Date.now();
  const start = end - 90 * DAY;
  const spacing = (end - start) / RUNS;

  let t0 = performance.now();
  const insertRun = db.prepare(
    `INSERT INTO runs (id, playbook, playbook_hash, batch_id, alertname, fingerprint, starts_at, instance_key, target_key, active_key,
       dry_run, state, reason, params, labels, annotations, created_at, updated_at, finished_at, resolved_at, needs_approval)
     VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertApproval = db.prepare(
    `INSERT INTO approvals (run_id, seq, phase, step_idx, step_name, requested_at, expires_at, approvers, message)
     VALUES (?, 1, 'main', 1, 'undo', ?, ?, '[]', 'next: kubectl rollout undo')`,
  );
  const runs: BuiltRun[] = new Array<BuiltRun>(RUNS);
  const active = new Set<string>();
  const CHUNK = 50_000;
  for (let from = 0; from < RUNS; from += CHUNK) {
    db.transaction(() => {
      for (let i = from; i < Math.min(RUNS, from + CHUNK); i++) {
        const created = Math.floor(start + i * spacing + random() * spacing * 0.9);
        const playbook = pickPlaybook();
        const target = Math.floor(random() * TARGETS);
        const namespace = `ns-${target % 40}`;
        const deployment = `svc-${target}`;
        const targetKey = `${namespace}/${deployment}`;
        const fingerprint = (target * 7919 + 17).toString(16).padStart(16, '0');
        const createdAt = new Date(created).toISOString();
        const startsAt = new Date(created - 60_000).toISOString();
        // Runs not over yet are recent ones (the last few hundred), one per playbook and target.
        let state = pickEndState();
        if (i >= RUNS - 300 && random() < 0.5 && !active.has(`${playbook} ${targetKey}`)) {
          state = (['pending', 'awaiting_approval', 'running'] as const)[Math.floor(random() * 3)] as RunState;
          active.add(`${playbook} ${targetKey}`);
        }
        const over = !['pending', 'awaiting_approval', 'running'].includes(state);
        const needsApproval = state === 'awaiting_approval' || state === 'rejected' || state === 'expired' ? 1 : 0;
        const id = idAt('r', created);
        const labels = JSON.stringify({ alertname: 'ServiceUpgradeErrorBurst', namespace, deployment, severity: 'critical' });
        insertRun.run(
          id,
          playbook,
          'sha256:4f1c0a9e',
          'ServiceUpgradeErrorBurst',
          fingerprint,
          startsAt,
          `${fingerprint}/${startsAt}`,
          targetKey,
          over ? null : targetKey,
          random() < 0.35 ? 1 : 0,
          state,
          over ? `ended ${state}` : 'decided: run',
          JSON.stringify({ namespace, deployment }),
          labels,
          JSON.stringify({ summary: `5xx ratio above 5% on ${deployment}` }),
          createdAt,
          new Date(created + 90_000).toISOString(),
          over ? new Date(created + 90_000).toISOString() : null,
          over && random() < 0.7 ? new Date(created + 600_000).toISOString() : null,
          needsApproval,
        );
        if (state === 'awaiting_approval') insertApproval.run(id, createdAt, new Date(Math.max(created, end) + 15 * 60_000).toISOString());
        runs[i] = { id, playbook, fingerprint };
      }
    })();
  }
  const runsMs = performance.now() - t0;

  // Events over the same 90 days, in time order, chained after the head SqliteStore.open wrote.
  t0 = performance.now();
  const pickKind = weighted<EventKind>([
    ['batch.received', 14],
    ['decision', 30],
    ['run.state', 20],
    ['step.started', 10],
    ['step.finished', 10],
    ['notification.sent', 8],
    ['approval.requested', 2],
    ['approval.granted', 1.5],
    ['notification.failed', 0.5],
    ['auth.failed', 0.3],
    ['playbooks.loaded', 0.01],
  ]);
  const head = db.prepare('SELECT last_id, last_hash FROM audit_head WHERE id = 1').get() as { last_id: number; last_hash: string };
  const insertEvent = db.prepare(
    'INSERT INTO events (id, at, kind, run_id, batch_id, playbook, fingerprint, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  // Event data from a few templates, each encoded canonically once (as the store writes it).
  const DATA = Object.fromEntries(
    Object.entries({
      batch: {
        receiver: 'remediator',
        status: 'firing',
        groupKey: '{}:{alertname="ServiceUpgradeErrorBurst"}',
        alerts: 1,
        remoteAddress: '10.0.3.7',
        userAgent: 'Alertmanager/0.27.0',
      },
      run: { action: 'run', reason: 'matched' },
      suppress: { action: 'suppress', reason: 'cooldown', detail: 'last run 12m ago', keys: { target: 'ns-3/svc-41' } },
      'run.state': { from: 'running', to: 'succeeded' },
      'step.started': { step: 'undo', index: 1, rendered: { kind: 'run', argv: ['kubectl', 'rollout', 'undo', 'deployment/svc-41', '-n', 'ns-3'] } },
      'step.finished': { step: 'undo', index: 1, exitCode: 0, durationMs: 1834, output: 'deployment.apps/svc-41 rolled back\n' },
      auth: { endpoint: 'webhook', remoteAddress: '10.0.9.1', hadAuthorization: true },
      notification: { notifier: 'slack', channel: '#ops' },
    }).map(([k, v]) => [k, canonicalJson(v)]),
  ) as Record<'batch' | 'run' | 'suppress' | 'run.state' | 'step.started' | 'step.finished' | 'auth' | 'notification', string>;
  let tip = { id: head.last_id, hash: head.last_hash };
  const espacing = (end - start) / EVENTS;
  for (let from = 0; from < EVENTS; from += CHUNK) {
    db.transaction(() => {
      for (let i = from; i < Math.min(EVENTS, from + CHUNK); i++) {
        const at = new Date(Math.floor(start + i * espacing)).toISOString();
        const kind = pickKind();
        // The run created just before this event (runs and events share the time line).
        const run = runs[Math.max(0, Math.floor((i * RUNS) / EVENTS) - Math.floor(random() * 3))] as BuiltRun;
        let runId: string | null = run.id;
        let playbook: string | null = run.playbook;
        let batchId: string | null = null;
        let fingerprint: string | null = run.fingerprint;
        let data: keyof typeof DATA;
        switch (kind) {
          case 'batch.received':
            [runId, playbook, fingerprint] = [null, null, null];
            batchId = idAt('b', Date.parse(at));
            data = 'batch';
            break;
          case 'decision':
            if (random() < 0.4) runId = null;
            data = runId ? 'run' : 'suppress';
            break;
          case 'run.state':
          case 'step.started':
          case 'step.finished':
            data = kind;
            break;
          case 'auth.failed':
          case 'playbooks.loaded':
            [runId, playbook, fingerprint] = [null, null, null];
            data = 'auth';
            break;
          default:
            data = 'notification';
        }
        const canonical = DATA[data];
        const fields = { id: tip.id + 1, at, kind, runId, batchId, playbook, fingerprint, prevHash: tip.hash };
        const hash = hashCanonical(fields, canonical);
        insertEvent.run(fields.id, at, kind, runId, batchId, playbook, fingerprint, canonical, tip.hash, hash);
        tip = { id: fields.id, hash };
      }
    })();
  }
  db.prepare('UPDATE audit_head SET last_id = ?, last_hash = ? WHERE id = 1').run(tip.id, tip.hash);
  const eventsMs = performance.now() - t0;
  t0 = performance.now();
  for (const index of indexes) db.exec(index.sql);
  const indexMs = performance.now() - t0;
  db.pragma('locking_mode = NORMAL');
  db.pragma('journal_mode = WAL');
  db.close();
  return { runsMs, eventsMs, indexMs };
}

const reuse = flags.db !== undefined && existsSync(file);
const built = reuse ? null : await build();
for (const sql of flags.sql) {
  const db = new Database(file);
  const t0 = performance.now();
  db.exec(sql);
  db.close();
  console.log(`applied in ${(performance.now() - t0).toFixed(0)} ms: ${sql}`);
}

// ---------------------------------------------------------------------------------------------
// What to ask. Values are picked from the database itself, so a reused file works too.

const ro = new Database(file, { readonly: true });
const count = (sql: string, ...args: unknown[]) => (ro.prepare(sql).get(...args) as { n: number }).n;
const totals = { runs: count('SELECT COUNT(*) AS n FROM runs'), events: count('SELECT COUNT(*) AS n FROM events') };
const span = ro.prepare('SELECT MIN(at) AS first, MAX(at) AS last FROM events').get() as { first: string; last: string };
const lastMs = Date.parse(span.last);
const firstMs = Date.parse(span.first);
/** A run from the middle of the history. */
const midRun = (ro.prepare('SELECT run_id AS id FROM events WHERE id >= ? AND run_id IS NOT NULL LIMIT 1').get(Math.floor(totals.events / 2)) as { id: string })
  .id;
const midEvent = Math.floor(totals.events / 2);
const iso = (ms: number) => new Date(ms).toISOString();

interface Query {
  readonly name: string;
  readonly runs?: RunQuery;
  readonly events?: EventQuery;
  /** The same as a path and query of the HTTP API. */
  readonly http: string;
}
const runsQuery = (name: string, q: Omit<RunQuery, 'limit'>): Query => {
  const params = new URLSearchParams({
    ...(q.state ? { state: q.state } : {}),
    ...(q.playbook ? { playbook: q.playbook } : {}),
    ...(q.cursor ? { cursor: q.cursor } : {}),
  });
  return { name, runs: { limit: 50, ...q }, http: `/api/runs${params.size ? `?${params.toString()}` : ''}` };
};
const eventsQuery = (name: string, q: Omit<EventQuery, 'limit'>): Query => {
  const params = new URLSearchParams({
    ...(q.runId ? { run: q.runId } : {}),
    ...(q.playbook ? { playbook: q.playbook } : {}),
    ...(q.kind ? { kind: q.kind } : {}),
    ...(q.since ? { since: q.since } : {}),
    ...(q.until ? { until: q.until } : {}),
    ...(q.afterId !== undefined ? { cursor: encodeEventCursor(q.afterId) } : {}),
  });
  // The route asks for one more than the page to know whether there is a next one.
  return { name, events: { limit: 101, ...q }, http: `/api/audit${params.size ? `?${params.toString()}` : ''}` };
};

/** The cursor of page `n` (1-based) of a runs listing, found by paging there through the store. */
async function runsCursor(store: SqliteStore, n: number, q: Omit<RunQuery, 'limit' | 'cursor'> = {}): Promise<string> {
  let cursor: string | undefined;
  for (let page = 1; page < n; page++) {
    const { next } = await store.listRuns({ limit: 50, ...q, ...(cursor ? { cursor } : {}) });
    if (next === null) break;
    cursor = next;
  }
  return cursor ?? encodeCursor('r_00000000000000000000000000');
}

async function queries(store: SqliteStore): Promise<Query[]> {
  const day = 1 * DAY;
  return [
    runsQuery('runs: first page', {}),
    runsQuery('runs: page 100 (cursor)', { cursor: await runsCursor(store, 100) }),
    runsQuery('runs: ?state=failed', { state: 'failed' }),
    runsQuery('runs: ?state=failed page 100', { state: 'failed', cursor: await runsCursor(store, 100, { state: 'failed' }) }),
    runsQuery('runs: ?state=awaiting_approval', { state: 'awaiting_approval' }),
    runsQuery(`runs: ?playbook=${BUSY_PLAYBOOK}`, { playbook: BUSY_PLAYBOOK }),
    runsQuery(`runs: ?playbook=${RARE_PLAYBOOK}`, { playbook: RARE_PLAYBOOK }),
    runsQuery(`runs: ?playbook=${RARE_PLAYBOOK}&state=failed`, { playbook: RARE_PLAYBOOK, state: 'failed' }),
    runsQuery('runs: ?playbook=restart-pod&state=interrupted', { playbook: 'restart-pod', state: 'interrupted' }),
    runsQuery(`runs: ?playbook=${BUSY_PLAYBOOK}&state=running`, { playbook: BUSY_PLAYBOOK, state: 'running' }),
    eventsQuery('audit: first page', {}),
    eventsQuery('audit: cursor mid-trail', { afterId: midEvent }),
    eventsQuery('audit: ?run=', { runId: midRun }),
    eventsQuery(`audit: ?playbook=${BUSY_PLAYBOOK}`, { playbook: BUSY_PLAYBOOK }),
    eventsQuery(`audit: ?playbook=${RARE_PLAYBOOK}`, { playbook: RARE_PLAYBOOK }),
    eventsQuery(`audit: ?playbook=${BUSY_PLAYBOOK} cursor mid`, { playbook: BUSY_PLAYBOOK, afterId: midEvent }),
    eventsQuery('audit: ?kind=decision', { kind: 'decision' }),
    eventsQuery('audit: ?kind=auth.failed', { kind: 'auth.failed' }),
    eventsQuery('audit: ?kind=decision cursor mid', { kind: 'decision', afterId: midEvent }),
    eventsQuery('audit: ?since=&until= (one day, mid)', { since: iso((firstMs + lastMs) / 2), until: iso((firstMs + lastMs) / 2 + day) }),
    eventsQuery('audit: ?since=&until= (30 days, mid)', { since: iso((firstMs + lastMs) / 2 - 15 * day), until: iso((firstMs + lastMs) / 2 + 15 * day) }),
    eventsQuery('audit: ?since= (last 24h)', { since: iso(lastMs - day) }),
    eventsQuery('audit: ?since= (last 30 days)', { since: iso(lastMs - 30 * day) }),
    eventsQuery(`audit: ?playbook=${BUSY_PLAYBOOK}&since= (24h)`, { playbook: BUSY_PLAYBOOK, since: iso(lastMs - day) }),
    eventsQuery('audit: ?kind=decision&since= (24h)', { kind: 'decision', since: iso(lastMs - day) }),
    eventsQuery(`audit: ?playbook=${RARE_PLAYBOOK}&kind=step.finished`, { playbook: RARE_PLAYBOOK, kind: 'step.finished' }),
  ];
}

// ---------------------------------------------------------------------------------------------
// Measuring. The SQL each call really ran is captured from better-sqlite3's statements (the
// store's own text and parameters, whichever way it was called), for EXPLAIN QUERY PLAN.

interface Captured {
  readonly sql: string;
  readonly params: unknown[];
}
let captured: Captured[] = [];
const statementProto = Object.getPrototypeOf(ro.prepare('SELECT 1')) as { all: (...params: unknown[]) => unknown[] };
const originalAll = statementProto.all;
statementProto.all = function (this: { source: string }, ...params: unknown[]) {
  captured.push({ sql: this.source, params });
  return originalAll.apply(this, params);
};
const listingSql = () => captured.filter((c) => /^SELECT \* FROM (runs|events)\b/.test(c.sql)).at(-1);

/** Calls `fn` up to REPEAT times (at least 5, within BUDGET_MS after that), after one warm-up. */
async function measure(fn: () => Promise<unknown>): Promise<{ p50: number; p99: number; n: number }> {
  await fn();
  const times: number[] = [];
  const until = performance.now() + BUDGET_MS;
  while (times.length < REPEAT && (times.length < 5 || performance.now() < until)) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  // Nearest rank.
  const rank = (q: number) => times[Math.max(0, Math.ceil(q * times.length) - 1)] as number;
  return { p50: rank(0.5), p99: rank(0.99), n: times.length };
}

interface Row {
  readonly query: string;
  readonly via: 'store' | 'http';
  readonly p50: number;
  readonly p99: number;
  readonly n: number;
  readonly rows: number;
  readonly sql: Captured | undefined;
}
const results: Row[] = [];

const store = SqliteStore.open(file);
const list = await queries(store);
for (const q of list) {
  captured = [];
  let rows = 0;
  const call = async () => {
    if (q.runs) rows = (await store.listRuns(q.runs)).runs.length;
    else if (q.events) rows = (await store.listEvents(q.events)).length;
  };
  const m = await measure(call);
  results.push({ query: q.name, via: 'store', ...m, rows, sql: listingSql() });
}
const probes: [string, () => Promise<unknown>][] = [
  ['probe: countOpenApprovals', () => store.countOpenApprovals()],
  ['probe: countPendingBatches', () => store.countPendingBatches()],
];
for (const [name, fn] of probes) results.push({ query: name, via: 'store', ...(await measure(fn)), rows: 1, sql: undefined });
const inProgressSql = "SELECT state, COUNT(*) AS n FROM runs WHERE state IN ('pending', 'awaiting_approval', 'running') GROUP BY state";
const inProgress = ro.prepare(inProgressSql);
results.push({
  query: 'probe: runs in progress (proposed SQL)',
  via: 'store',
  ...(await measure(() => Promise.resolve(inProgress.all()))),
  rows: 3,
  sql: { sql: inProgressSql, params: [] },
});
await store.close();

const daemon = await startDaemon(
  configSchema.parse({ listen: '127.0.0.1:0', playbooks: TEST_PLAYBOOKS, db: file }),
  { webhookTokens: ['bench-webhook-token-000000'], webhookBasic: [], apiTokens: [{ identity: 'bench', token: API_TOKEN }], notices: [] },
  silentLogger(),
  { registry: new Registry() },
);
const get = async (pathAndQuery: string): Promise<unknown> => {
  const res = await fetch(`${daemon.url}${pathAndQuery}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  if (!res.ok) throw new Error(`GET ${pathAndQuery}: ${res.status} ${await res.text()}`);
  return pathAndQuery === '/metrics' ? res.text() : res.json();
};
for (const q of [...list, { name: 'GET /metrics', http: '/metrics' }]) {
  const pathAndQuery = q.http;
  captured = [];
  let rows = 0;
  const m = await measure(async () => {
    const body = (await get(pathAndQuery)) as { runs?: unknown[]; events?: unknown[] } | string;
    rows = typeof body === 'string' ? 1 : (body.runs ?? body.events ?? []).length;
  });
  results.push({ query: q.name, via: 'http', ...m, rows, sql: pathAndQuery === '/metrics' ? undefined : listingSql() });
}
await daemon.close();
statementProto.all = originalAll;

// ---------------------------------------------------------------------------------------------
// Plans and the report.

/** The plan's lines, and what is wrong with it: a table scanned without an index, or a sort. */
function plan(c: Captured): { lines: string[]; scan: boolean; sort: boolean } {
  const lines = (ro.prepare(`EXPLAIN QUERY PLAN ${c.sql}`).all(...c.params) as { detail: string }[]).map((r) => r.detail);
  return { lines, scan: lines.some((l) => /^SCAN \w+$/.test(l)), sort: lines.some((l) => /TEMP B-TREE/.test(l)) };
}

const size = (f: string) => (existsSync(f) ? statSync(f).size : 0);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));
console.log(
  `\nlisting, SQLite: ${totals.runs.toLocaleString('en')} runs, ${totals.events.toLocaleString('en')} events over ${Math.round((lastMs - firstMs) / DAY)} days; ` +
    `database ${mib(size(file) + size(`${file}-wal`))}` +
    (built
      ? `; built in ${((built.runsMs + built.eventsMs + built.indexMs) / 1000).toFixed(1)} s (runs ${(built.runsMs / 1000).toFixed(1)} s, events ${(built.eventsMs / 1000).toFixed(1)} s, indexes ${(built.indexMs / 1000).toFixed(1)} s)`
      : ' (reused)') +
    (flags.sql.length ? `; extra SQL: ${flags.sql.join('; ')}` : ''),
);
const width = Math.max(...results.map((r) => r.query.length));
console.log(`${'query'.padEnd(width)}  via    p50 ms   p99 ms    n  rows  plan`);
const plans = new Map<string, ReturnType<typeof plan>>();
for (const r of results) {
  const p = r.sql ? plan(r.sql) : null;
  if (p && r.sql) plans.set(r.query, p);
  const flag = [p?.scan ? 'SCAN' : '', p?.sort ? 'SORT' : '', r.p99 > SLOW_P99_MS ? `p99>${SLOW_P99_MS}ms` : ''].filter(Boolean).join(' ') || 'ok';
  console.log(
    `${r.query.padEnd(width)}  ${r.via.padEnd(5)} ${ms(r.p50).padStart(7)}  ${ms(r.p99).padStart(7)}  ${String(r.n).padStart(3)}  ${String(r.rows).padStart(4)}  ${flag}`,
  );
}
console.log(
  `SCAN: a table read in rowid order without an index (cheap only when the first rows match); SORT: the matching rows sorted; p99>${SLOW_P99_MS}ms: slow`,
);
const flagged = [...plans].filter(([, p]) => p.scan || p.sort);
console.log(flagged.length ? '\nqueries whose plan scans a table without an index or sorts:' : '\nno query scans a table without an index or sorts');
for (const [name, p] of flagged) console.log(`  ${name}: ${p.lines.join(' | ')}`);
console.log('\nplans:');
for (const [name, p] of plans) console.log(`  ${name}: ${p.lines.join(' | ')}`);
console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
ro.close();
if (tmp) rmSync(tmp, { recursive: true, force: true });
else console.log(`database kept: ${file}`);
