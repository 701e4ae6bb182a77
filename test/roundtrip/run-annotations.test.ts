import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import nock from 'nock';
import type { ApiClient } from '../../src/cli/api-client.js';
import { showCommand } from '../../src/cli/run-commands.js';
import type { ConfigInput } from '../../src/config/config-schema.js';
import type { AuditEvent, Run, RunDetail } from '../../src/domain/run.js';
import { freePort } from '../support/alertmanager.js';
import { fixture, ROOT } from '../support/fixtures.js';
import { removeDir, startTestDaemon, type TestDaemon } from '../support/test-daemon.js';
import { until } from '../support/until.js';

// Grafana annotations of runs, through a real daemon (real webhooks, real commands, real SQLite);
// Grafana itself cannot run here, so its API is nocked and every request body is checked.

const GRAFANA = 'https://grafana.example.com';
const TOKEN = 'glsa_annotations-token-for-tests';
const NODE = process.execPath;
const SCRIPTS = path.join(ROOT, 'test', 'fixtures', 'scripts');

interface SentAnnotation {
  dashboardUID?: string;
  time: number;
  timeEnd?: number;
  tags: string[];
  text: string;
}

let daemon: TestDaemon | undefined;
before(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/^(127\.0\.0\.1|localhost)(:\d+)?$/);
});
after(() => {
  nock.enableNetConnect();
});
afterEach(async () => {
  if (daemon) {
    await daemon.close();
    removeDir(daemon.dir);
    daemon = undefined;
  }
  const pending = nock.pendingMocks();
  nock.cleanAll();
  assert.deepEqual(pending, [], 'Grafana calls expected but not made');
});

const playbook = (steps: string, mode = 'live') => `name: annotated
match: { alertname: AnnotateTest }
mode: ${mode}
steps:
  - name: look
    run: [${NODE}, ${SCRIPTS}/print-args.mjs, look]
    readOnly: true
${steps}`;
const ACT = `  - name: act\n    run: [${NODE}, ${SCRIPTS}/print-args.mjs, act]\n`;
const FAIL = `  - name: act\n    run: [${NODE}, ${SCRIPTS}/exit-with.mjs, '3']\n`;

async function daemonWith(pb: string, grafana: Partial<NonNullable<ConfigInput['grafana']>> = {}, extra: ConfigInput = {}): Promise<TestDaemon> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-grafana-'));
  const pbDir = path.join(dir, 'playbooks');
  mkdirSync(pbDir);
  writeFileSync(path.join(pbDir, 'annotated.yaml'), pb);
  const tokenFile = path.join(dir, 'grafana-token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  daemon = await startTestDaemon({
    dir,
    playbooks: pbDir,
    config: {
      execution: 'live',
      publicUrl: 'https://remediator.example.com',
      grafana: { url: GRAFANA, tokenFile, dashboardUID: 'ops-board', tags: ['namespace', 'deployment', 'absent'], timeout: '500ms', ...grafana },
      ...extra,
    },
    env: { PATH: process.env['PATH'] },
  });
  return daemon;
}

let counter = 0;
function payload(labels: Record<string, string>) {
  const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[] };
  const alert = p.alerts[0] as Record<string, unknown>;
  alert['labels'] = { alertname: 'AnnotateTest', ...labels };
  alert['fingerprint'] = `b${(counter++).toString(16).padStart(15, '0')}`;
  return p;
}

async function onlyRun(d: TestDaemon): Promise<RunDetail> {
  await d.settled();
  const { runs } = await d.api<{ runs: Run[] }>('/api/runs');
  assert.equal(runs.length, 1);
  return d.api<RunDetail>(`/api/runs/${runs[0]?.id}`);
}

/** Grafana's annotations API, as it answers: the bodies sent are kept for the test to check. */
function grafana(): nock.Scope {
  return nock(GRAFANA, { reqheaders: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } });
}

