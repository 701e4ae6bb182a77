import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import type { Run, RunDetail } from '../../src/domain/run.js';
import { AlertmanagerClient } from '../../src/roundtrip/alertmanager-client.js';
import { alertmanagerSkip, findAlertmanagerBinaries, requireAlertmanager, startAlertmanager, type Alertmanager } from '../support/alertmanager.js';
import { startDaemonProcess, type DaemonProcess } from '../support/daemon-process.js';
import { fixture, ROOT } from '../support/fixtures.js';
import { freshSchema, pgReachable, pgTestUrl } from '../support/postgres.js';
import { until } from '../support/until.js';

// Two replicas on one PostgreSQL database, both hearing every alert (as behind one Service, from
// an HA pair of Alertmanagers), both talking to one real Alertmanager and one Grafana (nocked in
// each process: test/fixtures/preload/grafana-nock.mjs): each run has exactly one silence and one
// annotation, closed once, whichever replica executed it.

const reachable = await pgReachable();
const binaries = findAlertmanagerBinaries();
const NODE = process.execPath;
const SCRIPTS = path.join(ROOT, 'test', 'fixtures', 'scripts');
const PRELOAD = path.join(ROOT, 'test', 'fixtures', 'preload', 'grafana-nock.mjs');
const N = 6;

interface Sent {
  method: string;
  path: string;
  body: { tags: string[]; text: string; timeEnd?: number };
}

function batch(n: number): Record<string, unknown> {
  const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[]; groupKey: string };
  Object.assign(p.alerts[0] as object, {
    labels: { alertname: 'ReplicaSilence', n: String(n) },
    fingerprint: `5e${n.toString(16).padStart(14, '0')}`,
    startsAt: '2026-11-29T03:12:00Z',
  });
  p.groupKey = `{}:{alertname="ReplicaSilence", n="${n}"}`;
  return p;
}

const skip = !reachable ? 'PostgreSQL not reachable' : alertmanagerSkip(binaries);

