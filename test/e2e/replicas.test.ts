import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Run, RunDetail } from '../../src/domain/run.js';
import { verifyStoreChain } from '../../src/record/audit-verify.js';
import { PostgresStore } from '../../src/record/postgres/postgres-store.js';
import { runCli } from '../support/cli.js';
import { startDaemonProcess, type DaemonProcess } from '../support/daemon-process.js';
import { fixture, ROOT } from '../support/fixtures.js';
import { freshSchema, pgReachable, pgTestUrl } from '../support/postgres.js';
import { until } from '../support/until.js';

const reachable = await pgReachable();
const NODE = process.execPath;
const SCRIPTS = path.join(ROOT, 'test', 'fixtures', 'scripts');
const LEASE_MS = 2000;

/** One alert per batch, with label n; the same n always gives the same fingerprint and startsAt. */
function batch(alertname: string, n: number): Record<string, unknown> {
  const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[]; groupKey: string };
  Object.assign(p.alerts[0] as object, {
    labels: { alertname, n: String(n) },
    fingerprint: `${Buffer.from(alertname.slice(0, 2)).toString('hex')}${n.toString(16).padStart(12, '0')}`,
    startsAt: '2026-11-29T03:12:00Z',
  });
  p.groupKey = `{}:{alertname="${alertname}", n="${n}"}`;
  return p;
}

