import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { ConfigInput } from '../../src/config/config-schema.js';
import type { Run, RunDetail } from '../../src/domain/run.js';
import { fixture, ROOT } from '../support/fixtures.js';
import { removeDir, startTestDaemon, type TestDaemon } from '../support/test-daemon.js';
import { until } from '../support/until.js';

const SCRIPTS = path.join(ROOT, 'test', 'fixtures', 'scripts');
const NODE = process.execPath;
const SECRET = 'sEcReT-value-0123456789';

/** A local service the playbooks call: records requests, answers what the test says. */
interface Service {
  url: string;
  requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  healthy: boolean;
  server: Server;
}

async function startService(): Promise<Service> {
  const service = { requests: [], healthy: false } as unknown as Service;
  service.server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      service.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url === '/health') {
        res.writeHead(service.healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ healthy: service.healthy }));
      } else if (req.url?.startsWith('/rollback')) {
        service.healthy = true;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ rolledBack: true, version: 'v1' }));
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => service.server.listen(0, '127.0.0.1', resolve));
  service.url = `http://127.0.0.1:${(service.server.address() as AddressInfo).port}`;
  return service;
}

let service: Service;
let daemon: TestDaemon | undefined;
before(async () => {
  service = await startService();
});
after(() => service.server.close());
afterEach(async () => {
  if (daemon) {
    await daemon.close();
    removeDir(daemon.dir);
    daemon = undefined;
  }
  service.requests = [];
  service.healthy = false;
});

/** Writes playbooks into a fresh directory and starts a daemon on them. */
let playbooksDir = '';
async function daemonWith(playbooks: Record<string, string>, config: ConfigInput = {}): Promise<TestDaemon> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-live-'));
  const pbDir = path.join(dir, 'playbooks');
  playbooksDir = pbDir;
  mkdirSync(pbDir);
  for (const [name, text] of Object.entries(playbooks)) writeFileSync(path.join(pbDir, `${name}.yaml`), text);
  daemon = await startTestDaemon({
    playbooks: pbDir,
    config: { execution: 'live', ...config },
    env: { PATH: process.env['PATH'], REMEDIATOR_SECRET_TOKEN: SECRET },
  });
  return daemon;
}

/** An alert payload with the given labels (a fresh fingerprint per call unless given). */
let counter = 0;
function payload(labels: Record<string, string>, opts: { status?: 'firing' | 'resolved'; fingerprint?: string; startsAt?: string } = {}) {
  const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[]; status: string };
  const alert = p.alerts[0] as Record<string, unknown>;
  alert['labels'] = { alertname: 'LiveTest', ...labels };
  alert['status'] = opts.status ?? 'firing';
  alert['fingerprint'] = opts.fingerprint ?? `f${(counter++).toString(16).padStart(15, '0')}`;
  if (opts.startsAt) alert['startsAt'] = opts.startsAt;
  if (opts.status === 'resolved') alert['endsAt'] = '2026-11-28T22:00:00Z';
  p.status = opts.status ?? 'firing';
  return p;
}

async function onlyRun(d: TestDaemon): Promise<RunDetail> {
  await d.settled();
  const { runs } = await d.api<{ runs: Run[] }>('/api/runs');
  assert.equal(runs.length, 1, `one run, got ${runs.map((r) => `${r.playbook}:${r.state}`).join(', ')}`);
  return d.api<RunDetail>(`/api/runs/${runs[0]?.id}`);
}

/** Each run's state, keyed by one of its labels. */
function byLabel(runs: readonly Run[], label: string): Record<string, string> {
  return Object.fromEntries(runs.map((r) => [r.labels[label] ?? '', r.state]));
}

const header = (name: string) => `name: ${name}\nmatch: { alertname: LiveTest }\nmode: live\n`;

