import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Run, RunDetail } from '../../src/domain/run.js';
import { findAlertmanagerBinaries, startAlertmanager, type Alertmanager } from '../support/alertmanager.js';
import { startDaemonProcess, type DaemonProcess } from '../support/daemon-process.js';
import { until } from '../support/until.js';

// End to end with real processes: amtool → a real Alertmanager (grouping, send_resolved, bearer
// token) → `remediator serve` as a child process → its HTTP API, metrics and JSON log.

const SKIP_LINE = 'skipped: prometheus-alertmanager/amtool not installed (apt-get install prometheus-alertmanager)';
const binaries = findAlertmanagerBinaries();
const inCi = !['', '0', 'false'].includes((process.env['CI'] ?? '').toLowerCase());
const skip = binaries === null && !inCi;
if (skip) process.stdout.write(`${SKIP_LINE}\n`);

const NODE = process.execPath;
const PRINT_ARGS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'scripts', 'print-args.mjs');
const PLAYBOOK = `# The shape of playbooks/rollback-on-error-burst.yaml, for an alert only this test fires.
name: e2e-rollback-on-error-burst
description: Roll back a Deployment whose 5xx rate spiked right after an upgrade (e2e test).
owner: platform-team
match:
  alertname: E2EUpgradeErrorBurst
  matchers: ['severity=~"critical|page"', 'namespace!="kube-system"']
params:
  namespace:  { from: labels.namespace,  pattern: '[a-z0-9-]{1,63}' }
  deployment: { from: labels.deployment, pattern: '[a-z0-9-]{1,63}' }
mode: dry-run
steps:
  - name: history
    # Read-only: a dry run really executes it (here a stand-in for kubectl that prints its arguments).
    run: [${NODE}, ${PRINT_ARGS}, rollout, history, 'deployment/{{ params.deployment }}', -n, '{{ params.namespace }}']
    readOnly: true
    timeout: 30s
  - name: undo
    run: [kubectl, rollout, undo, 'deployment/{{ params.deployment }}', -n, '{{ params.namespace }}']
    # The dry-run variant also really runs in a dry run; the live command above is only planned.
    dryRun: [${NODE}, ${PRINT_ARGS}, rollout, undo, 'deployment/{{ params.deployment }}', -n, '{{ params.namespace }}', --dry-run=server]
  - name: tell
    notify: { text: 'Rolled back {{ labels.namespace }}/{{ labels.deployment }} (run {{ run.id }})' }
`;
const PLAYBOOK_NAME = 'e2e-rollback-on-error-burst';
const LABELS = { alertname: 'E2EUpgradeErrorBurst', namespace: 'shop', deployment: 'checkout', severity: 'critical' };
const UNDO_ARGV = ['kubectl', 'rollout', 'undo', 'deployment/checkout', '-n', 'shop'];
const DEADLINE_MS = 20_000;
const DELIVERIES = 2;