describe('two replicas on one PostgreSQL database', { skip: !reachable }, () => {
  let dir: string;
  let drop: () => Promise<void>;
  let db: string;
  let a: DaemonProcess;
  let b: DaemonProcess;
  const actions = () =>
    existsSync(path.join(dir, 'actions.log')) ? readFileSync(path.join(dir, 'actions.log'), 'utf8').trim().split('\n').filter(Boolean) : [];

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-replicas-'));
    const fresh = await freshSchema();
    drop = fresh.drop;
    db = `${pgTestUrl()}?schema=${fresh.schema}`;
    const pb = path.join(dir, 'playbooks');
    mkdirSync(pb);
    const log = path.join(dir, 'actions.log');
    writeFileSync(
      path.join(pb, 'burst.yaml'),
      `name: burst\nmatch: { alertname: Burst }\nmode: live\nparams:\n  n: { from: labels.n, type: integer }\nsteps:\n  - run: [${NODE}, ${SCRIPTS}/append-line.mjs, ${log}, 'burst {{ params.n }}']\n`,
    );
    writeFileSync(
      path.join(pb, 'gate.yaml'),
      `name: gate\nmatch: { alertname: Gate }\nmode: approve\nparams:\n  n: { from: labels.n, type: integer }\nsteps:\n  - { name: look, readOnly: true, run: [${NODE}, -e, '0'] }\n  - run: [${NODE}, ${SCRIPTS}/append-line.mjs, ${log}, 'gate {{ params.n }}']\n`,
    );
    writeFileSync(
      path.join(pb, 'slow.yaml'),
      `name: slow\nmatch: { alertname: Slow }\nmode: live\nsteps:\n  - run: [${NODE}, -e, 'setTimeout(() => {}, 8000)']\n`,
    );
    const env = (name: string) => ({
      REMEDIATOR_EXECUTION: 'live',
      REMEDIATOR_RUNS_LEASE: `${LEASE_MS}ms`,
      REMEDIATOR_REPLICA_NAME: name,
      REMEDIATOR_RETENTION_ENABLED: 'false',
      REMEDIATOR_GUARDS_BUDGET_COUNT: '1000',
      // Twenty alerts on twenty targets are a storm; guards.storm across replicas is tested in test/guards/storm.test.ts.
      REMEDIATOR_GUARDS_STORM_ENABLED: 'false',
    });
    [a, b] = await Promise.all([
      startDaemonProcess({ playbooks: pb, db, env: env('replica-a') }),
      startDaemonProcess({ playbooks: pb, db, env: env('replica-b') }),
    ]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the same batches posted to both, five times each, interleaved: exactly one run per alert, and one audit chain', async () => {
    const N = 20;
    const deliveries: Promise<number>[] = [];
    for (let round = 0; round < 5; round++) {
      for (let n = 0; n < N; n++) deliveries.push(a.webhook(batch('Burst', n)), b.webhook(batch('Burst', n)));
    }
    assert.deepEqual([...new Set(await Promise.all(deliveries))], [200]);
    const runs = await until(
      'every run finished',
      async () => {
        const { runs: all } = await a.api<{ runs: Run[] }>('/api/runs?playbook=burst&limit=500');
        return all.length >= N && all.every((r) => r.state === 'succeeded') ? all : null;
      },
      { timeoutMs: 30_000, everyMs: 100 },
    );
    assert.equal(runs.length, N, 'one run per alert instance');
    assert.deepEqual(
      actions()
        .filter((l) => l.startsWith('burst'))
        .sort(),
      Array.from({ length: N }, (_, n) => `burst ${n}`).sort(),
      'each action ran once',
    );
    const owners = new Set(runs.map((r) => r.owner));
    assert.ok(owners.size >= 1);
    // Both replicas took part: each processed deliveries it received.
    const decisions = await a.api<{ events: { data: Record<string, unknown> }[] }>('/api/audit?kind=decision&limit=1000');
    assert.equal(decisions.events.filter((e) => e.data['action'] === 'run').length, N);
    const store = await PostgresStore.open(db.replace(/\?schema=.*/, ''), { schema: new URL(db).searchParams.get('schema') ?? '' });
    try {
      const verdict = await verifyStoreChain(store);
      assert.equal(verdict.problem, null, JSON.stringify(verdict.problem));
      assert.ok(verdict.count > N * 5);
    } finally {
      await store.close();
    }
    // The auditor's command says the same, on the database the replicas share.
    const cli = await runCli(['audit', 'verify', '--db', db]);
    assert.equal(cli.code, 0, cli.stdout + cli.stderr);
    assert.match(cli.stdout, /^audit trail intact: \d+ events/);
    // And an export of the shared trail verifies on its own.
    const file = path.join(dir, 'export.jsonl');
    const exported = await runCli(['audit', 'export', '--db', db, '--out', file]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, /^exported \d+ events \(ids 1–\d+\)/);
    const fromFile = await runCli(['audit', 'verify', '--file', file]);
    assert.equal(fromFile.code, 0, fromFile.stdout + fromFile.stderr);
  });

  test('a run proposed through one replica and approved through the other executes once', async () => {
    assert.equal(await a.webhook(batch('Gate', 1)), 200);
    const held = await until('the hold, seen from the other replica', async () => (await b.api<{ runs: Run[] }>('/api/runs?state=awaiting_approval')).runs[0], {
      timeoutMs: 30_000,
      everyMs: 100,
    });
    const answers = await Promise.all([
      b.apiPost(`/api/runs/${held.id}/approve`).then((r) => r.status),
      a.apiPost(`/api/runs/${held.id}/approve`).then((r) => r.status),
      b.apiPost(`/api/runs/${held.id}/approve`).then((r) => r.status),
    ]);
    assert.deepEqual(answers.sort(), [200, 409, 409]);
    const done = await until(
      'the approved run to finish',
      async () => {
        const r = await a.api<RunDetail>(`/api/runs/${held.id}`);
        return r.state === 'succeeded' ? r : null;
      },
      { timeoutMs: 30_000, everyMs: 100 },
    );
    assert.equal(done.approvals.filter((x) => x.decision === 'approved').length, 1);
    assert.deepEqual(
      actions().filter((l) => l.startsWith('gate')),
      ['gate 1'],
    );
  });

  test('kill -9 of the replica running a run: the other marks it interrupted once the lease runs out', async () => {
    assert.equal(await a.webhook(batch('Slow', 1)), 200);
    const running = await until(
      'the slow run to start',
      async () => {
        const { runs } = await b.api<{ runs: Run[] }>('/api/runs?playbook=slow&state=running');
        const r = runs[0];
        if (!r) return null;
        const detail = await b.api<RunDetail>(`/api/runs/${r.id}`);
        return detail.steps[0]?.state === 'running' ? detail : null;
      },
      { timeoutMs: 30_000, everyMs: 100 },
    );
    const victim = running.owner?.startsWith('replica-a') ? a : b;
    const survivor = victim === a ? b : a;
    const killedAt = Date.now();
    victim.signal('SIGKILL');
    await victim.exited();
    const interrupted = await until(
      'the survivor to interrupt the run',
      async () => {
        const r = await survivor.api<RunDetail>(`/api/runs/${running.id}`);
        return r.state === 'interrupted' ? r : null;
      },
      { timeoutMs: LEASE_MS * 5 },
    );
    assert.match(interrupted.reason, /stopped renewing its lease/);
    assert.equal(interrupted.steps[0]?.state, 'interrupted');
    console.log(`# interrupted by the other replica ${Date.now() - killedAt} ms after the kill (lease ${LEASE_MS} ms)`);
    const event = interrupted.events.filter((e) => e.kind === 'run.state').at(-1);
    assert.equal(event?.data['owner'], running.owner);
    // Announced like every other end, by the replica that noticed it.
    await until(
      'the interruption to be announced',
      async () =>
        (await survivor.api<RunDetail>(`/api/runs/${running.id}`)).events.some((e) => e.kind === 'notification.sent' && e.data['kind'] === 'run.finished'),
      { timeoutMs: 10_000 },
    );
  });
});
