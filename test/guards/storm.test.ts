import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import nock from 'nock';
import type { AuditEvent, Run, RunDetail } from '../../src/domain/run.js';
import type { StormRecord } from '../../src/domain/store.js';
import { reportCommand } from '../../src/cli/report-command.js';
import { verifyStoreChain } from '../../src/record/audit-verify.js';
import { ROLLBACK, wave } from '../support/storm-alerts.js';
import { TestClock } from '../support/console-daemon.js';
import { reply, startHttpServer, type TestHttpServer } from '../support/http-server.js';
import { API_TOKEN, removeDir, startTestDaemon, type TestDaemon } from '../support/test-daemon.js';
import { until } from '../support/until.js';

const STORM_TS = '1733109120.000100';

let daemon: TestDaemon | undefined;
let hook: TestHttpServer | undefined;
before(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/^(127\.0\.0\.1|localhost)(:\d+)?$/);
});
after(() => nock.enableNetConnect());
afterEach(async () => {
  if (daemon) {
    await daemon.close();
    removeDir(daemon.dir);
    daemon = undefined;
  }
  await hook?.close();
  hook = undefined;
  nock.cleanAll();
});

/** The daemons' clock: the tests move it past a storm's cooldown instead of waiting for it. */
const clock = new TestClock();

async function start(storm: Record<string, unknown>): Promise<TestDaemon> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-storm-'));
  const pbDir = path.join(dir, 'playbooks');
  mkdirSync(pbDir);
  writeFileSync(path.join(pbDir, 'rollback.yaml'), ROLLBACK);
  hook = await startHttpServer((_req, res) => reply(res, 204));
  daemon = await startTestDaemon({
    dir,
    playbooks: pbDir,
    config: { execution: 'live', guards: { budget: { count: 1000 }, storm }, slack: { channel: 'C0STORM' } },
    env: { PATH: process.env['PATH'] },
    notifyWebhookUrl: `${hook.url}/notify`,
    secrets: { slackBotToken: 'xoxb-storm-test-token' },
    clock: clock.now,
  });
  return daemon;
}

/** Slack's Web API, answered as Slack does; every request body kept. */
function slack(): { posts: Record<string, unknown>[]; updates: Record<string, unknown>[] } {
  const posts: Record<string, unknown>[] = [];
  const updates: Record<string, unknown>[] = [];
  let n = 0;
  nock('https://slack.com')
    .persist()
    .post('/api/chat.postMessage', (body: Record<string, unknown>) => {
      posts.push(body);
      return true;
    })
    .reply(200, (_uri, body) => {
      const b = body as Record<string, unknown>;
      const isStorm = (b['blocks'] as { block_id?: string; type: string; text?: { text?: string } }[]).some(
        (x) => x.type === 'header' && /^Storm/.test(x.text?.text ?? ''),
      );
      return { ok: true, channel: b['channel'], ts: isStorm ? STORM_TS : `1733109121.${String(++n).padStart(6, '0')}` };
    })
    .post('/api/chat.update', (body: Record<string, unknown>) => {
      updates.push(body);
      return true;
    })
    .reply(200, (_uri, body) => ({ ok: true, channel: (body as Record<string, unknown>)['channel'], ts: (body as Record<string, unknown>)['ts'] }));
  return { posts, updates };
}

const notified = (kind: string) =>
  (hook?.requests ?? []).map((r) => JSON.parse(r.body) as { kind: string; data?: Record<string, unknown> }).filter((n) => n.kind === kind);