describe('Alertmanager posts to remediator serve (real processes)', { timeout: 60_000 }, () => {
  let playbooksDir: string | undefined;
  let daemon: DaemonProcess | undefined;
  let alertmanager: Alertmanager | undefined;
  let firstRun: Run | undefined;

  /** Everything the processes said, for a failure message that explains itself. */
  const context = () =>
    [
      `--- daemon stderr:\n${daemon?.stderr() ?? ''}`,
      `--- daemon stdout (last 30 lines):\n${(daemon?.stdoutLines ?? []).slice(-30).join('\n')}`,
      `--- Alertmanager:\n${alertmanager?.output().split('\n').slice(-30).join('\n') ?? ''}`,
    ].join('\n');

  const runs = async () => (await daemon!.api<{ runs: Run[]; next: string | null }>(`/api/runs?playbook=${PLAYBOOK_NAME}&limit=50`)).runs;
  const allRuns = async () => (await daemon!.api<{ runs: Run[]; next: string | null }>('/api/runs?limit=50')).runs;
  const runDetail = (id: string) => daemon!.api<RunDetail>(`/api/runs/${encodeURIComponent(id)}`);

  before(async () => {
    if (skip) return;
    if (binaries === null) throw new Error('CI is set and prometheus-alertmanager/amtool are not installed: apt-get install prometheus-alertmanager');
    playbooksDir = await mkdtemp(path.join(os.tmpdir(), 'remediator-e2e-playbooks-'));
    await writeFile(path.join(playbooksDir, 'rollback.yaml'), PLAYBOOK);
    daemon = await startDaemonProcess({ playbooks: playbooksDir, args: ['--execution', 'dry-run'] });
    // Two identical webhook_configs: every notification arrives twice, as from an HA pair.
    alertmanager = await startAlertmanager({ binaries, webhookUrl: `${daemon.url}/webhook`, webhookToken: daemon.webhookToken, deliveries: DELIVERIES });
  });

  after(async () => {
    // Each one on its own: a failure to stop one must not leave the other running.
    await Promise.allSettled([alertmanager?.stop(), daemon?.stop()]);
    if (playbooksDir) await rm(playbooksDir, { recursive: true, force: true });
  });

  test('a firing alert added with amtool becomes one dry run with the rendered plan', { skip }, async () => {
    await alertmanager!.addAlert(LABELS, { summary: 'checkout answers 5xx after the upgrade' });

    const found = await until(
      'a run of the playbook',
      async () => {
        const list = await runs();
        return list.length > 0 ? list : undefined;
      },
      { timeoutMs: DEADLINE_MS, everyMs: 100, retryErrors: true, context },
    );
    assert.equal(found.length, 1, `runs: ${JSON.stringify(found)}`);
    const created = found[0]!;
    // Both deliveries of the notification processed, and still one run for the one instance.
    await processed(daemon!, 'firing', DELIVERIES, context);
    assert.deepEqual(
      (await allRuns()).map((r) => r.id),
      [created.id],
    );

    const run = await until(
      'the run to finish',
      async () => {
        const r = await runDetail(created.id);
        return r.finishedAt === null ? undefined : r;
      },
      { timeoutMs: DEADLINE_MS, everyMs: 100, retryErrors: true, context },
    );
    firstRun = run;

    assert.equal(run.state, 'succeeded', `state ${run.state}: ${run.reason}`);
    assert.equal(run.dryRun, true);
    assert.equal(run.playbook, PLAYBOOK_NAME);
    assert.equal(run.alertname, 'E2EUpgradeErrorBurst');
    assert.deepEqual(run.params, { namespace: 'shop', deployment: 'checkout' });
    assert.deepEqual(run.labels, LABELS);
    assert.equal(run.annotations['summary'], 'checkout answers 5xx after the upgrade');
    assert.equal(run.resolvedAt, null);

    const undo = run.steps.find((s) => s.name === 'undo');
    assert.ok(undo, `steps: ${run.steps.map((s) => s.name).join(', ')}`);
    assert.ok(undo.rendered.kind === 'run', `undo is a ${undo.rendered.kind} step`);
    assert.deepEqual(undo.rendered.argv, UNDO_ARGV);
    assert.deepEqual(undo.rendered.dryRunArgv, [NODE, PRINT_ARGS, ...UNDO_ARGV.slice(1), '--dry-run=server']);
    assert.equal(undo.state, 'succeeded', 'the dry-run variant ran');
    assert.equal(undo.output, `${JSON.stringify([...UNDO_ARGV.slice(1), '--dry-run=server'])}\n`);
    const history = run.steps.find((s) => s.name === 'history');
    assert.equal(history?.state, 'succeeded', 'the read-only step ran');
    assert.equal(history?.output, `${JSON.stringify(['rollout', 'history', 'deployment/checkout', '-n', 'shop'])}\n`);
    const tell = run.steps.find((s) => s.name === 'tell');
    assert.deepEqual(tell?.rendered, { kind: 'notify', text: `Rolled back shop/checkout (run ${run.id})`, channel: null });

    const kinds = run.events.map((e) => e.kind);
    for (const kind of ['decision', 'run.created', 'run.state'] as const) assert.ok(kinds.includes(kind), `events: ${kinds.join(', ')}`);
    const states = run.events.filter((e) => e.kind === 'run.state').map((e) => e.data['to']);
    assert.deepEqual(states, ['running', 'succeeded']);

    // The operator's view: the JSON log names the run and the exact command of the dry run.
    const line = await daemon!.waitForLine(
      (l) => l.includes(run.id) && l.includes('print-args.mjs rollout undo deployment/checkout -n shop --dry-run=server'),
      `a log line with run ${run.id} and the rendered undo command`,
    );
    const entry = JSON.parse(line) as Record<string, unknown>;
    assert.equal(entry['runId'], run.id);
    assert.equal(entry['level'], 'info');
  });

  test('resolving the alert is recorded on the run and starts nothing', { skip }, async () => {
    assert.ok(firstRun, 'needs the run of the previous test');
    const runId = firstRun.id;
    // Alertmanager merges the resolve into the firing alert only if its end falls after the start.
    const end = new Date(Math.max(Date.parse(firstRun.startsAt) + 1, Date.now() - 100));
    await alertmanager!.resolveAlert(LABELS, end);

    const resolved = await until(
      'the resolve to be recorded on the run',
      async () => {
        const r = await runDetail(runId);
        return r.resolvedAt !== null && r.events.some((e) => e.kind === 'alert.resolved') ? r : undefined;
      },
      { timeoutMs: DEADLINE_MS, everyMs: 100, retryErrors: true, context },
    );
    assert.equal(resolved.state, 'succeeded');
    assert.equal(resolved.startsAt, firstRun.startsAt);
    assert.equal(resolved.fingerprint, firstRun.fingerprint);

    // Every delivery of the resolve fully processed, by the metrics rather than the clock.
    const metrics = await processed(daemon!, 'resolved', DELIVERIES, context);
    assert.ok(metricValue(metrics, 'remediator_alerts_received_total', { status: 'firing' }) >= DELIVERIES);

    // However often Alertmanager delivered the group, firing or resolved, one instance is one run.
    const everything = await allRuns();
    assert.deepEqual(
      everything.map((r) => r.id),
      [runId],
    );
    assert.equal(metricSum(metrics, 'remediator_runs_total', { playbook: PLAYBOOK_NAME }), 1);
  });
});