describe('live runs: steps really run, in order, with their outputs recorded', () => {
  test('run → run using the first output → http → verify → notify, all recorded', async () => {
    const d = await daemonWith({
      rollback: `${header('rollback')}params:
  deployment: { from: labels.deployment, pattern: '[\\s\\S]*' }
steps:
  - name: inspect
    run: [${NODE}, ${SCRIPTS}/print-args.mjs, 'deployment/{{ params.deployment }}']
  - name: echo-previous
    run: [${NODE}, ${SCRIPTS}/print-args.mjs, '{{ steps.inspect.stdout }}', '{{ steps.inspect.exitCode }}']
  - name: rollback
    http:
      method: POST
      url: '${service.url}/rollback/{{ run.id }}'
      headers: { Authorization: 'Bearer {{ secrets.TOKEN }}' }
      body: { deployment: '{{ params.deployment }}', seen: '{{ steps.inspect.stdout }}' }
  - name: healthy
    verify:
      http: { url: '${service.url}/health', json: { path: healthy, equals: true } }
      within: 5s
      every: 100ms
  - name: tell
    notify: { text: 'rolled back {{ params.deployment }}: {{ steps.rollback.json.version }}' }
`,
    });
    const tricky = 'checkout; rm -rf / $(id)';
    assert.equal((await d.post(payload({ deployment: tricky }))).status, 200);
    const run = await onlyRun(d);
    assert.equal(run.state, 'succeeded', run.reason);
    assert.equal(run.dryRun, false);
    const step = (name: string) => run.steps.find((s) => s.name === name);
    assert.deepEqual(
      run.steps.map((s) => [s.name, s.state]),
      [
        ['inspect', 'succeeded'],
        ['echo-previous', 'succeeded'],
        ['rollback', 'succeeded'],
        ['healthy', 'succeeded'],
        ['tell', 'succeeded'],
      ],
    );
    assert.equal(step('inspect')?.exitCode, 0);
    assert.equal(step('inspect')?.output, `${JSON.stringify([`deployment/${tricky}`])}\n`, 'the label arrived as one literal argument');
    assert.equal(step('echo-previous')?.output, `${JSON.stringify([JSON.stringify([`deployment/${tricky}`]), '0'])}\n`);
    const rollback = service.requests.find((r) => r.url.startsWith('/rollback/'));
    assert.equal(rollback?.url, `/rollback/${run.id}`);
    assert.equal(rollback?.headers['authorization'], `Bearer ${SECRET}`, 'the service got the real secret');
    assert.deepEqual(JSON.parse(rollback?.body ?? '{}'), { deployment: tricky, seen: JSON.stringify([`deployment/${tricky}`]) });
    assert.match(step('healthy')?.output ?? '', /holds: HTTP 200, healthy = true/);
    assert.match(step('tell')?.output ?? '', /sent via log/);
    const kinds = run.events.map((e) => e.kind);
    assert.equal(kinds.filter((k) => k === 'step.started').length, 5);
    assert.equal(kinds.filter((k) => k === 'step.finished').length, 5);
    assert.equal(kinds.at(-1), 'notification.sent', 'the run-finished notification is recorded last');
    assert.ok(
      d.logs.some((l) => String(l['message']).includes('notify: rolled back')),
      'the notification reached the log notifier',
    );
  });

  test('secrets reach the service but never the store, the API or the log', async () => {
    const d = await daemonWith({
      leak: `${header('leak')}steps:
  - name: echo-secret
    run: [${NODE}, ${SCRIPTS}/print-args.mjs, '{{ secrets.TOKEN }}']
  - name: call
    http: { method: POST, url: '${service.url}/rollback/x', headers: { X-Token: '{{ secrets.TOKEN }}' }, body: 'token={{ secrets.TOKEN }}' }
`,
    });
    await d.post(payload({}));
    const run = await onlyRun(d);
    assert.equal(run.state, 'succeeded', run.reason);
    assert.equal(service.requests[0]?.headers['x-token'], SECRET);
    assert.equal(run.steps[0]?.output, '["***"]\n', 'captured output is redacted');
    const everything = JSON.stringify(run) + JSON.stringify(d.logs);
    assert.ok(!everything.includes(SECRET), 'no secret in the run, its events or the log');
    await d.close();
    const db = readFileSync(d.db);
    const wal = existsSync(`${d.db}-wal`) ? readFileSync(`${d.db}-wal`) : Buffer.alloc(0);
    assert.ok(!db.includes(SECRET) && !wal.includes(SECRET), 'no secret in the database file');
    removeDir(d.dir);
    daemon = undefined;
  });

  test('a missing secret fails the step with how to set it', async () => {
    const d = await daemonWith({
      nosecret: `${header('nosecret')}steps:
  - run: [${NODE}, -e, '1', '{{ secrets.MISSING }}']
`,
    });
    await d.post(payload({}));
    const run = await onlyRun(d);
    assert.equal(run.state, 'failed');
    assert.match(run.reason, /secret MISSING is not set: set REMEDIATOR_SECRET_MISSING/);
  });

  test('a failing step fails the run; continueOnError, when and onFailure steps behave', async () => {
    const marker = path.join(mkdtempSync(path.join(os.tmpdir(), 'remediator-m-')), 'lines');
    const d = await daemonWith({
      failing: `${header('failing')}steps:
  - name: soft
    run: [${NODE}, ${SCRIPTS}/exit-with.mjs, '2']
    continueOnError: true
  - name: after-soft
    run: [${NODE}, ${SCRIPTS}/append-line.mjs, ${marker}, after-soft]
  - name: only-if-soft-failed
    when: steps.soft.failed
    run: [${NODE}, ${SCRIPTS}/append-line.mjs, ${marker}, soft-failed]
  - name: hard
    run: [${NODE}, ${SCRIPTS}/exit-with.mjs, '7']
  - name: never
    run: [${NODE}, ${SCRIPTS}/append-line.mjs, ${marker}, never]
  - name: cleanup
    when: always
    run: [${NODE}, ${SCRIPTS}/append-line.mjs, ${marker}, cleanup]
onFailure:
  - name: on-failure
    run: [${NODE}, ${SCRIPTS}/append-line.mjs, ${marker}, 'on-failure {{ steps.hard.exitCode }}']
`,
    });
    await d.post(payload({}));
    const run = await onlyRun(d);
    assert.equal(run.state, 'failed');
    assert.equal(run.reason, 'step hard: exited with code 7: to stderr');
    assert.deepEqual(
      run.steps.map((s) => [s.name, s.state, s.exitCode]),
      [
        ['soft', 'failed', 2],
        ['after-soft', 'succeeded', 0],
        ['only-if-soft-failed', 'succeeded', 0],
        ['hard', 'failed', 7],
        ['never', 'skipped', null],
        ['cleanup', 'succeeded', 0],
        ['on-failure', 'succeeded', 0],
      ],
    );
    assert.equal(readFileSync(marker, 'utf8'), 'after-soft\nsoft-failed\ncleanup\non-failure 7\n');
  });

  test('the output of a step that was skipped is no value, not an empty argument', async () => {
    const d = await daemonWith({
      skipped: `${header('skipped')}steps:
  - name: find
    when: failed
    run: [${NODE}, ${SCRIPTS}/print-args.mjs, found]
  - name: act
    run: [${NODE}, ${SCRIPTS}/print-args.mjs, 'delete', '{{ steps.find.stdout }}']
`,
    });
    await d.post(payload({}));
    const run = await onlyRun(d);
    assert.equal(run.state, 'failed');
    assert.match(run.reason, /step act: \{\{ steps\.find\.stdout \}\} has no value/);
    assert.equal(run.steps.find((s) => s.name === 'act')?.exitCode, null, 'the command never ran');
  });

  test('retries with backoff until the step succeeds, each failed attempt recorded', async () => {
    const counterFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'remediator-c-')), 'n');
    const d = await daemonWith({
      flaky: `${header('flaky')}steps:
  - name: flaky
    run: [${NODE}, ${SCRIPTS}/fail-then-succeed.mjs, ${counterFile}, '3']
    retry: { attempts: 3, backoff: 50ms, maxBackoff: 100ms }
`,
    });
    await d.post(payload({}));
    const run = await onlyRun(d);
    assert.equal(run.state, 'succeeded', run.reason);
    assert.equal(readFileSync(counterFile, 'utf8'), '3');
    assert.deepEqual(
      run.events.filter((e) => e.kind === 'step.retry').map((e) => e.data['attempt']),
      [1, 2],
    );
    assert.equal(run.events.find((e) => e.kind === 'step.finished')?.data['attempts'], 3);
  });

  test('a step timeout kills the command and fails the run', async () => {
    const d = await daemonWith(
      {
        slow: `${header('slow')}steps:
  - name: slow
    run: [${NODE}, ${SCRIPTS}/ignore-term.mjs]
    timeout: 300ms
`,
      },
      { runs: { maxConcurrent: 4, outputCapBytes: 65536, killGrace: '200ms', shutdownGrace: '5s', defaultTimeout: '5m', envAllow: ['PATH'], lease: '30s' } },
    );
    await d.post(payload({}));
    const run = await onlyRun(d);
    assert.equal(run.state, 'failed');
    assert.match(run.reason, /step slow: timed out after 300 ms and was killed/);
  });
});

