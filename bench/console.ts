// The web console at a million runs: its pages answered by a real daemon over HTTP, signed in
// with a session, on bench/listing.ts's database (built by running that script with --db). Each
// page is compared with two references measured in the same run: GET /-/healthy (the cost of an
// HTTP round trip through the daemon) and GET /api/runs (the same first page as JSON). Prints
// p50/p99 per page and the ratios; the runs page must answer well under 100 ms.
//
//   npx tsx bench/console.ts [--rows 1000000] [--repeat 100] [--db FILE]
//
// --db reuses (or keeps) the database in FILE; without it one is built in a temporary directory
// and removed at the end.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { startDaemon } from '../src/cli/serve.js';
import { configSchema } from '../src/config/config-schema.js';
import { silentLogger } from '../src/observability/logger.js';
import { signIn } from '../test/support/console-daemon.js';
import { TEST_PLAYBOOKS } from '../test/support/fixtures.js';

const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string', default: process.env['BENCH_ROWS'] ?? '1000000' },
    repeat: { type: 'string', default: '100' },
    db: { type: 'string' },
  },
});
const REPEAT = Number(flags.repeat);
const TARGET_MS = 100;
const TOKEN = 'bench-console-token-00000000';
const tmp = flags.db ? null : mkdtempSync(path.join(os.tmpdir(), 'remediator-bench-console-'));
const file = flags.db ? path.resolve(flags.db) : path.join(tmp as string, 'r.db');

if (!existsSync(file)) {
  console.log(`building ${Number(flags.rows).toLocaleString('en')} runs with bench/listing.ts (its own figures follow)…`);
  const built = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'listing.ts'), '--rows', String(flags.rows), '--repeat', '3', '--db', file],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  if (built.status !== 0) throw new Error(`bench/listing.ts failed (${built.status})`);
}

const daemon = await startDaemon(
  configSchema.parse({ listen: '127.0.0.1:0', playbooks: TEST_PLAYBOOKS, db: file }),
  { webhookTokens: ['bench-webhook-token-000000'], webhookBasic: [], apiTokens: [{ identity: 'bench', token: TOKEN }], notices: [] },
  silentLogger(),
  { registry: new Registry() },
);

const { cookie } = await signIn(daemon, TOKEN);

async function get(pathAndQuery: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(`${daemon.url}${pathAndQuery}`, { headers });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`GET ${pathAndQuery}: ${res.status} ${body.slice(0, 300)}`);
  return body.length;
}
const page = (p: string) => () => get(p, { cookie, 'x-console-background': '1' });
const api = (p: string) => () => get(p, { authorization: `Bearer ${TOKEN}` });