/**
 * Waits until the daemon has received at least `count` alerts of this status and processed every
 * stored batch; returns the metrics text. resolvedAt and runs appear half-way through a batch: the
 * worker sets batches_pending to the pending count before it takes a batch and to 0 only after
 * the last one, so 0 after the count is reached means everything received has been decided on.
 */
async function processed(daemon: DaemonProcess, status: 'firing' | 'resolved', count: number, context: () => string): Promise<string> {
  return until(
    `${count} ${status} alert(s) received and every batch processed`,
    async () => {
      const text = await daemon.metrics();
      const received = metricValue(text, 'remediator_alerts_received_total', { status });
      return received >= count && metricValue(text, 'remediator_batches_pending', {}) === 0 ? text : undefined;
    },
    { timeoutMs: DEADLINE_MS, everyMs: 100, retryErrors: true, context },
  );
}

/** The value of one sample of a Prometheus text exposition (0 if absent). */
function metricValue(text: string, name: string, labels: Readonly<Record<string, string>>): number {
  const samples = parseSamples(text, name).filter((s) => sameLabels(s.labels, labels));
  return samples[0]?.value ?? 0;
}

/** The sum of every sample of a metric whose labels include `labels`. */
function metricSum(text: string, name: string, labels: Readonly<Record<string, string>>): number {
  return parseSamples(text, name)
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  return Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);
}

function parseSamples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}