describe('dry runs execute only what is safe', () => {
  test('read-only steps and dryRun variants run; the rest is planned; notifications say dry run', async () => {
    const marker = path.join(mkdtempSync(path.join(os.tmpdir(), 'remediator-m-')), 'lines');
    const d = await daemonWith(
      {
        careful: `${header('careful')}steps:
  - name: look
    run: [${NODE}, ${SCRIPTS}/append-line.mjs, ${marker}, look]
    readOnly: true
  - name: change
    run: [${NODE}, ${SCRIPTS}/append-line.mjs, ${marker}, change]
    dryRun: [${NODE}, ${SCRIPTS}/append-line.mjs, ${marker}, change, --dry-run=server]
  - name: unsafe
    run: [${NODE}, ${SCRIPTS}/append-line.mjs, ${marker}, unsafe]
  - name: call
    http: { method: POST, url: '${service.url}/rollback/dry' }
  - name: tell
    notify: { text: 'would have acted' }
`,
      },
      { execution: 'dry-run' },
    );
    await d.post(payload({}));
    const run = await onlyRun(d);
    assert.equal(run.state, 'succeeded', run.reason);
    assert.equal(run.dryRun, true);
    assert.equal(readFileSync(marker, 'utf8'), 'look\nchange --dry-run=server\n', 'only the read-only step and the dry-run variant ran');
    assert.deepEqual(
      run.steps.map((s) => [s.name, s.state]),
      [
        ['look', 'succeeded'],
        ['change', 'succeeded'],
        ['unsafe', 'planned'],
        ['call', 'planned'],
        ['tell', 'succeeded'],
      ],
    );
    assert.equal(service.requests.length, 0, 'no request was sent');
    assert.ok(d.logs.some((l) => String(l['message']) === 'notify: [dry run] would have acted'));
    assert.ok(
      d.logs.some((l) => /^notify: \[dry run\] careful for LiveTest \(.*\) succeeded: dry run/.test(String(l['message']))),
      'the end is told too',
    );
  });

  test('a failed dry run does not announce what a live run would never have reached, and says how it ended', async () => {
    const d = await daemonWith(
      {
        rollback: `${header('rollback')}steps:
  - name: history
    run: [${NODE}, ${SCRIPTS}/exit-with.mjs, '1']
    readOnly: true
  - name: undo
    run: [${NODE}, -e, '0']
    dryRun: [${NODE}, -e, '0']
  - name: tell
    notify: { text: 'Rolled back checkout' }
  - name: page
    when: failed
    notify: { text: 'The rollback failed, paging' }
onFailure:
  - notify: { text: 'The rollback did not bring the error rate down' }
`,
      },
      { execution: 'dry-run' },
    );
    await d.post(payload({}));
    const run = await onlyRun(d);
    assert.equal(run.state, 'failed');
    assert.deepEqual(
      run.steps.map((s) => [s.name, s.state]),
      [
        ['history', 'failed'],
        ['undo', 'succeeded'],
        ['tell', 'planned'],
        ['page', 'succeeded'],
        ['onFailure-notify-1', 'succeeded'],
      ],
      'the walk goes on to show the plan; the success text is only planned, what a live run would send goes out',
    );
    const told = d.logs.map((l) => String(l['message'])).filter((m) => m.startsWith('notify: '));
    assert.deepEqual(
      told.map((m) => m.replace(/ \[run r_[0-9A-Z]+\]$/, '').replace(/\(f[0-9a-f]+@[^)]*\)/, '(KEY)')),
      [
        'notify: [dry run] The rollback failed, paging',
        'notify: [dry run] The rollback did not bring the error rate down',
        'notify: [dry run] rollback for LiveTest (KEY) failed: step history: exited with code 1: to stderr',
      ],
    );
    assert.ok(d.logs.some((l) => /dry-run step 3 tell: notify: Rolled back checkout \(after step history failed/.test(String(l['message']))));
  });
});