/** Calls `fn` REPEAT times after two warm-ups (at least 5, at most 3 s after that). */
async function measure(fn: () => Promise<number>): Promise<{ p50: number; p99: number; n: number; bytes: number }> {
  let bytes = await fn();
  await fn();
  const times: number[] = [];
  const until = performance.now() + 3000;
  while (times.length < REPEAT && (times.length < 5 || performance.now() < until)) {
    const t0 = performance.now();
    bytes = await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const rank = (q: number) => times[Math.max(0, Math.ceil(q * times.length) - 1)] as number;
  return { p50: rank(0.5), p99: rank(0.99), n: times.length, bytes };
}

// Pages to ask for, with values from the database itself.
const first = (await (await fetch(`${daemon.url}/api/runs?limit=1`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { runs: { id: string }[] };
const runId = first.runs[0]?.id ?? '';
let cursor = '';
for (let i = 0; i < 99; i++) {
  const p = (await (
    await fetch(`${daemon.url}/api/runs?limit=50${cursor ? `&cursor=${cursor}` : ''}`, { headers: { authorization: `Bearer ${TOKEN}` } })
  ).json()) as {
    next: string | null;
  };
  if (!p.next) break;
  cursor = p.next;
}

const references: [string, () => Promise<number>][] = [
  ['reference: GET /-/healthy', () => get('/-/healthy', {})],
  ['reference: GET /api/runs (same page, JSON)', api('/api/runs?limit=50')],
];
const pages: [string, () => Promise<number>][] = [
  ['runs page', page('/console/runs')],
  ['runs page 100 (cursor)', page(`/console/runs?cursor=${cursor}`)],
  ['runs ?state=failed', page('/console/runs?state=failed')],
  ['runs ?playbook=restart-pod', page('/console/runs?playbook=restart-pod')],
  ['runs ?mode=live (window)', page('/console/runs?mode=live')],
  ['runs ?q=svc-41 (window)', page('/console/runs?q=svc-41')],
  ['runs ?q=namespace=ns-7 (window)', page('/console/runs?q=namespace%3Dns-7')],
  ['runs ?q=no-such-thing (whole window)', page('/console/runs?q=no-such-thing')],
  ['one run', page(`/console/runs/${runId}`)],
  ['waiting for me', page('/console/waiting')],
  ['audit (newest first)', page('/console/audit')],
  ['audit ?kind=decision', page('/console/audit?kind=decision')],
  ['decisions (24h, report cached)', page('/console/decisions')],
  ['guards', page('/console/guards')],
  ['playbooks', page('/console/playbooks')],
];
const rows: { name: string; p50: number; p99: number; n: number; bytes: number }[] = [];
for (const [name, fn] of [...references, ...pages]) rows.push({ name, ...(await measure(fn)) });
// The first (uncached) figures of a playbook page: what its first visitor waits. They are read in
// a worker thread, so the daemon keeps answering meanwhile: /-/healthy is timed alongside.
const t0 = performance.now();
const slow = page('/console/playbooks/restart-pod')();
const alongside: number[] = [];
let done = false;
void slow.finally(() => (done = true));
while (!done) {
  const t = performance.now();
  await get('/-/healthy', {});
  alongside.push(performance.now() - t);
  await new Promise((r) => setTimeout(r, 20));
}
await slow;
const playbookFirstMs = performance.now() - t0;
await daemon.close();

const [health, json] = rows as [(typeof rows)[0], (typeof rows)[0]];
const width = Math.max(...rows.map((r) => r.name.length));
const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));
console.log(`\nconsole pages over HTTP, SQLite, ${Number(flags.rows).toLocaleString('en')} runs (bench/listing.ts's data)`);
console.log(`${'page'.padEnd(width)}   p50 ms   p99 ms    n    KiB  ×healthy  ×api`);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(width)}  ${ms(r.p50).padStart(7)}  ${ms(r.p99).padStart(7)}  ${String(r.n).padStart(3)}  ${(r.bytes / 1024).toFixed(1).padStart(5)}  ${(r.p50 / health.p50).toFixed(1).padStart(8)}  ${(r.p50 / json.p50).toFixed(1).padStart(4)}`,
  );
}
console.log(
  `playbook page, first visit (30-day and 8 weekly figures, one pass in the report worker): ${playbookFirstMs.toFixed(0)} ms; ` +
    `meanwhile ${alongside.length} GET /-/healthy took at most ${Math.max(...alongside).toFixed(1)} ms`,
);
const runsPage = rows.find((r) => r.name === 'runs page') as (typeof rows)[0];
const verdict = runsPage.p99 < TARGET_MS ? 'ok' : 'TOO SLOW';
console.log(
  `runs page: p50 ${ms(runsPage.p50)} ms, p99 ${ms(runsPage.p99)} ms (target: well under ${TARGET_MS} ms): ${verdict}; ${(runsPage.p50 / json.p50).toFixed(1)}× the JSON API's page, ${(runsPage.p50 / health.p50).toFixed(1)}× a bare round trip`,
);
if (tmp) rmSync(tmp, { recursive: true, force: true });
if (verdict !== 'ok') process.exitCode = 1;
