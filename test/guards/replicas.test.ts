import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Run } from '../../src/domain/run.js';
import type { AuditEvent } from '../../src/domain/run.js';
import type { EscalationRecord, StormRecord } from '../../src/domain/store.js';
import { verifyStoreChain } from '../../src/record/audit-verify.js';
import { PostgresStore } from '../../src/record/postgres/postgres-store.js';
import { startDaemonProcess, type DaemonProcess } from '../support/daemon-process.js';
import { ROOT } from '../support/fixtures.js';
import { reply, startHttpServer, type TestHttpServer } from '../support/http-server.js';
import { freshSchema, pgReachable, pgTestUrl } from '../support/postgres.js';
import { until } from '../support/until.js';
import { wave } from '../support/storm-alerts.js';

const reachable = await pgReachable();
const SCRIPTS = path.join(ROOT, 'test', 'fixtures', 'scripts');

describe('guards.storm on two replicas of one PostgreSQL database', { skip: reachable ? false : 'skipped: needs PostgreSQL on 127.0.0.1:5432' }, () => {
  let dir: string;
  let drop: () => Promise<void>;
  let db: string;
  let hook: TestHttpServer;
  let a: DaemonProcess;
  let b: DaemonProcess;
  const actions = () =>
    existsSync(path.join(dir, 'actions.log')) ? readFileSync(path.join(dir, 'actions.log'), 'utf8').trim().split('\n').filter(Boolean) : [];

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-storm-replicas-'));
    const fresh = await freshSchema();
    drop = fresh.drop;
    db = `${pgTestUrl()}?schema=${fresh.schema}`;
    hook = await startHttpServer((_req, res) => reply(res, 204));
    const pb = path.join(dir, 'playbooks');
    mkdirSync(pb);
    writeFileSync(
      path.join(pb, 'rollback.yaml'),
      `name: rollback
match: { alertname: HighErrorRate }
mode: live
params:
  namespace: { from: labels.namespace, pattern: '[a-z]+' }
  deployment: { from: labels.deployment, pattern: '[a-z0-9]+' }
guards: { key: '{{ params.namespace }}/{{ params.deployment }}' }
steps:
  - run: [${process.execPath}, ${SCRIPTS}/append-line.mjs, ${path.join(dir, 'actions.log')}, 'undo {{ params.deployment }}']
`,
    );
    const env = (name: string) => ({
      REMEDIATOR_EXECUTION: 'live',
      REMEDIATOR_REPLICA_NAME: name,
      REMEDIATOR_RETENTION_ENABLED: 'false',
      REMEDIATOR_GUARDS_BUDGET_COUNT: '1000',
      REMEDIATOR_GUARDS_STORM_WITHIN: '10m',
      // Long enough that a loaded machine never lets the storm end between two deliveries.
      REMEDIATOR_GUARDS_STORM_COOLDOWN: '15s',
      REMEDIATOR_NOTIFY_WEBHOOK_URL: `${hook.url}/notify`,
    });
    [a, b] = await Promise.all([
      startDaemonProcess({ playbooks: pb, db, env: env('replica-a') }),
      startDaemonProcess({ playbooks: pb, db, env: env('replica-b') }),
    ]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await hook?.close();
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  test('forty alerts posted to both (an HA pair): one storm, ten runs, thirty held, one notification; approving through the other replica runs each once', async () => {
    for (let i = 0; i < 40; i += 5) {
      const statuses = await Promise.all([a, b].map((d) => d.webhook(wave(i, i + 5))));
      assert.deepEqual(statuses, [200, 200]);
    }
    const runs = await until(
      'every alert decided',
      async () => {
        const { runs: all } = await a.api<{ runs: Run[] }>('/api/runs?limit=200');
        return all.length === 40 && all.every((r) => r.state === 'succeeded' || r.state === 'awaiting_approval') ? all : null;
      },
      { timeoutMs: 60_000, everyMs: 200 },
    );
    assert.equal(runs.filter((r) => r.state === 'succeeded').length, 10);
    const { storms } = await a.api<{ storms: StormRecord[] }>('/api/storms?all=true');
    assert.equal(storms.length, 1, 'two replicas, one storm');
    const storm = storms[0] as StormRecord;
    assert.equal(storm.alerts, 40, 'each alert instance counted once, whichever replica saw it first');
    assert.equal(storm.targets, 40);
    assert.deepEqual(storm.commonLabels, { alertname: 'HighErrorRate', cluster: 'eu1', gateway: 'v2.3', namespace: 'shop' });
    const held = runs.filter((r) => r.state === 'awaiting_approval');
    assert.equal(held.length, 30);
    assert.ok(held.every((r) => r.stormId === storm.id));
    await until('the storm was notified', () => notified('storm.opened').length >= 1);
    assert.equal(notified('storm.opened').length, 1, 'one notification for the storm, from whichever replica opened it');

    const approved = await b.apiPost(`/api/storms/${storm.id}/approve`, { comment: 'gateway rolled back' });
    assert.equal(approved.status, 200, JSON.stringify(approved.json));
    assert.equal((approved.json as { decided: string[] }).decided.length, 30);
    const again = await a.apiPost(`/api/storms/${storm.id}/approve`);
    assert.deepEqual((again.json as { decided: string[] }).decided, []);
    await until(
      'every run succeeded',
      async () => {
        const { runs: all } = await a.api<{ runs: Run[] }>('/api/runs?limit=200');
        return all.filter((r) => r.state === 'succeeded').length === 40 ? true : null;
      },
      { timeoutMs: 60_000, everyMs: 200 },
    );
    assert.deepEqual(actions().sort(), Array.from({ length: 40 }, (_, i) => `undo svc${i}`).sort(), 'each rollback ran exactly once');
    await until(
      'the storm ended after its cooldown',
      async () => ((await b.api<{ storm: StormRecord }>(`/api/storms/${storm.id}`)).storm.endedAt !== null ? true : null),
      { timeoutMs: 30_000, everyMs: 250 },
    );
    await until('the end was notified', () => notified('storm.ended').length >= 1);
    assert.equal(notified('storm.ended').length, 1, 'ended once, by one replica');
    const store = await PostgresStore.open(pgTestUrl(), { schema: new URL(db).searchParams.get('schema') ?? '' });
    try {
      assert.equal((await verifyStoreChain(store)).problem, null);
    } finally {
      await store.close();
    }
  });

  function notified(kind: string): unknown[] {
    return hook.requests.map((r) => JSON.parse(r.body) as { kind: string }).filter((n) => n.kind === kind);
  }
});

describe(
  'guards.group and escalate on two replicas of one PostgreSQL database',
  { skip: reachable ? false : 'skipped: needs PostgreSQL on 127.0.0.1:5432' },
  () => {
    let dir: string;
    let drop: () => Promise<void>;
    let hook: TestHttpServer;
    let a: DaemonProcess;
    let b: DaemonProcess;

    before(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-guard-replicas-'));
      const fresh = await freshSchema();
      drop = fresh.drop;
      const db = `${pgTestUrl()}?schema=${fresh.schema}`;
      hook = await startHttpServer((_req, res) => reply(res, 204));
      const urlFile = path.join(dir, 'oncall-url');
      writeFileSync(urlFile, `${hook.url}/oncall\n`);
      const config = path.join(dir, 'remediator.yaml');
      writeFileSync(config, `notifiers:\n  oncall: { type: webhook, urlFile: ${urlFile} }\n`);
      const pb = path.join(dir, 'playbooks');
      mkdirSync(pb);
      const params = `params:
  namespace: { from: labels.namespace, pattern: '[a-z]+' }
  deployment: { from: labels.deployment, pattern: '[a-z0-9]+' }
guards:
  key: '{{ params.namespace }}/{{ params.deployment }}'`;
      writeFileSync(
        path.join(pb, 'rollback.yaml'),
        `name: rollback\nmatch: { alertname: HighErrorRate }\nmode: live\n${params}\n  group: { key: '{{ params.namespace }}', max: '30%', per: 1h }\nsteps:\n  - run: [${process.execPath}, -e, '']\n`,
      );
      writeFileSync(
        path.join(pb, 'restart.yaml'),
        `name: restart\nmatch: { alertname: CrashLooping }\nmode: live\n${params}\nescalate: { after: 2, within: 1h, notify: [oncall] }\nsteps:\n  - run: [${process.execPath}, -e, 'process.exit(3)']\n`,
      );
      const env = (name: string) => ({
        REMEDIATOR_EXECUTION: 'live',
        REMEDIATOR_REPLICA_NAME: name,
        REMEDIATOR_RETENTION_ENABLED: 'false',
        REMEDIATOR_GUARDS_BUDGET_COUNT: '1000',
        // The storm is the first describe's; here the group cap and escalation alone.
        REMEDIATOR_GUARDS_STORM_ENABLED: 'false',
      });
      const start = (name: string) => startDaemonProcess({ playbooks: pb, db, env: env(name), args: ['--config', config] });
      [a, b] = await Promise.all([start('replica-a'), start('replica-b')]);
    });
    after(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await hook?.close();
      await drop?.();
      rmSync(dir, { recursive: true, force: true });
    });

    const both = async (body: unknown) => {
      const statuses = await Promise.all([a, b].map((d) => d.webhook(body)));
      assert.deepEqual(statuses, [200, 200]);
    };

    test('a group cap of 30% holds the fourth rollback of ten, whichever replica decides', async () => {
      await both(wave(0, 10));
      const runs = await until(
        'ten decided',
        async () => {
          const { runs: all } = await a.api<{ runs: Run[] }>('/api/runs?playbook=rollback&limit=100');
          return all.length === 10 && all.every((r) => r.state === 'succeeded' || r.state === 'awaiting_approval') ? all : null;
        },
        { timeoutMs: 30_000, everyMs: 200 },
      );
      assert.equal(runs.filter((r) => r.state === 'succeeded').length, 3);
      assert.equal(runs.filter((r) => r.state === 'awaiting_approval').length, 7);
    });

    test('two failed restarts of one deployment escalate it once; the third alert is suppressed; clearing on the other replica re-enables it', async () => {
      const crash = (n: number) => {
        const p = wave(0, 1, `2026-12-02T04:0${n}:00Z`) as { alerts: Record<string, unknown>[] };
        Object.assign(p.alerts[0] as object, {
          labels: { alertname: 'CrashLooping', namespace: 'shop', deployment: 'cart' },
          fingerprint: `c00000000000000${n}`,
        });
        return p;
      };
      for (const n of [1, 2]) {
        await both(crash(n));
        await until(`restart ${n} failed`, async () => {
          const { runs } = await a.api<{ runs: Run[] }>('/api/runs?playbook=restart');
          return runs.length === n && runs.every((r) => r.state === 'failed') ? true : null;
        });
      }
      await both(crash(3));
      const third = await until('the third alert decided', async () => {
        const { events } = await b.api<{ events: AuditEvent[] }>('/api/audit?kind=decision&playbook=restart&limit=100');
        return events.find((e) => e.fingerprint === 'c000000000000003' && e.data['redelivery'] !== true) ?? null;
      });
      assert.equal(third.data['reason'], 'escalated');
      const { escalations } = await a.api<{ escalations: EscalationRecord[] }>('/api/escalations');
      assert.equal(escalations.length, 1, 'one escalation, whichever replica decided');
      await until('the on-call hook was told', () => hook.requests.length >= 1);
      const told = hook.requests.map((r) => JSON.parse(r.body) as { kind: string }).filter((n) => n.kind === 'escalation.opened');
      assert.equal(told.length, 1);

      const e = escalations[0] as EscalationRecord;
      const cleared = await b.apiPost(`/api/escalations/${e.id}/clear`, { note: 'fixed the image' });
      assert.equal(cleared.status, 200);
      await both(crash(4));
      await until('a new restart after the clearing', async () => {
        const { runs } = await a.api<{ runs: Run[] }>('/api/runs?playbook=restart');
        return runs.length === 3 ? true : null;
      });
    });
  },
);