describe('resolves, concurrency, shutdown and restart', () => {
  test('verify: { resolved: true } waits until Alertmanager reports the alert resolved', async () => {
    const d = await daemonWith({
      waitres: `${header('waitres')}steps:
  - name: until-resolved
    verify: { resolved: true, within: 20s, every: 100ms }
`,
    });
    await d.post(payload({}, { fingerprint: 'aaaa000000000001', startsAt: '2026-11-28T21:00:00Z' }));
    await d.worker.idle();
    const running = async () => (await d.api<{ runs: Run[] }>('/api/runs')).runs[0]?.state;
    await until('the run to run', async () => (await running()) === 'running');
    assert.equal(await running(), 'running');
    await d.post(payload({}, { status: 'resolved', fingerprint: 'aaaa000000000001', startsAt: '2026-11-28T21:00:00Z' }));
    const run = await onlyRun(d);
    assert.equal(run.state, 'succeeded', run.reason);
    assert.match(run.steps[0]?.output ?? '', /holds: the alert resolved/);
  });

  test('runs beyond the concurrency limit wait; a resolve cancels the one that has not started', async () => {
    const d = await daemonWith(
      {
        block: `${header('block')}params:
  n: { from: labels.n, pattern: '[0-9]+' }
steps:
  - name: hold
    verify: { resolved: true, within: 20s, every: 50ms }
`,
      },
      { runs: { maxConcurrent: 1, outputCapBytes: 65536, killGrace: '1s', shutdownGrace: '5s', defaultTimeout: '5m', envAllow: ['PATH'], lease: '30s' } },
    );
    await d.post(payload({ n: '1' }, { fingerprint: 'b000000000000001', startsAt: '2026-11-28T21:00:00Z' }));
    await d.post(payload({ n: '2' }, { fingerprint: 'b000000000000002', startsAt: '2026-11-28T21:00:00Z' }));
    await d.worker.idle();
    const states = async (): Promise<Record<string, string>> => byLabel((await d.api<{ runs: Run[] }>('/api/runs')).runs, 'n');
    await until('run 1 to run', async () => (await states())['1'] === 'running');
    assert.deepEqual(await states(), { '1': 'running', '2': 'pending' });
    await d.post(payload({ n: '2' }, { status: 'resolved', fingerprint: 'b000000000000002', startsAt: '2026-11-28T21:00:00Z' }));
    await d.worker.idle();
    assert.deepEqual(await states(), { '1': 'running', '2': 'cancelled' });
    await d.post(payload({ n: '1' }, { status: 'resolved', fingerprint: 'b000000000000001', startsAt: '2026-11-28T21:00:00Z' }));
    await d.settled();
    assert.deepEqual(await states(), { '1': 'succeeded', '2': 'cancelled' });
  });

  test('shutdown: webhooks get 503, a step that outlives the grace period is killed and its run interrupted; a queued run resumes after restart', async () => {
    const runs = {
      maxConcurrent: 1,
      outputCapBytes: 65536,
      killGrace: '200ms',
      shutdownGrace: '300ms',
      defaultTimeout: '5m',
      envAllow: ['PATH'],
      lease: '30s',
    };
    const d = await daemonWith(
      {
        script: `${header('script')}params:\n  script: { from: labels.script, pattern: '(ignore-term|print-args)' }\nsteps:\n  - name: go\n    run: [${NODE}, '{{ params.script }}.mjs']\n    cwd: ${SCRIPTS}\n`,
      },
      { runs },
    );
    await d.post(payload({ script: 'ignore-term' }));
    await d.post(payload({ script: 'print-args' }));
    await d.worker.idle();
    const states = async (x: TestDaemon): Promise<Record<string, string>> => byLabel((await x.api<{ runs: Run[] }>('/api/runs')).runs, 'script');
    await until('the ignore-term run to run', async () => (await states(d))['ignore-term'] === 'running');
    assert.deepEqual(await states(d), { 'ignore-term': 'running', 'print-args': 'pending' });
    const closing = d.close();
    const during = await d.post(payload({ script: 'print-args' }));
    assert.equal(during.status, 503, 'a webhook during shutdown is refused so that Alertmanager retries');
    await closing;
    daemon = await startTestDaemon({ dir: d.dir, playbooks: playbooksDir, config: { execution: 'live', runs }, env: { PATH: process.env['PATH'] } });
    await daemon.settled();
    const after = await daemon.api<{ runs: Run[] }>('/api/runs');
    assert.deepEqual(Object.fromEntries(after.runs.map((r) => [r.labels['script'], [r.state, r.reason]])), {
      'ignore-term': ['interrupted', 'the daemon shut down while the run was running'],
      'print-args': ['succeeded', 'every step succeeded'],
    });
  });
});