async function apiPost<T>(d: TestDaemon, apiPath: string, body: unknown = {}): Promise<T> {
  const res = await fetch(`${d.url}${apiPath}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as T;
}

const isHeader = (body: Record<string, unknown>, re: RegExp) =>
  (body['blocks'] as { type: string; text?: { text?: string } }[]).some((b) => b.type === 'header' && re.test(b.text?.text ?? ''));

describe('guards.storm: a platform-wide failure is one event', () => {
  test('forty alerts across forty deployments: ten run, the storm holds thirty, tells people once, and is approved together', async () => {
    const messages = slack();
    const d = await start({ alerts: 10, targets: 5, within: '10m', cooldown: '20s' });
    // Forty deployments break within the minute: eight deliveries of five.
    for (let i = 0; i < 40; i += 5) {
      assert.equal((await d.post(wave(i, i + 5))).status, 200);
      await d.settled();
    }
    const { runs } = await d.api<{ runs: Run[] }>('/api/runs?limit=100');
    const byDeployment = new Map(runs.map((r) => [r.labels['deployment'] ?? '', r]));
    const states = Array.from({ length: 40 }, (_, i) => byDeployment.get(`svc${i}`)?.state);
    assert.deepEqual(states, [...Array<string>(10).fill('succeeded'), ...Array<string>(30).fill('awaiting_approval')]);

    const { storms } = await d.api<{ storms: StormRecord[] }>('/api/storms');
    assert.equal(storms.length, 1);
    const storm = storms[0] as StormRecord;
    assert.deepEqual(
      { alerts: storm.alerts, targets: storm.targets, playbooks: storm.playbooks, common: storm.commonLabels, url: storm.generatorUrl },
      {
        alerts: 40,
        targets: 40,
        playbooks: ['rollback'],
        common: { alertname: 'HighErrorRate', cluster: 'eu1', gateway: 'v2.3', namespace: 'shop' },
        url: 'http://prometheus:9090/graph?g0.expr=errors',
      },
    );
    const held = runs.filter((r) => r.state === 'awaiting_approval');
    assert.ok(held.every((r) => r.stormId === storm.id));
    const { events } = await d.api<{ events: AuditEvent[] }>('/api/audit?kind=decision&limit=100');
    const reason = (deployment: string) => events.find((e) => e.data['targetKey'] === `shop/${deployment}`)?.data['reason'];
    assert.equal(reason('svc9'), 'playbook mode is live');
    assert.match(String(reason('svc10')), new RegExp(`^storm ${storm.id} since .*: a person must approve this run, or the storm's runs together`));

    // Told once: one storm.opened to the webhook, no approval request per held run; one Slack
    // message for the storm, the held runs' messages as replies in its thread.
    await until('the storm was notified', () => notified('storm.opened').length === 1);
    await d.settled();
    assert.equal(notified('approval.requested').length, 0);
    assert.equal(notified('storm.opened')[0]?.data?.['stormId'], storm.id);
    await until('thirty replies in the storm thread', () => messages.posts.filter((p) => p['thread_ts'] === STORM_TS).length === 30);
    const top = messages.posts.filter((p) => p['thread_ts'] === undefined);
    assert.equal(top.filter((p) => isHeader(p, /^Storm/)).length, 1, 'one storm message');
    assert.equal(top.length, 11, 'ten run messages before the storm, then the storm');
    assert.equal((await d.api<{ storm: StormRecord }>(`/api/storms/${storm.id}`)).storm.message?.ts, STORM_TS);
    const offersApproveAll = (body: Record<string, unknown>) => body['ts'] === STORM_TS && JSON.stringify(body['blocks']).includes('"storm_approve"');
    await until('the storm message offers to approve the held runs', () => messages.updates.some(offersApproveAll));

    // A verdict decides what the person saw: with upTo, no run the storm held later.
    const firstHeld = held.map((r) => r.createdAt).sort()[0] ?? '';
    const seen = held.filter((r) => r.createdAt <= firstHeld).length;
    assert.ok(seen > 0 && seen < 30);
    const early = await apiPost<{ decided: string[] }>(d, `/api/storms/${storm.id}/approve`, { comment: 'the gateway is rolled back', upTo: firstHeld });
    assert.equal(early.decided.length, seen);
    // Approving the storm runs each held run once, each recording who decided.
    const verdict = await apiPost<{ decided: string[]; refused: unknown[] }>(d, `/api/storms/${storm.id}/approve`, { comment: 'the gateway is rolled back' });
    assert.equal(verdict.decided.length + early.decided.length, 30);
    assert.deepEqual(verdict.refused, []);
    await d.settled();
    await until('the verdicts were notified', () => notified('storm.decided').length === 2);
    assert.equal(notified('approval.decided').length, 0, 'one notification per verdict on the storm, none per run');
    const again = await apiPost<{ decided: string[] }>(d, `/api/storms/${storm.id}/approve`);
    assert.deepEqual(again.decided, [], 'nothing is held any more: approving twice runs nothing twice');
    const after = (await d.api<{ runs: Run[] }>('/api/runs?limit=100')).runs;
    assert.equal(after.filter((r) => r.state === 'succeeded').length, 40);
    const one = await d.api<RunDetail>(`/api/runs/${held[0]?.id ?? ''}`);
    assert.deepEqual(
      one.approvals.map((a) => [a.decision, a.decidedBy, a.decidedVia, a.comment]),
      [['approved', 'tester', 'api', 'the gateway is rolled back']],
    );
    const metrics = await (await fetch(`${d.url}/metrics`)).text();
    assert.match(metrics, /remediator_runs_held_total\{playbook="rollback",reason="storm"\} 30/);
    assert.match(metrics, /^remediator_storms_total 1$/m);
    const report = await reportCommand({ db: d.db, since: '1h' }, new Date(clock.now().getTime() + 1000));
    assert.match(report, /live runs held for a person by a guard\n.*\n.*rollback +30 +storm 30/);

    // Quiet for the cooldown: the storm ends, is told once, and a new alert runs as usual.
    clock.advance(21_000);
    const ended = await until(
      'the storm ended',
      async () => ((await d.api<{ storm: StormRecord }>(`/api/storms/${storm.id}`)).storm.endedAt !== null ? true : null),
      { timeoutMs: 15_000, everyMs: 200 },
    );
    assert.ok(ended);
    await until('the end was notified', () => notified('storm.ended').length === 1);
    await until('the storm message says it ended', () => messages.updates.some((u) => u['ts'] === STORM_TS && isHeader(u, /^Storm ended/)));
    assert.equal((await d.api<{ storms: StormRecord[] }>('/api/storms')).storms.length, 0);
    assert.equal((await d.post(wave(40, 41, '2026-12-02T03:20:00Z'))).status, 200);
    await d.settled();
    const late = (await d.api<{ runs: Run[] }>('/api/runs?limit=100')).runs.find((r) => r.labels['deployment'] === 'svc40');
    assert.equal(late?.state, 'succeeded');
    assert.equal(late?.stormId ?? null, null);
    assert.equal((await verifyStoreChain(d.store)).problem, null);
  });

  test('action suppress: the storm suppresses its live runs; redeliveries are not new alerts', async () => {
    slack();
    const d = await start({ alerts: 3, targets: 2, within: '10m', cooldown: '20s', action: 'suppress' });
    assert.equal((await d.post(wave(0, 6))).status, 200);
    assert.equal((await d.post(wave(0, 6))).status, 200);
    await d.settled();
    const { runs } = await d.api<{ runs: Run[] }>('/api/runs?limit=100');
    assert.equal(runs.length, 3, 'three alerts are not more than three; the fourth opens the storm');
    const { events } = await d.api<{ events: AuditEvent[] }>('/api/audit?kind=decision&limit=100');
    const stormed = events.filter((e) => e.data['reason'] === 'storm');
    assert.equal(stormed.length, 6, 'the three storm alerts, suppressed at each of the two deliveries');
    assert.equal(new Set(stormed.map((e) => e.fingerprint)).size, 3);
    const { storms } = await d.api<{ storms: StormRecord[] }>('/api/storms');
    assert.equal(storms[0]?.alerts, 6, 'the second delivery of the same six alerts added none');
    const metrics = await (await fetch(`${d.url}/metrics`)).text();
    assert.match(metrics, /remediator_runs_suppressed_total\{playbook="rollback",reason="storm"\} 6/);
    assert.match(await reportCommand({ db: d.db, since: '1h' }, new Date(clock.now().getTime() + 1000)), /suppressions by reason\n.*\n.*rollback +6 +storm 6/);

    // After the storm: its alerts stay its own (a re-delivery starts no run the storm held back);
    // a new alert is decided as usual.
    const id = storms[0]?.id ?? '';
    clock.advance(21_000);
    await until('the storm ended', async () => ((await d.api<{ storm: StormRecord }>(`/api/storms/${id}`)).storm.endedAt !== null ? true : null), {
      timeoutMs: 15_000,
      everyMs: 200,
    });
    assert.equal((await d.post(wave(0, 6))).status, 200);
    assert.equal((await d.post(wave(6, 7))).status, 200);
    await d.settled();
    const later = (await d.api<{ runs: Run[] }>('/api/runs?limit=100')).runs;
    assert.equal(later.length, 4, 'only the new alert ran');
    assert.equal(later.find((r) => r.labels['deployment'] === 'svc6')?.stormId ?? null, null);
  });

  test('guards.storm.enabled false: forty alerts run one by one', async () => {
    slack();
    const d = await start({ enabled: false });
    assert.equal((await d.post(wave(0, 20))).status, 200);
    await d.settled();
    const { runs } = await d.api<{ runs: Run[] }>('/api/runs?limit=100');
    assert.equal(runs.filter((r) => r.state === 'succeeded').length, 20);
    assert.equal((await d.api<{ storms: StormRecord[] }>('/api/storms?all=true')).storms.length, 0);
  });
});
