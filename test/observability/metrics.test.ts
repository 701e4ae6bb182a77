import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import type { Run } from '../../src/domain/run.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { fixture, fixtureText, ROOT } from '../support/fixtures.js';
import { findExecutable } from '../support/service-binary.js';
import { API_TOKEN, removeDir, startTestDaemon, type TestDaemon } from '../support/test-daemon.js';

// /metrics of a real daemon after real traffic, checked by Prometheus's own linter (promtool, a
// child process reading the exposition on stdin) and against the metric set DESIGN.md promises.

const SKIP_LINE = 'skipped: promtool not installed (apt-get install -y prometheus)';
const promtool = findExecutable('promtool');
const inCi = !['', '0', 'false'].includes((process.env['CI'] ?? '').toLowerCase());
const skipPromtool = promtool === null && !inCi;
if (skipPromtool) process.stdout.write(`${SKIP_LINE}\n`);

/** Every family remediator exposes, with its type; the README's Metrics section lists the same. */
const FAMILIES: Record<string, 'counter' | 'gauge' | 'histogram'> = {
  remediator_alerts_received_total: 'counter',
  remediator_webhook_requests_total: 'counter',
  remediator_webhook_request_duration_seconds: 'histogram',
  remediator_auth_failures_total: 'counter',
  remediator_batches_pending: 'gauge',
  remediator_runs_suppressed_total: 'counter',
  remediator_alerts_redelivered_total: 'counter',
  remediator_silences_total: 'counter',
  remediator_annotations_total: 'counter',
  remediator_escalations_total: 'counter',
  remediator_runs_held_total: 'counter',
  remediator_storms_total: 'counter',
  remediator_storm_active: 'gauge',
  remediator_circuit_open: 'gauge',
  remediator_paused: 'gauge',
  remediator_runs_total: 'counter',
  remediator_runs_in_progress: 'gauge',
  remediator_step_duration_seconds: 'histogram',
  remediator_approvals_total: 'counter',
  remediator_approvals_pending: 'gauge',
  remediator_approvals_next_expiry_timestamp_seconds: 'gauge',
  remediator_notifications_total: 'counter',
  remediator_config_last_reload_successful: 'gauge',
  remediator_config_last_reload_success_timestamp_seconds: 'gauge',
  remediator_playbooks_loaded: 'gauge',
  remediator_build_info: 'gauge',
};

/** A few of prom-client's process metrics, under our prefix. */
const PROCESS_FAMILIES: Record<string, 'counter' | 'gauge' | 'histogram'> = {
  remediator_process_cpu_seconds_total: 'counter',
  remediator_process_start_time_seconds: 'gauge',
  remediator_process_resident_memory_bytes: 'gauge',
  remediator_nodejs_eventloop_lag_seconds: 'gauge',
  remediator_nodejs_heap_size_used_bytes: 'gauge',
  remediator_nodejs_active_handles: 'gauge',
};