describe('a failing dry run still shows its whole plan', () => {
  test('after a read-only step fails, the rest is still planned or run, and the run ends failed', async () => {
    const marker = path.join(mkdtempSync(path.join(os.tmpdir(), 'remediator-m-')), 'lines');
    const d = await daemonWith(
      {
        diag: `${header('diag')}steps:
  - name: diagnose
    run: [${NODE}, ${SCRIPTS}/exit-with.mjs, '1']
    readOnly: true
  - name: change
    run: [${NODE}, ${SCRIPTS}/append-line.mjs, ${marker}, change]
    dryRun: [${NODE}, ${SCRIPTS}/append-line.mjs, ${marker}, change, --dry-run=server]
  - name: unsafe
    run: [${NODE}, ${SCRIPTS}/append-line.mjs, ${marker}, unsafe]
`,
      },
      { execution: 'dry-run' },
    );
    await d.post(payload({}));
    const run = await onlyRun(d);
    assert.equal(run.state, 'failed');
    assert.equal(run.reason, 'step diagnose: exited with code 1: to stderr');
    assert.deepEqual(
      run.steps.map((s) => [s.name, s.state]),
      [
        ['diagnose', 'failed'],
        ['change', 'succeeded'],
        ['unsafe', 'planned'],
      ],
    );
    assert.equal(readFileSync(marker, 'utf8'), 'change --dry-run=server\n');
  });
});

describe('notify texts see the alert as it came', () => {
  test('{{ alert.generatorURL }} and {{ alert.name }} render in a notify text, from the alert the run was made for', async () => {
    const d = await daemonWith({
      tell: `${header('tell')}steps:
  - name: tell
    notify: { text: 'graph for {{ alert.name }}: {{ alert.generatorURL }}' }
`,
    });
    await d.post(payload({}));
    const run = await onlyRun(d);
    assert.equal(run.state, 'succeeded');
    assert.equal(run.steps[0]?.vars?.['stdout'], 'graph for LiveTest: http://prom.example/graph?g0.expr=x');
  });
});
