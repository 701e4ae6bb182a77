import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Run, RunDetail } from '../../src/domain/run.js';
import { PROJECT_ROOT, startDaemonProcess, type DaemonProcess } from '../support/daemon-process.js';
import { until } from '../support/until.js';

// The crash test. `remediator serve --execution live` as a child process; 200 alerts posted to it,
// one per webhook, 8 at a time; SIGKILL half-way, while webhooks are in flight and runs are
// mid-step; then a second daemon on the same SQLite file (taking over the dead one's lock), to
// which the deliveries that were cut off are made again, as Alertmanager would. Every alert the
// first daemon answered 200 must be in the store with exactly one run; the runs caught running
// are interrupted and never started again; the runs decided but not started are resumed; and no
// step ran twice, which the fixture steps prove by appending a line each to a marker file.

const NODE = process.execPath;
const APPEND_LINE = path.join(PROJECT_ROOT, 'test', 'fixtures', 'scripts', 'append-line.mjs');
const PLAYBOOK_NAME = 'crash-test';
const ALERTS = 200;
/** Webhooks posted at once; each carries one alert, so an answer acknowledges exactly one alert. */
const POST_CONCURRENCY = 8;
/** The kill comes at the first moment with at least this many acknowledgements and a run mid-step. */
const KILL_AFTER_ACKS = 100;
/** The middle step: long enough that runs are caught mid-step, short enough for the backlog to clear in time. */
const MIDDLE_STEP = '300ms';
// Few runs at once, so that runs decided before the kill are still waiting (pending) when it comes.
const MAX_CONCURRENT_RUNS = 2;
const POST_TIMEOUT_MS = 10_000;
const KILL_DEADLINE_MS = 15_000;
const BACKLOG_DEADLINE_MS = 80_000;
const INTERRUPTED_REASON = /daemon restarted while the run was running/;

/** The fingerprint of alert n: 16 hex digits like Alertmanager's, one per alert. */
const fingerprintOf = (n: number) => (0xc4a5_0000_0000 + n).toString(16).padStart(16, '0');

type PostResult = { kind: 'acked'; batch: string } | { kind: 'refused'; status: number; body: string } | { kind: 'failed'; error: string };

interface MarkerCounts {
  readonly start: Map<number, number>;
  readonly end: Map<number, number>;
  readonly stray: string[];
}

