import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { ChainEntry } from '../../src/domain/audit-chain.js';
import type { Store } from '../../src/domain/store.js';
import { verifyStoreChain } from '../../src/record/audit-verify.js';
import { PostgresStore } from '../../src/record/postgres/postgres-store.js';
import { SqliteStore } from '../../src/record/sqlite/sqlite-store.js';
import { fixture } from '../support/fixtures.js';
import { freshSchema, pgExec, pgReachable, pgTestUrl } from '../support/postgres.js';
import { startTestDaemon, type TestDaemon } from '../support/test-daemon.js';
import { until } from '../support/until.js';

const ALERTS = 2000;
const PER_WEBHOOK = 100;
const reachable = await pgReachable();

/** Webhook w of the storm: PER_WEBHOOK distinct alerts of one dry-run playbook. */
function webhook(w: number): unknown {
  const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[]; groupKey: string };
  const one = p.alerts[0] as Record<string, unknown>;
  p.groupKey = `{}:{storm="${w}"}`;
  p.alerts = Array.from({ length: PER_WEBHOOK }, (_, j) => {
    const n = w * PER_WEBHOOK + j;
    return { ...one, labels: { alertname: 'Storm', pod: `pod-${n}` }, fingerprint: n.toString(16).padStart(16, '0'), startsAt: '2026-12-02T10:00:00Z' };
  });
  return p;
}

/** Posts the storm to every daemon (as an Alertmanager HA pair does), 4 webhooks at a time. */
async function storm(daemons: TestDaemon[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < ALERTS / PER_WEBHOOK) {
        const body = webhook(next++);
        for (const status of await Promise.all(daemons.map((d) => d.post(body as object).then((r) => r.status)))) assert.equal(status, 200);
      }
    }),
  );
}

/** Exactly one run per alert instance, each with its "run" decision audited, and a chain that verifies. */
async function check(store: Store): Promise<void> {
  const decisions = new Map<string, string[]>();
  const created = new Map<string, number>();
  const verdict = await verifyStoreChain(store, 1000, (e: ChainEntry) => {
    if (e.kind === 'decision' && e.fingerprint !== null) {
      const data = JSON.parse(e.dataJson) as { action: string };
      decisions.set(e.fingerprint, [...(decisions.get(e.fingerprint) ?? []), data.action]);
    }
    if (e.kind === 'run.created' && e.fingerprint !== null) created.set(e.fingerprint, (created.get(e.fingerprint) ?? 0) + 1);
  });
  assert.equal(verdict.problem, null);
  assert.equal(decisions.size, ALERTS, 'every alert has its decision recorded');
  for (const [fingerprint, actions] of decisions) {
    assert.equal(actions.filter((a) => a === 'run').length, 1, `one run decision for ${fingerprint}: ${actions.join(', ')}`);
    assert.equal(created.get(fingerprint), 1, `one run created for ${fingerprint}`);
  }
  const runs = new Set<string>();
  for (let page = await store.listRuns({ limit: 500 }); ; page = await store.listRuns({ limit: 500, cursor: page.next ?? '' })) {
    for (const r of page.runs) runs.add(r.instanceKey);
    if (!page.next) break;
  }
  assert.equal(runs.size, ALERTS, 'one run per alert instance');
}

async function runStorm(
  db: (dir: string) => string,
  replicas: number,
  open: (dir: string) => Promise<Store>,
  pending: (dir: string) => Promise<number>,
): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-storm-'));
  const playbooks = path.join(dir, 'playbooks');
  mkdirSync(playbooks);
  writeFileSync(
    path.join(playbooks, 'note.yaml'),
    "name: note\nmatch: { alertname: Storm }\nparams:\n  pod: { from: labels.pod, pattern: '[a-z0-9-]+' }\nsteps:\n  - notify: { text: 'storm on {{ params.pod }}' }\n",
  );
  const daemons: TestDaemon[] = [];
  try {
    for (let r = 0; r < replicas; r++) {
      daemons.push(
        await startTestDaemon({ dir, playbooks, config: { db: db(dir), logLevel: 'error', replicaName: `storm-${r}`, retention: { enabled: false } } }),
      );
    }
    await storm(daemons);
    await until('every batch processed', async () => (await pending(dir)) === 0, { timeoutMs: 600_000 });
    for (const d of daemons) await d.settled();
  } finally {
    for (const d of daemons) await d.close();
  }
  const store = await open(dir);
  try {
    await check(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('an alert storm: 2,000 alerts in webhooks of 100', () => {
  test('on SQLite: one run per instance, every decision audited, the chain verifies', async () => {
    const file = (dir: string) => path.join(dir, 'storm.db');
    const pending = (dir: string) => {
      const db = new Database(file(dir), { readonly: true });
      try {
        return Promise.resolve((db.prepare('SELECT COUNT(*) AS n FROM batches WHERE processed_at IS NULL').get() as { n: number }).n);
      } finally {
        db.close();
      }
    };
    await runStorm(file, 1, (dir) => Promise.resolve(SqliteStore.open(file(dir))), pending);
  });

  for (const replicas of [1, 2]) {
    test(
      `on PostgreSQL, ${replicas} replica(s) each receiving every webhook: one run per instance, every decision audited, the chain verifies`,
      { skip: !reachable },
      async () => {
        const { schema, drop } = await freshSchema();
        try {
          await runStorm(
            () => `${pgTestUrl()}?schema=${schema}`,
            replicas,
            () => PostgresStore.open(pgTestUrl(), { schema }),
            async () => Number((await pgExec<{ n: string }>(`SELECT COUNT(*) AS n FROM ${schema}.batches WHERE processed_at IS NULL`))[0]?.n),
          );
        } finally {
          await drop();
        }
      },
    );
  }
});