/** The exposition's families: name → {type, help}. */
function families(text: string): Map<string, { type?: string; help?: string }> {
  const found = new Map<string, { type?: string; help?: string }>();
  for (const m of text.matchAll(/^# (HELP|TYPE) (\S+) (.*)$/gm)) {
    const [, what, name, rest] = m as unknown as [string, 'HELP' | 'TYPE', string, string];
    const entry = found.get(name) ?? {};
    if (what === 'TYPE') entry.type = rest;
    else entry.help = rest;
    found.set(name, entry);
  }
  return found;
}

/** The value of one series, given exactly as exposed (name{labels}), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Pipes the exposition to `promtool check metrics` on stdin. */
function promtoolCheck(binary: string, text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

/** An amtool-captured payload with the given alert name and fingerprint. */
function payload(alertname: string, fingerprint: string): Record<string, unknown> {
  const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[] };
  const alert = p.alerts[0] as Record<string, unknown>;
  alert['labels'] = { ...(alert['labels'] as Record<string, string>), alertname };
  alert['fingerprint'] = fingerprint;
  return p;
}

describe('/metrics after real traffic', () => {
  let daemon: TestDaemon;
  let dir: string;
  let text: string;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-metrics-'));
    const playbooks = path.join(dir, 'playbooks');
    mkdirSync(playbooks);
    const node = process.execPath;
    writeFileSync(
      path.join(playbooks, 'act.yaml'),
      `name: act\nmatch: { alertname: HighErrorRate }\nmode: live\nsteps:\n  - name: act\n    run: [${node}, -e, '0']\n  - notify: { text: 'acted on {{ labels.service }}' }\n`,
    );
    writeFileSync(
      path.join(playbooks, 'hold.yaml'),
      `name: hold\nmatch: { alertname: NeedsApproval }\nmode: approve\nsteps:\n  - name: act\n    run: [${node}, -e, '0']\n`,
    );
    daemon = await startTestDaemon({ dir, playbooks, config: { execution: 'live' }, env: { PATH: process.env['PATH'] } });

    // A run that succeeds, the same alert again (a duplicate), a run held for approval, a resolve.
    assert.equal((await daemon.post(fixtureText('amtool-firing.json'))).status, 200);
    await daemon.settled();
    assert.equal((await daemon.post(fixtureText('amtool-firing.json'))).status, 200);
    assert.equal((await daemon.post(payload('NeedsApproval', '00000000000000a1'))).status, 200);
    assert.equal((await daemon.post(fixtureText('amtool-resolved.json'))).status, 200);
    await daemon.settled();
    // Refusals: a wrong webhook token, an API call without one, a body that is not JSON.
    assert.equal((await daemon.post(fixtureText('amtool-firing.json'), { authorization: 'Bearer wrong-token-000000000000' })).status, 401);
    assert.equal((await fetch(`${daemon.url}/api/runs`)).status, 401);
    assert.equal((await daemon.post('{not json')).status, 400);
    const reload = await fetch(`${daemon.url}/-/reload`, { method: 'POST', headers: { authorization: `Bearer ${API_TOKEN}` } });
    assert.equal(reload.status, 200, await reload.text());

    const runs = (await daemon.api<{ runs: Run[] }>('/api/runs')).runs.map((r) => `${r.playbook}:${r.state}`).sort();
    assert.deepEqual(runs, ['act:succeeded', 'hold:awaiting_approval']);
    const res = await fetch(`${daemon.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    text = await res.text();
  });
  after(async () => {
    await daemon.close();
    removeDir(dir);
  });

  test('promtool check metrics passes, with nothing to lint', { skip: skipPromtool ? SKIP_LINE : false }, async () => {
    if (promtool === null) throw new Error('CI is set and promtool is not installed: apt-get install -y prometheus');
    const { code, output } = await promtoolCheck(promtool, text);
    assert.equal(output, '', `promtool found problems:\n${output}`);
    assert.equal(code, 0);
  });

  test('every metric family DESIGN.md promises is exposed, with its type and a help text', () => {
    const found = families(text);
    for (const [name, type] of Object.entries({ ...FAMILIES, ...PROCESS_FAMILIES })) {
      assert.equal(found.get(name)?.type, type, `${name} should be a ${type}`);
      assert.ok((found.get(name)?.help ?? '').length > 10, `${name} needs a help text`);
    }
    const ours = [...found.keys()].filter((n) => n.startsWith('remediator_') && !/^remediator_(process|nodejs)_/.test(n));
    assert.deepEqual(ours.sort(), Object.keys(FAMILIES).sort(), 'a new metric goes into FAMILIES here and into the README');
  });

  test('the traffic shows as labelled series', () => {
    const expected: [string, number | undefined][] = [
      ['remediator_alerts_received_total{status="firing"}', 3],
      ['remediator_alerts_received_total{status="resolved"}', 1],
      ['remediator_webhook_requests_total{code="200"}', 4],
      ['remediator_webhook_requests_total{code="400"}', 1],
      ['remediator_webhook_requests_total{code="401"}', 1],
      ['remediator_webhook_request_duration_seconds_count{code="200"}', 4],
      ['remediator_auth_failures_total{endpoint="webhook"}', 1],
      ['remediator_auth_failures_total{endpoint="api"}', 1],
      ['remediator_auth_failures_total{endpoint="slack"}', 0],
      ['remediator_runs_total{playbook="act",outcome="succeeded",mode="live"}', 1],
      // The same alert again is a re-delivery, counted apart: not a suppression.
      ['remediator_alerts_redelivered_total{playbook="act"}', 1],
      ['remediator_runs_suppressed_total{playbook="act",reason="duplicate"}', undefined],
      ['remediator_step_duration_seconds_count{kind="run",outcome="succeeded"}', 1],
      ['remediator_step_duration_seconds_count{kind="notify",outcome="succeeded"}', 1],
      ['remediator_approvals_total{playbook="hold",outcome="requested"}', 1],
      ['remediator_approvals_pending', 1],
      ['remediator_batches_pending', 0],
      ['remediator_circuit_open', 0],
      ['remediator_paused', 0],
      ['remediator_config_last_reload_successful', 1],
      ['remediator_playbooks_loaded', 2],
    ];
    for (const [series, value] of expected) assert.equal(sample(text, series), value, series);
    assert.ok((sample(text, 'remediator_notifications_total{notifier="log",outcome="sent"}') ?? 0) >= 1, 'the notify step was sent');
    const reloadedAt = sample(text, 'remediator_config_last_reload_success_timestamp_seconds') ?? 0;
    assert.ok(Math.abs(reloadedAt - Date.now() / 1000) < 60, `reload timestamp in seconds, now: ${reloadedAt}`);
    assert.match(text, /^remediator_build_info\{version="\d+\.\d+\.\d+[^"]*"\} 1$/m);
    assert.doesNotMatch(text, /_active_(handles|requests|resources)_total/, 'gauges named _total are left out');
  });

  test('the README lists every metric family', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = /^## Metrics\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
    assert.ok(section !== '', 'README.md has a "## Metrics" section');
    const listed = new Set(section.match(/remediator_[a-z_]+/g) ?? []);
    for (const name of Object.keys(FAMILIES)) assert.ok(listed.has(name), `README.md Metrics section lists ${name}`);
  });
});

describe('gauges read from the store when scraped', () => {
  test('a probe sets the gauge at each scrape; a failing probe keeps the last value; none set, no series', async () => {
    const metrics = createMetrics(new Registry());
    const scrape = () => metrics.registry.metrics();
    assert.equal(sample(await scrape(), 'remediator_runs_in_progress{state="running"}'), undefined, 'no probe, no series');

    let counts: Record<string, number> | Error = { pending: 2, running: 1 };
    let reads = 0;
    metrics.guardProbe.runsInProgress = () => (counts instanceof Error ? Promise.reject(counts) : Promise.resolve(counts));
    metrics.guardProbe.pendingApprovals = () => Promise.resolve(3);
    let nextExpiry: string | null = '2026-12-02T03:12:00.000Z';
    metrics.guardProbe.nextApprovalExpiry = () => Promise.resolve(nextExpiry);
    metrics.guardProbe.read = () => {
      reads++;
      return Promise.resolve({ paused: true, circuitOpen: false });
    };
    let text = await scrape();
    assert.equal(sample(text, 'remediator_runs_in_progress{state="pending"}'), 2);
    assert.equal(sample(text, 'remediator_runs_in_progress{state="awaiting_approval"}'), 0, 'a state left out counts 0');
    assert.equal(sample(text, 'remediator_runs_in_progress{state="running"}'), 1);
    assert.equal(sample(text, 'remediator_approvals_pending'), 3);
    assert.equal(sample(text, 'remediator_paused'), 1);
    assert.equal(sample(text, 'remediator_circuit_open'), 0);
    assert.equal(reads, 1, 'one store read serves the pause and the circuit gauges');
    assert.equal(sample(text, 'remediator_approvals_next_expiry_timestamp_seconds'), Date.parse('2026-12-02T03:12:00.000Z') / 1000);
    nextExpiry = null;
    assert.equal(sample(await scrape(), 'remediator_approvals_next_expiry_timestamp_seconds'), 0, 'no open request: 0');

    counts = new Error('database is locked');
    metrics.guardProbe.pendingApprovals = () => Promise.reject(new Error('database is locked'));
    text = await scrape();
    assert.equal(sample(text, 'remediator_runs_in_progress{state="pending"}'), 2, 'kept');
    assert.equal(sample(text, 'remediator_approvals_pending'), 3, 'kept');
  });

  test('two registries in one process each get their own metrics, process metrics included', async () => {
    const a = createMetrics(new Registry());
    const b = createMetrics(new Registry());
    a.alertsReceived.inc({ status: 'firing' });
    assert.equal(sample(await a.registry.metrics(), 'remediator_alerts_received_total{status="firing"}'), 1);
    const other = await b.registry.metrics();
    assert.equal(sample(other, 'remediator_alerts_received_total{status="firing"}'), 0);
    assert.match(other, /^remediator_process_start_time_seconds \d+/m);
  });
});