describe('crash: SIGKILL mid-way through 200 alerts, then a restart on the same database', { timeout: 120_000 }, () => {
  let dir: string | undefined;
  let first: DaemonProcess | undefined;
  let second: DaemonProcess | undefined;
  /** What was observed; printed at the end, also when an assertion failed. */
  const report: Record<string, unknown> = {};

  const context = () =>
    [
      `--- first daemon stderr:\n${first?.stderr() ?? ''}`,
      `--- first daemon stdout (last 20 lines):\n${(first?.stdoutLines ?? []).slice(-20).join('\n')}`,
      `--- second daemon stderr:\n${second?.stderr() ?? ''}`,
      `--- second daemon stdout (last 20 lines):\n${(second?.stdoutLines ?? []).slice(-20).join('\n')}`,
    ].join('\n');

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'remediator-crash-'));
  });

  after(async () => {
    process.stdout.write(`crash test: ${JSON.stringify(report)}\n`);
    // Each on its own: a failure to stop one must not leave the other running.
    await Promise.allSettled([first?.stop(), second?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('every acknowledged alert is decided once, running runs are interrupted, pending ones resumed, no step runs twice', async () => {
    const playbooks = path.join(dir!, 'playbooks');
    const marker = path.join(dir!, 'marker.txt');
    const db = path.join(dir!, 'remediator.db');
    await mkdir(playbooks);
    await writeFile(marker, '');
    await writeFile(path.join(playbooks, 'crash.yaml'), playbookYaml(marker));
    const daemonOptions = {
      playbooks,
      db,
      args: ['--execution', 'live'],
      env: {
        REMEDIATOR_RUNS_MAX_CONCURRENT: String(MAX_CONCURRENT_RUNS),
        // The default budget (20 live runs per hour) would open the circuit after 20 runs.
        REMEDIATOR_GUARDS_BUDGET_COUNT: '100000',
        // Hundreds of alerts on as many targets are a storm; this test is about crashes, not storms.
        REMEDIATOR_GUARDS_STORM_ENABLED: 'false',
      },
    };
    const timings: Record<string, number> = {};
    report['timingsMs'] = timings;
    const t0 = Date.now();

    // --- Phase 1: post the 200 alerts and kill the daemon half-way.
    first = await startDaemonProcess(daemonOptions);
    const daemon = first;
    const tStarted = Date.now();
    timings['firstStart'] = tStarted - t0;
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const results = new Map<number, PostResult>();
    const inFlight = new Set<number>();
    let inFlightAtKill: ReadonlySet<number> | null = null;
    let acked = 0;
    let killedAt: number | null = null;
    let next = 0;

    // A run whose start line is there and whose end line is not is mid-step, so `running` in the
    // store: the pending → running transition and each step start are committed before the command.
    const someRunMidStep = () => {
      const m = readMarker(marker);
      return [...m.start.keys()].some((n) => !m.end.has(n));
    };
    const maybeKill = () => {
      if (killedAt !== null || acked < KILL_AFTER_ACKS || !someRunMidStep()) return;
      killedAt = Date.now();
      inFlightAtKill = new Set(inFlight);
      daemon.signal('SIGKILL');
    };
    // After the kill the posts go on, and fail at once (connection refused): all 200 are posted.
    const worker = async () => {
      while (next < ALERTS) {
        const n = next++;
        inFlight.add(n);
        const result = await post(daemon, n, startsAt);
        inFlight.delete(n);
        results.set(n, result);
        if (result.kind === 'acked') acked++;
        maybeKill();
      }
    };
    const poster = Promise.all(Array.from({ length: POST_CONCURRENCY }, worker));
    // Should every post be answered before a run is mid-step, the kill still comes (nothing in flight then).
    const killer = until(
      'the kill condition (enough acknowledgements and a run mid-step)',
      () => {
        maybeKill();
        return Promise.resolve(killedAt ?? undefined);
      },
      { timeoutMs: KILL_DEADLINE_MS, everyMs: 10, retryErrors: true, context },
    );
    await Promise.all([poster, killer]);
    const exit = await daemon.exited();
    assert.equal(exit.signal, 'SIGKILL', `the first daemon exited with ${JSON.stringify(exit)}`);
    const tKilled = Date.now();
    timings['postingUntilKill'] = (killedAt ?? tKilled) - tStarted;

    const cutOff: ReadonlySet<number> = inFlightAtKill ?? new Set<number>();
    const ackedBatch = new Map<number, string>();
    const failed: number[] = [];
    for (const [n, r] of results) {
      if (r.kind === 'refused') assert.fail(`alert ${n} was refused: ${r.status} ${r.body}`);
      if (r.kind === 'acked') ackedBatch.set(n, r.batch);
      else failed.push(n);
    }
    // In flight at the kill and not answered: Alertmanager would deliver these again.
    const redeliver = failed.filter((n) => cutOff.has(n)).sort((a, b) => a - b);
    Object.assign(report, { posted: results.size, acked, failedPosts: failed.length, inFlightAtKill: cutOff.size, cutOffInFlight: redeliver.length });
    assert.equal(results.size, ALERTS);
    assert.ok(acked >= KILL_AFTER_ACKS, `acknowledged ${acked}`);
    assert.ok(acked < ALERTS, 'the kill came before every alert was acknowledged');

    // The killed daemon's lock is still beside the database: the restart must take it over.
    const lockFile = `${db}.lock`;
    assert.ok(existsSync(lockFile), 'the SIGKILLed daemon leaves its lock file behind');
    const staleOwner = readFileSync(lockFile, 'utf8').trim();
    // Lines written before the restart: by the first daemon's steps, or by a step child of it (in
    // its own process group) finishing just after the kill.
    const beforeRestart = readMarker(marker);

    // --- Phase 2: restart on the same database and playbooks, deliver the cut-off webhooks again,
    // and wait for the backlog.
    second = await startDaemonProcess(daemonOptions);
    const restarted = second;
    const tRestarted = Date.now();
    timings['restart'] = tRestarted - tKilled;
    assert.notEqual(readFileSync(lockFile, 'utf8').trim(), staleOwner, 'the lock now names the second daemon');

    const redeliveredBatch = new Map<number, string>();
    for (const n of redeliver) {
      const r = await post(restarted, n, startsAt);
      assert.ok(r.kind === 'acked', `re-delivery of alert ${n}: ${JSON.stringify(r)}`);
      redeliveredBatch.set(n, r.batch);
    }

    await until(
      'the backlog processed: no batch pending, no run pending or running',
      async () => {
        if (gauge(await restarted.metrics(), 'remediator_batches_pending') !== 0) return undefined;
        for (const status of ['pending', 'running'] as const) {
          const page = await restarted.api<{ runs: Run[] }>(`/api/runs?status=${status}&limit=1`);
          if (page.runs.length > 0) return undefined;
        }
        return true;
      },
      { timeoutMs: BACKLOG_DEADLINE_MS, everyMs: 200, retryErrors: true, context },
    );
    timings['backlog'] = Date.now() - tRestarted;

    // --- The store's view (through the API).
    const runs = await allRuns(restarted);
    const byN = new Map<number, Run[]>();
    for (const run of runs) {
      assert.equal(run.playbook, PLAYBOOK_NAME);
      const n = Number(run.params['n']);
      assert.ok(Number.isInteger(n) && n >= 0 && n < ALERTS, `run ${run.id} has params ${JSON.stringify(run.params)}`);
      assert.equal(run.fingerprint, fingerprintOf(n), `run ${run.id} for n=${n}`);
      assert.equal(run.labels['n'], String(n));
      byN.set(n, [...(byN.get(n) ?? []), run]);
    }
    const states = new Map<string, number>();
    for (const run of runs) states.set(run.state, (states.get(run.state) ?? 0) + 1);
    Object.assign(report, { runs: runs.length, states: Object.fromEntries(states) });

    // Nothing acknowledged was lost: each acknowledged alert has its run, from the batch acknowledged.
    const lost = [...ackedBatch.keys()].filter((n) => !byN.has(n)).sort((a, b) => a - b);
    assert.deepEqual(lost, [], 'acknowledged alerts without a run');
    for (const [n, batch] of ackedBatch) assert.equal(byN.get(n)?.[0]?.batchId, batch, `the run of acknowledged alert ${n} comes from the batch acknowledged`);
    // No alert has two runs, however often it was delivered.
    const doubled = [...byN].filter(([, rs]) => rs.length !== 1).map(([n, rs]) => `${n}: ${rs.map((r) => `${r.id} ${r.state}`).join(', ')}`);
    assert.deepEqual(doubled, [], 'alerts with more than one run');
    // The re-delivered alerts have their run too: from the first delivery when the killed daemon had
    // stored it before dying (its answer lost), else from the second.
    const storedBeforeKill = redeliver.filter((n) => {
      const run = byN.get(n)?.[0];
      assert.ok(run, `re-delivered alert ${n} has a run`);
      return run.batchId !== redeliveredBatch.get(n);
    });
    report['cutOffButStored'] = storedBeforeKill.length;
    // Alerts posted only after the kill never reached a daemon.
    const phantom = [...byN.keys()].filter((n) => !ackedBatch.has(n) && !cutOff.has(n));
    assert.deepEqual(phantom, [], 'runs for alerts that were never delivered');

    const unexpected = runs
      .filter((r) => r.state !== 'succeeded' && r.state !== 'interrupted')
      .map((r) => `${r.id} n=${r.params['n']} ${r.state}: ${r.reason}`);
    assert.deepEqual(unexpected, [], 'every run ends succeeded, or interrupted by the crash');

    // What the second daemon found: running runs (interrupted) and pending ones (resumed), from its log.
    const interruptedIds = new Set(
      restarted.stdoutLines.flatMap((line) => {
        const entry = JSON.parse(line) as { message?: unknown; runIds?: string[] };
        return typeof entry.message === 'string' && /run\(s\) interrupted after a restart/.test(entry.message) ? (entry.runIds ?? []) : [];
      }),
    );
    const resumedIds = new Set(restarted.stdoutLines.flatMap((line) => /"resuming run (r_[0-9A-Za-z]+) /.exec(line)?.[1] ?? []));
    const createdAfterRestart = new Set(restarted.stdoutLines.flatMap((line) => /"run (r_[0-9A-Za-z]+) created: /.exec(line)?.[1] ?? []));
    const interrupted = runs.filter((r) => r.state === 'interrupted');
    const byId = new Map(runs.map((r) => [r.id, r]));
    Object.assign(report, { interrupted: interrupted.length, resumed: resumedIds.size, createdAfterRestart: createdAfterRestart.size });

    assert.ok(interrupted.length >= 1, 'at least one run was caught running (the kill waited for a run mid-step)');
    assert.deepEqual(new Set(interrupted.map((r) => r.id)), interruptedIds, 'the runs interrupted are exactly those the restart reported');
    for (const run of interrupted) {
      assert.match(run.reason, INTERRUPTED_REASON, `run ${run.id}`);
      // The second daemon names it only to report it interrupted (in its log, and to people through
      // the notifiers): no resume, no step.
      const reports = (line: string) =>
        /run\(s\) interrupted after a restart/.test(line) || /"message":"notify: crash-test for \S+ \(\d+\) interrupted: /.test(line);
      const mentions = restarted.stdoutLines.filter((line) => line.includes(run.id) && !reports(line));
      assert.deepEqual(mentions, [], `interrupted run ${run.id}: the second daemon did nothing else with it`);
    }
    assert.ok(resumedIds.size >= 1, 'at least one run was pending at the kill and resumed');
    for (const id of resumedIds) assert.equal(byId.get(id)?.state, 'succeeded', `resumed run ${id}`);

    // Each run went to running once, started each step at most once, and nothing after an interruption.
    for (const run of runs) {
      const detail = await restarted.api<RunDetail>(`/api/runs/${encodeURIComponent(run.id)}`);
      const toRunning = detail.events.filter((e) => e.kind === 'run.state' && e.data['to'] === 'running');
      assert.equal(toRunning.length, 1, `run ${run.id} (${run.state}) went to running ${toRunning.length} time(s)`);
      const started = detail.events.filter((e) => e.kind === 'step.started').map((e) => String(e.data['step']));
      assert.equal(new Set(started).size, started.length, `run ${run.id} started a step twice: ${started.join(', ')}`);
      if (run.state === 'succeeded') {
        assert.deepEqual(
          detail.steps.map((s) => `${s.name}:${s.state}`),
          ['start:succeeded', 'middle:succeeded', 'end:succeeded'],
          `run ${run.id}`,
        );
      } else {
        const stop = detail.events.findIndex((e) => e.kind === 'run.state' && e.data['to'] === 'interrupted');
        assert.ok(stop >= 0, `run ${run.id} has its interruption event`);
        const later = detail.events.slice(stop + 1).filter((e) => e.kind.startsWith('step.') || e.kind === 'run.state');
        assert.deepEqual(
          later.map((e) => e.kind),
          [],
          `run ${run.id}: nothing happened after the interruption`,
        );
        assert.ok(
          !detail.steps.some((s) => s.state === 'running'),
          `run ${run.id}: no step is left running: ${detail.steps.map((s) => `${s.name}:${s.state}`).join(', ')}`,
        );
        // Killed mid-step: that step is marked interrupted (between two steps there is none to mark).
        assert.ok(detail.steps.filter((s) => s.state === 'interrupted').length <= 1, `run ${run.id}: at most the one running step is interrupted`);
      }
    }

    // --- The marker file's view: no step ran twice.
    const final = readMarker(marker);
    Object.assign(report, {
      interruptedWithStartLine: interrupted.filter((r) => final.start.has(Number(r.params['n']))).length,
      interruptedWithEndLine: interrupted.filter((r) => final.end.has(Number(r.params['n']))).length,
    });
    assert.deepEqual(final.stray, [], 'only start/end lines in the marker file');
    for (const [kind, counts] of [
      ['start', final.start],
      ['end', final.end],
    ] as const) {
      const twice = [...counts].filter(([, c]) => c > 1).map(([n, c]) => `${n}×${c}`);
      assert.deepEqual(twice, [], `"${kind} N" lines that appear more than once`);
      const orphan = [...counts.keys()].filter((n) => !byN.has(n));
      assert.deepEqual(orphan, [], `"${kind} N" lines of an alert without a run`);
    }
    for (const run of runs) {
      const n = Number(run.params['n']);
      if (run.state === 'succeeded') {
        assert.equal(final.start.get(n), 1, `succeeded run n=${n}: one start line`);
        assert.equal(final.end.get(n), 1, `succeeded run n=${n}: one end line`);
      } else {
        assert.ok((final.start.get(n) ?? 0) <= 1, `interrupted run n=${n}: at most one start line`);
      }
    }
    // A resumed run had not started before the kill: its lines are all the second daemon's.
    for (const id of resumedIds) {
      const n = Number(byId.get(id)?.params['n']);
      assert.equal(beforeRestart.start.get(n) ?? 0, 0, `resumed run n=${n} wrote nothing before the restart`);
    }
    timings['total'] = Date.now() - t0;
  });
});

/** Posts alert n in a webhook of its own; 200 with the stored batch's id is an acknowledgement. */
async function post(daemon: DaemonProcess, n: number, startsAt: string): Promise<PostResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${POST_TIMEOUT_MS} ms`)), POST_TIMEOUT_MS);
  try {
    const res = await fetch(`${daemon.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${daemon.webhookToken}` },
      body: JSON.stringify(payload(n, startsAt)),
      signal: controller.signal,
    });
    const body = await res.text();
    if (res.status !== 200) return { kind: 'refused', status: res.status, body };
    return { kind: 'acked', batch: String((JSON.parse(body) as { batch?: unknown }).batch) };
  } catch (err) {
    // Connection refused or reset, or the answer cut off: not acknowledged.
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return { kind: 'failed', error: `${err instanceof Error ? err.message : String(err)}${cause}` };
  } finally {
    clearTimeout(timer);
  }
}

function payload(n: number, startsAt: string): unknown {
  const labels = { alertname: 'CrashTest', n: String(n) };
  return {
    version: '4',
    receiver: 'remediator',
    status: 'firing',
    groupKey: `{}:{n="${n}"}`,
    truncatedAlerts: 0,
    groupLabels: labels,
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    alerts: [
      {
        status: 'firing',
        labels,
        annotations: { summary: `crash test alert ${n}` },
        startsAt,
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://127.0.0.1:9090/graph',
        fingerprint: fingerprintOf(n),
      },
    ],
  };
}

function playbookYaml(marker: string): string {
  const q = (s: string) => JSON.stringify(s);
  return `name: ${PLAYBOOK_NAME}
description: Crash test - the first and last steps append a line each to a marker file.
match:
  alertname: CrashTest
params:
  n: { from: labels.n, pattern: '[0-9]+' }
mode: live
guards:
  key: '{{ params.n }}'
steps:
  - name: start
    run: [${q(NODE)}, ${q(APPEND_LINE)}, ${q(marker)}, 'start {{ params.n }}']
  - name: middle
    wait: ${MIDDLE_STEP}
  - name: end
    run: [${q(NODE)}, ${q(APPEND_LINE)}, ${q(marker)}, 'end {{ params.n }}']
`;
}

/** How often each "start N" and "end N" line appears in the marker file. */
function readMarker(file: string): MarkerCounts {
  const counts: MarkerCounts = { start: new Map(), end: new Map(), stray: [] };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue;
    const m = /^(start|end) (\d+)$/.exec(line);
    if (!m) {
      counts.stray.push(line);
      continue;
    }
    const map = m[1] === 'start' ? counts.start : counts.end;
    const n = Number(m[2]);
    map.set(n, (map.get(n) ?? 0) + 1);
  }
  return counts;
}

/** Every run, through the pages of GET /api/runs. */
async function allRuns(daemon: DaemonProcess): Promise<Run[]> {
  const runs: Run[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const body: { runs: Run[]; next: string | null } = await daemon.api(`/api/runs?limit=50${query}`);
    runs.push(...body.runs);
    cursor = body.next;
    if (cursor === null) return runs;
  }
  throw new Error('GET /api/runs kept answering a next cursor');
}

/** The value of an unlabelled gauge in a Prometheus text exposition (NaN if absent). */
function gauge(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}