describe('two replicas on PostgreSQL and one Alertmanager', { skip, timeout: 120_000 }, () => {
  let dir: string;
  let drop: () => Promise<void>;
  let am: Alertmanager;
  let a: DaemonProcess;
  let b: DaemonProcess;
  const logs = (): Sent[] =>
    ['a', 'b'].flatMap((r) => {
      const f = path.join(dir, `grafana-${r}.jsonl`);
      return existsSync(f)
        ? readFileSync(f, 'utf8')
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Sent)
        : [];
    });

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-replicas-am-'));
    am = await startAlertmanager({ binaries: requireAlertmanager(binaries), webhookUrl: 'http://127.0.0.1:9/webhook', webhookToken: 'unused-token' });
    const fresh = await freshSchema();
    drop = fresh.drop;
    const db = `${pgTestUrl()}?schema=${fresh.schema}`;
    const pb = path.join(dir, 'playbooks');
    mkdirSync(pb);
    writeFileSync(
      path.join(pb, 'gated.yaml'),
      `name: gated\nmatch: { alertname: GatedSilence }\nmode: live\nsilence: { extend: 10m }\nsteps:\n  - run: [${NODE}, ${SCRIPTS}/print-args.mjs, 'act']\n  - { name: confirm, approval: { message: go on? } }\n  - run: [${NODE}, ${SCRIPTS}/print-args.mjs, 'more']\n`,
    );
    writeFileSync(
      path.join(pb, 'silenced.yaml'),
      `name: silenced\nmatch: { alertname: ReplicaSilence }\nmode: live\nsilence: { extend: 10m }\nsteps:\n  - run: [${NODE}, ${SCRIPTS}/print-args.mjs, 'act']\n`,
    );
    const tokenFile = path.join(dir, 'grafana-token');
    writeFileSync(tokenFile, 'glsa_replicas-token\n', { mode: 0o600 });
    const configFile = path.join(dir, 'config.yaml');
    writeFileSync(
      configFile,
      stringify({
        execution: 'live',
        alertmanager: { url: am.url },
        grafana: { url: 'https://grafana.example.com', tokenFile },
        retention: { enabled: false },
        guards: { budget: { count: 1000 } },
      }),
    );
    const start = (name: 'a' | 'b', id: number) =>
      startDaemonProcess({
        playbooks: pb,
        db,
        args: ['--config', configFile],
        env: {
          REMEDIATOR_REPLICA_NAME: `replica-${name}`,
          NODE_OPTIONS: `--import ${PRELOAD}`,
          GRAFANA_NOCK_LOG: path.join(dir, `grafana-${name}.jsonl`),
          GRAFANA_NOCK_ID: String(id),
        },
      });
    [a, b] = await Promise.all([start('a', 1000), start('b', 2000)]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await am?.stop();
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the same alerts posted to both, three times each: one run, one silence and one annotation per alert', async () => {
    const deliveries: Promise<number>[] = [];
    for (let round = 0; round < 3; round++) for (let n = 0; n < N; n++) deliveries.push(a.webhook(batch(n)), b.webhook(batch(n)));
    assert.deepEqual([...new Set(await Promise.all(deliveries))], [200]);
    const runs = await until(
      'every run finished with its silence extended and its annotation closed',
      async () => {
        const { runs: all } = await a.api<{ runs: Run[] }>('/api/runs?playbook=silenced&limit=100');
        if (all.length < N || all.some((r) => r.state !== 'succeeded')) return null;
        const details = await Promise.all(all.map((r) => a.api<RunDetail>(`/api/runs/${r.id}`)));
        const done = details.every((r) => r.events.some((e) => e.kind === 'silence.extended') && r.events.some((e) => e.kind === 'annotation.updated'));
        return done ? details : null;
      },
      { timeoutMs: 30_000, everyMs: 200 },
    );
    assert.equal(runs.length, N, 'one run per alert');
    const count = (r: RunDetail, kind: string) => r.events.filter((e) => e.kind === kind).length;
    for (const r of runs) {
      for (const kind of ['silence.created', 'silence.extended', 'annotation.created', 'annotation.updated'])
        assert.equal(count(r, kind), 1, `${kind} on run ${r.id}`);
      assert.equal(count(r, 'silence.failed') + count(r, 'annotation.failed'), 0);
    }

    const client = new AlertmanagerClient({ urls: [am.url], timeoutMs: 5000 });
    const silences = (await (await fetch(`${am.url}/api/v2/silences`)).json()) as { id: string; comment: string }[];
    for (const r of runs) {
      const of = silences.filter((s) => s.comment.includes(`run ${r.id} `));
      assert.equal(of.length, 1, `one silence in Alertmanager for run ${r.id}: ${JSON.stringify(of)}`);
      assert.equal(of[0]?.id, r.silenceId);
      assert.equal((await client.getSilence(r.silenceId!))?.status.state, 'active');
    }

    const sent = logs();
    for (const r of runs) {
      const mine = sent.filter((s) => s.body.text.includes(`run ${r.id} `));
      assert.deepEqual(
        mine.map((s) => s.method),
        ['POST', 'PATCH'],
        `one annotation created and closed for run ${r.id}`,
      );
      assert.deepEqual(mine[1]?.body.tags, ['remediator', 'silenced', 'succeeded']);
    }
  });

  test('a run that acted on one replica and is approved through the other: the other ends its silence and its region', async () => {
    const gated = batch(0);
    const alert = (gated['alerts'] as Record<string, unknown>[])[0] as Record<string, unknown>;
    alert['labels'] = { alertname: 'GatedSilence' };
    alert['fingerprint'] = '6a00000000000001';
    gated['groupKey'] = '{}:{alertname="GatedSilence"}';
    assert.equal(await a.webhook(gated), 200);
    const held = await until('the run held after it acted', async () => {
      const { runs } = await a.api<{ runs: Run[] }>('/api/runs?playbook=gated');
      return runs[0]?.state === 'awaiting_approval' && runs[0].silenceId ? runs[0] : null;
    });
    const res = await fetch(`${b.url}/api/runs/${held.id}/approve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${b.apiToken}` },
      body: JSON.stringify({ comment: 'go' }),
    });
    assert.equal(res.status, 200, await res.text());
    const run = await until(
      'the run succeeded, its silence extended and its region closed',
      async () => {
        const r = await b.api<RunDetail>(`/api/runs/${held.id}`);
        return r.events.some((e) => e.kind === 'silence.extended') && r.events.some((e) => e.kind === 'annotation.updated') ? r : null;
      },
      { timeoutMs: 20_000, everyMs: 200 },
    );
    assert.equal(run.state, 'succeeded', run.reason);
    assert.equal(run.events.filter((e) => e.kind === 'silence.created').length, 1);
    assert.equal(run.events.filter((e) => e.kind === 'annotation.created').length, 1);
    const mine = logs().filter((s) => s.body.text.includes(`run ${run.id} `));
    assert.deepEqual(
      mine.map((s) => `${s.method} ${s.path}`),
      ['POST /api/annotations', `PATCH /api/annotations/${String(run.events.find((e) => e.kind === 'annotation.created')?.data['annotationId'])}`],
    );
    assert.deepEqual(mine[1]?.body.tags, ['remediator', 'gated', 'succeeded']);
  });

  test('a run that acted on one replica and is rejected through the other: the other expires its silence and closes its region, once', async () => {
    const gated = batch(1);
    const alert = (gated['alerts'] as Record<string, unknown>[])[0] as Record<string, unknown>;
    alert['labels'] = { alertname: 'GatedSilence', n: 'rejected' };
    alert['fingerprint'] = '6a00000000000002';
    gated['groupKey'] = '{}:{alertname="GatedSilence", n="rejected"}';
    assert.equal(await a.webhook(gated), 200);
    const held = await until('the run held after it acted', async () => {
      const { runs } = await a.api<{ runs: Run[] }>('/api/runs?playbook=gated');
      const r = runs.find((x) => x.labels['n'] === 'rejected');
      return r?.state === 'awaiting_approval' && r.silenceId ? r : null;
    });
    const res = await fetch(`${b.url}/api/runs/${held.id}/reject`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${b.apiToken}` },
      body: JSON.stringify({ comment: 'no' }),
    });
    assert.equal(res.status, 200, await res.text());
    const run = await until(
      'the silence expired and the region closed',
      async () => {
        const r = await b.api<RunDetail>(`/api/runs/${held.id}`);
        return r.events.some((e) => e.kind === 'silence.expired') && r.events.some((e) => e.kind === 'annotation.updated') ? r : null;
      },
      { timeoutMs: 20_000, everyMs: 200 },
    );
    assert.equal(run.state, 'rejected');
    const client = new AlertmanagerClient({ urls: [am.url], timeoutMs: 5000 });
    assert.equal((await client.getSilence(held.silenceId!))?.status.state, 'expired');
    // The rejecting replica hears the end twice (the run's change, and the approval's end): a
    // second expiry or update would follow the first within milliseconds; give it half a second.
    await new Promise((r) => setTimeout(r, 500));
    const after = await a.api<RunDetail>(`/api/runs/${held.id}`);
    for (const kind of ['silence.expired', 'annotation.updated']) assert.equal(after.events.filter((e) => e.kind === kind).length, 1, kind);
    const mine = logs().filter((s) => s.body.text.includes(`run ${run.id} `));
    assert.deepEqual(
      mine.map((s) => s.method),
      ['POST', 'PATCH'],
    );
    assert.deepEqual(mine[1]?.body.tags, ['remediator', 'gated', 'rejected']);
  });
});