async function metric(d: TestDaemon, outcome: string): Promise<number> {
  const text = await (await fetch(`${d.url}/metrics`)).text();
  const m = new RegExp(`^remediator_annotations_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text);
  assert.ok(m, `remediator_annotations_total{outcome="${outcome}"} is exported`);
  return Number(m[1]);
}

const kinds = (run: RunDetail, prefix: string): string[] => run.events.filter((e) => e.kind.startsWith(prefix)).map((e) => e.kind);
const eventOf = (run: RunDetail, kind: AuditEvent['kind']): AuditEvent => {
  const e = run.events.find((x) => x.kind === kind);
  assert.ok(e, `${kind} recorded on the run`);
  return e;
};

describe('Grafana annotations of runs', { timeout: 60_000 }, () => {
  test('a live run that succeeds: one region, opened at its first acting step with its labels as tags, closed with the outcome', async () => {
    const sent: SentAnnotation[] = [];
    const patched: SentAnnotation[] = [];
    grafana()
      .post('/api/annotations', (b: SentAnnotation) => sent.push(b) > 0)
      .reply(200, { id: 42, message: 'Annotation added' })
      .patch('/api/annotations/42', (b: SentAnnotation) => patched.push(b) > 0)
      .reply(200, { message: 'Annotation patched' });
    const d = await daemonWith(playbook(ACT));
    const before = Date.now();
    assert.equal((await d.post(payload({ namespace: 'shop', deployment: 'web' }))).status, 200);
    const run = await onlyRun(d);
    assert.equal(run.state, 'succeeded', run.reason);
    assert.ok(nock.isDone(), 'created and patched');

    const [created] = sent;
    assert.ok(created);
    assert.equal(created.dashboardUID, 'ops-board');
    assert.equal(created.timeEnd, undefined, 'open while the run acts');
    assert.deepEqual(created.tags, ['remediator', 'annotated', 'namespace=shop', 'deployment=web']);
    assert.match(created.text, new RegExp(`^remediator run ${run.id} of playbook annotated on AnnotateTest \\(.+\\) acting\\n`));
    assert.ok(created.text.endsWith(`\nhttps://remediator.example.com/console/runs/${run.id}`), created.text);
    const look = run.steps.find((s) => s.name === 'look');
    const act = run.steps.find((s) => s.name === 'act');
    assert.ok(created.time >= before && created.time >= Date.parse(look?.finishedAt ?? '') && created.time <= Date.parse(act?.startedAt ?? ''));

    const createdEvent = eventOf(run, 'annotation.created');
    assert.deepEqual(createdEvent.data, { annotationId: 42, time: created.time, tags: created.tags });
    const actStarted = run.events.find((e) => e.kind === 'step.started' && e.data['step'] === 'act');
    assert.ok(actStarted && createdEvent.id < actStarted.id, 'recorded before the acting step started');

    assert.equal(patched.length, 1);
    const [end] = patched;
    assert.ok(end);
    assert.equal(end.time, created.time);
    assert.equal(end.timeEnd, Date.parse(run.finishedAt ?? ''), 'the region ends when the run did');
    assert.deepEqual(end.tags, [...created.tags, 'succeeded']);
    assert.match(end.text, new RegExp(`^remediator run ${run.id} of playbook annotated on AnnotateTest \\(.+\\) succeeded`));
    assert.deepEqual(eventOf(run, 'annotation.updated').data, { annotationId: 42, timeEnd: end.timeEnd, outcome: 'succeeded' });
    assert.equal(await metric(d, 'created'), 1);
    assert.equal(await metric(d, 'updated'), 1);
    assert.equal(await metric(d, 'failed'), 0);
    const client = { get: (p: string) => d.api(p) } as unknown as ApiClient;
    assert.match(await showCommand(client, run.id, false), /\nannotated in Grafana: annotation 42\n/);
  });

  test('a live run that fails: the region is closed tagged failed', async () => {
    let end: SentAnnotation | undefined;
    grafana()
      .post('/api/annotations')
      .reply(200, { id: 7, message: 'Annotation added' })
      .patch('/api/annotations/7', (b: SentAnnotation) => Boolean((end = b)))
      .reply(200, { message: 'Annotation patched' });
    const d = await daemonWith(playbook(FAIL), { dashboardUID: undefined, tags: [] });
    assert.equal((await d.post(payload({ deployment: 'fails' }))).status, 200);
    const run = await onlyRun(d);
    assert.equal(run.state, 'failed');
    assert.ok(end);
    assert.deepEqual(end.tags, ['remediator', 'annotated', 'failed']);
    assert.match(end.text, / failed: /);
    assert.equal(eventOf(run, 'annotation.updated').data['outcome'], 'failed');
  });

  test('a run that never changes anything, and a dry run, are not annotated', async () => {
    const d = await daemonWith(playbook(''));
    assert.equal((await d.post(payload({ deployment: 'reads' }))).status, 200);
    const run = await onlyRun(d);
    assert.equal(run.state, 'succeeded', run.reason);
    assert.deepEqual(kinds(run, 'annotation.'), []);
    await d.close();
    removeDir(d.dir);
    daemon = undefined;

    const dry = await daemonWith(playbook(ACT, 'dry-run'));
    assert.equal((await dry.post(payload({ deployment: 'dry' }))).status, 200);
    const dryRun = await onlyRun(dry);
    assert.equal(dryRun.dryRun, true);
    assert.deepEqual(kinds(dryRun, 'annotation.'), []);
    assert.equal(await metric(dry, 'failed'), 0);
  });

  test('dryRuns: true annotates dry runs too, tagged dry-run', async () => {
    const bodies: SentAnnotation[] = [];
    grafana()
      .post('/api/annotations', (b: SentAnnotation) => bodies.push(b) > 0)
      .reply(200, { id: 9, message: 'Annotation added' })
      .patch('/api/annotations/9', (b: SentAnnotation) => bodies.push(b) > 0)
      .reply(200, { message: 'Annotation patched' });
    const d = await daemonWith(playbook(ACT, 'dry-run'), { dryRuns: true });
    assert.equal((await d.post(payload({ deployment: 'dry' }))).status, 200);
    const run = await onlyRun(d);
    assert.equal(run.dryRun, true);
    assert.deepEqual(
      bodies.map((b) => b.tags),
      [
        ['remediator', 'annotated', 'dry-run', 'deployment=dry'],
        ['remediator', 'annotated', 'dry-run', 'deployment=dry', 'succeeded'],
      ],
    );
    assert.match(bodies[0]?.text ?? '', /^\[dry run\] remediator run /);
  });

  test('Grafana refuses the annotation (403): the run succeeds, the failure is recorded, counted, logged, and not tried again', async () => {
    grafana().post('/api/annotations').reply(403, { message: 'You are not allowed to create annotations' });
    const d = await daemonWith(playbook(ACT));
    assert.equal((await d.post(payload({ deployment: 'refused' }))).status, 200);
    const run = await onlyRun(d);
    assert.equal(run.state, 'succeeded', run.reason);
    assert.deepEqual(kinds(run, 'annotation.'), ['annotation.failed']);
    const failed = eventOf(run, 'annotation.failed');
    assert.equal(failed.data['action'], 'create');
    assert.equal(failed.data['status'], 403);
    assert.equal(failed.data['retryable'], false);
    assert.match(String(failed.data['error']), /Grafana refused POST \/api\/annotations \(HTTP 403 .*not allowed to create annotations/);
    const client = { get: (p: string) => d.api(p) } as unknown as ApiClient;
    assert.match(await showCommand(client, run.id, false), /\nnot annotated in Grafana: Grafana refused POST \/api\/annotations \(HTTP 403/);
    assert.equal(await metric(d, 'failed'), 1);
    assert.ok(
      d.logs.some((l) => l['level'] === 'warn' && String(l['message']).includes(`run ${run.id}: the Grafana annotation could not be created`)),
      'logged as a warning',
    );
  });

  test('Grafana fails (500) at the start: the run goes on, and its end creates the whole region', async () => {
    let region: SentAnnotation | undefined;
    grafana()
      .post('/api/annotations')
      .reply(500, 'database is locked')
      .post('/api/annotations', (b: SentAnnotation) => Boolean((region = b)))
      .reply(200, { id: 11, message: 'Annotation added' });
    const d = await daemonWith(playbook(ACT));
    assert.equal((await d.post(payload({ deployment: 'flaky' }))).status, 200);
    const run = await onlyRun(d);
    assert.equal(run.state, 'succeeded', run.reason);
    const failed = eventOf(run, 'annotation.failed');
    assert.equal(failed.data['status'], 500);
    assert.equal(failed.data['retryable'], true);
    assert.ok(region);
    assert.equal(region.time, failed.data['time'], 'the region starts when the run started acting');
    assert.equal(region.timeEnd, Date.parse(run.finishedAt ?? ''));
    assert.deepEqual(region.tags, ['remediator', 'annotated', 'deployment=flaky', 'succeeded']);
    assert.deepEqual(eventOf(run, 'annotation.updated').data, {
      annotationId: 11,
      time: region.time,
      timeEnd: region.timeEnd,
      outcome: 'succeeded',
      created: true,
    });
    assert.equal(await metric(d, 'failed'), 1);
    assert.equal(await metric(d, 'updated'), 1);
  });

  test('Grafana does not answer in time: the run waits one timeout at most, and the failure is recorded', async () => {
    grafana().post('/api/annotations').delay(5000).reply(200, { id: 1 }).post('/api/annotations').reply(503, 'unavailable');
    const d = await daemonWith(playbook(ACT), { timeout: '300ms' });
    assert.equal((await d.post(payload({ deployment: 'slow' }))).status, 200);
    const run = await onlyRun(d);
    assert.equal(run.state, 'succeeded', run.reason);
    const look = run.steps.find((s) => s.name === 'look');
    const act = run.steps.find((s) => s.name === 'act');
    const waited = Date.parse(act?.startedAt ?? '') - Date.parse(look?.finishedAt ?? '');
    assert.ok(waited >= 250 && waited < 2000, `the acting step waited ${waited} ms for Grafana (timeout 300 ms)`);
    const failures = run.events.filter((e) => e.kind === 'annotation.failed');
    assert.equal(failures.length, 2, 'the start timed out; the try at the end got a 503');
    assert.equal(failures[0]?.data['status'], null);
    assert.match(String(failures[0]?.data['error']), /Grafana did not answer POST \/api\/annotations: timed out after 300 ms/);
    assert.equal(failures[1]?.data['status'], 503);
    assert.equal(failures[1]?.data['atEnd'], true);
    assert.equal(await metric(d, 'failed'), 2);
  });

  test('the update at the end fails (502): recorded and counted, the run still succeeded', async () => {
    grafana().post('/api/annotations').reply(200, { id: 5, message: 'Annotation added' }).patch('/api/annotations/5').reply(502, 'bad gateway');
    const d = await daemonWith(playbook(ACT));
    assert.equal((await d.post(payload({ deployment: 'patch-fails' }))).status, 200);
    const run = await onlyRun(d);
    assert.equal(run.state, 'succeeded', run.reason);
    assert.deepEqual(kinds(run, 'annotation.'), ['annotation.created', 'annotation.failed']);
    const failed = eventOf(run, 'annotation.failed');
    assert.equal(failed.data['action'], 'update');
    assert.equal(failed.data['status'], 502);
    assert.equal(await metric(d, 'created'), 1);
    assert.equal(await metric(d, 'failed'), 1);
  });

  test('Grafana unreachable: the connection error is recorded, the run succeeds', async () => {
    const d = await daemonWith(playbook(ACT), { url: `http://127.0.0.1:${await freePort()}` });
    assert.equal((await d.post(payload({ deployment: 'unreachable' }))).status, 200);
    const run = await onlyRun(d);
    assert.equal(run.state, 'succeeded', run.reason);
    const failed = eventOf(run, 'annotation.failed');
    assert.equal(failed.data['status'], null);
    assert.match(String(failed.data['error']), /Grafana did not answer POST \/api\/annotations: .*ECONNREFUSED/);
  });

  test('a run interrupted by a shutdown: its region is closed, tagged interrupted, before the daemon is gone', async () => {
    let end: SentAnnotation | undefined;
    grafana()
      .post('/api/annotations')
      .reply(200, { id: 31, message: 'Annotation added' })
      .patch('/api/annotations/31', (b: SentAnnotation) => Boolean((end = b)))
      .reply(200, { message: 'Annotation patched' });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-grafana-never-'));
    const d = await daemonWith(
      playbook(`${ACT}  - name: wait\n    run: [${NODE}, ${SCRIPTS}/wait-for-file.mjs, ${JSON.stringify(path.join(dir, 'never'))}]\n`),
      {},
      {
        runs: { shutdownGrace: '200ms', killGrace: '200ms' },
      },
    );
    assert.equal((await d.post(payload({ deployment: 'shutdown' }))).status, 200);
    const { runs } = await until('the run waiting', async () => {
      const page = await d.api<{ runs: Run[] }>('/api/runs');
      const r = page.runs[0] ? await d.api<RunDetail>(`/api/runs/${page.runs[0].id}`) : null;
      return r?.steps.find((s) => s.name === 'wait')?.state === 'running' ? page : null;
    });
    await d.close();
    daemon = undefined;
    assert.ok(end, 'patched before close() resolved');
    assert.deepEqual(end.tags.slice(-1), ['interrupted']);
    assert.ok(nock.isDone());
    removeDir(d.dir);
    removeDir(dir);
    assert.equal(runs.length, 1);
  });

  test('an unreadable token file stops the start, naming the key', async () => {
    await assert.rejects(daemonWith(playbook(ACT), { tokenFile: path.join(os.tmpdir(), 'no-such-grafana-token') }), /grafana\.tokenFile: cannot read /);
  });
});
