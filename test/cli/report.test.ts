import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { NewEvent, RunState, RunStep } from '../../src/domain/run.js';
import type { Store } from '../../src/domain/store.js';
import { newId } from '../../src/record/ids.js';
import { redactUrl } from '../../src/record/postgres/pg-connection.js';
import { PostgresStore } from '../../src/record/postgres/postgres-store.js';
import { SqliteStore } from '../../src/record/sqlite/sqlite-store.js';
import type { Report } from '../../src/report/report.js';
import { runCli } from '../support/cli.js';
import { freshSchema, pgExec, pgReachable, pgTestUrl } from '../support/postgres.js';
import { removeDir } from '../support/test-daemon.js';

const pgUp = await pgReachable();

const scratch = mkdtempSync(path.join(os.tmpdir(), 'remediator-report-'));
const WINDOW = ['--since', '2026-11-01T00:00:00Z', '--until', '2026-12-01T00:00:00Z'];

type StepSpec = Pick<RunStep, 'name' | 'kind' | 'readOnly'> & { readonly variant?: boolean };
const RESTART: StepSpec[] = [
  { name: 'check', kind: 'run', readOnly: true },
  { name: 'restart', kind: 'run', readOnly: false },
];
const FLAG_OFF: StepSpec[] = [{ name: 'flag-off', kind: 'http', readOnly: false }];
const PROBE: StepSpec[] = [
  { name: 'probe', kind: 'run', readOnly: true },
  { name: 'healthy', kind: 'verify', readOnly: true },
];

function rendered(s: StepSpec): RunStep['rendered'] {
  if (s.kind === 'http') return { kind: 'http', method: 'POST', url: 'http://flags.example.invalid/off', headers: {}, body: null, expectStatus: [200] };
  if (s.kind === 'verify') return { kind: 'verify', check: { kind: 'resolved' }, withinMs: 60_000, everyMs: 5_000 };
  const argv = ['kubectl', 'rollout', 'restart', 'deploy/checkout'];
  return { kind: 'run', argv, dryRunArgv: s.variant ? [...argv, '--dry-run=server'] : null, env: {}, cwd: null };
}

/** A history written through a real store (SQLite or PostgreSQL), as the daemon would, with explicit times. */
class History {
  private n = 0;
  private readonly runs = new Map<string, { created: number; fingerprint: string; startsAt: string }>();
  constructor(readonly store: Store) {}

  private at(id: string, seconds: number): string {
    return new Date((this.runs.get(id)?.created ?? 0) + seconds * 1000).toISOString();
  }

  /** Creates a pending run at `created`; returns its id. */
  async create(playbook: string, created: string, steps: StepSpec[], dryRun = false): Promise<string> {
    const id = newId('r', new Date(created));
    const fingerprint = `f${String(++this.n).padStart(15, '0')}`;
    const startsAt = new Date(Date.parse(created) - 60_000).toISOString();
    this.runs.set(id, { created: Date.parse(created), fingerprint, startsAt });
    const events: NewEvent[] = [
      { kind: 'decision', data: { action: 'run', dryRun, reason: 'matched' } },
      { kind: 'run.created', data: { state: 'pending', dryRun } },
    ];
    const run = await this.store.createRun(
      {
        id,
        playbook,
        playbookHash: 'h',
        batchId: null,
        alertname: 'CheckoutErrors',
        fingerprint,
        startsAt,
        instanceKey: `${fingerprint}@${startsAt}`,
        targetKey: `${fingerprint}@${startsAt}`,
        dryRun,
        needsApproval: false,
        state: 'pending',
        reason: 'matched',
        params: {},
        labels: { alertname: 'CheckoutErrors' },
        annotations: {},
        generatorUrl: null,
        createdAt: created,
      },
      steps.map((spec, index) => ({
        name: spec.name,
        kind: spec.kind,
        readOnly: spec.readOnly,
        index,
        phase: 'main',
        rendered: rendered(spec),
        deferred: false,
        state: 'pending',
        startedAt: null,
        finishedAt: null,
        exitCode: null,
        output: null,
        error: null,
      })),
      events,
    );
    assert.ok(run, `run of ${playbook} at ${created} created`);
    return id;
  }

  /** Moves the run `seconds` after its creation. */
  async move(id: string, from: RunState, to: RunState, seconds: number, events: NewEvent[] = [{ kind: 'run.state', data: { from, to } }]): Promise<void> {
    assert.ok(await this.store.transitionRun(id, { from: [from], to, at: this.at(id, seconds), events }), `${id}: ${from} → ${to}`);
  }

  /** Step `index` runs from `start` to `end` seconds after the run's creation. */
  async step(id: string, index: number, start: number, end: number): Promise<void> {
    const startedAt = this.at(id, start);
    const finishedAt = this.at(id, end);
    assert.ok(
      await this.store.transitionRun(id, {
        from: ['running'],
        to: 'running',
        at: startedAt,
        steps: [{ phase: 'main', index, state: 'running', startedAt }],
        events: [{ kind: 'step.started', data: { index } }],
      }),
    );
    assert.ok(
      await this.store.transitionRun(id, {
        from: ['running'],
        to: 'running',
        at: finishedAt,
        steps: [{ phase: 'main', index, state: 'succeeded', finishedAt }],
        events: [{ kind: 'step.finished', data: { index } }],
      }),
    );
  }

  /** Step `index` runs from `start` and fails at `end` with `error`. */
  async failStep(id: string, index: number, start: number, end: number, error: string): Promise<void> {
    const startedAt = this.at(id, start);
    assert.ok(
      await this.store.transitionRun(id, { from: ['running'], to: 'running', at: startedAt, steps: [{ phase: 'main', index, state: 'running', startedAt }] }),
    );
    assert.ok(
      await this.store.transitionRun(id, {
        from: ['running'],
        to: 'running',
        at: this.at(id, end),
        steps: [{ phase: 'main', index, state: 'failed', finishedAt: this.at(id, end), error }],
      }),
    );
  }

  /** Holds for approval at `asked`; answered (granted or rejected) at `answered`. */
  async approval(id: string, asked: number, answered: number, verdict: 'granted' | 'rejected'): Promise<void> {
    await this.move(id, 'running', 'awaiting_approval', asked, [{ kind: 'approval.requested', data: { seq: 1, step: 'restart' } }]);
    await this.move(id, 'awaiting_approval', verdict === 'granted' ? 'running' : 'rejected', answered, [
      { kind: `approval.${verdict}`, data: { seq: 1, by: 'alice', via: 'cli' } },
    ]);
  }

  /** The alert of the run resolves `seconds` after the run's creation. */
  async resolve(id: string, seconds: number): Promise<void> {
    const r = this.runs.get(id);
    assert.ok(r);
    assert.deepEqual(await this.store.recordResolved(r.fingerprint, r.startsAt, this.at(id, seconds)), [id]);
  }

  async cancelNotStarted(id: string, seconds: number): Promise<void> {
    const r = this.runs.get(id);
    assert.ok(r);
    assert.deepEqual(await this.store.cancelNotStarted(r.fingerprint, r.startsAt, this.at(id, seconds), 'the alert resolved'), [id]);
  }

  /** A live run's decision that a guard held it for a person (its run is not part of the history). */
  async held(playbook: string, held: string, at: string): Promise<void> {
    await this.store.appendEvents([
      { kind: 'decision', at, playbook, fingerprint: 'f0', data: { action: 'run', dryRun: false, needsApproval: true, held, reason: 'test' } },
    ]);
  }

  async suppressed(playbook: string, reason: string, at: string, extra: Record<string, unknown> = {}): Promise<void> {
    await this.store.appendEvents([{ kind: 'decision', at, playbook, fingerprint: 'f0', data: { action: 'suppress', reason, detail: 'test', ...extra } }]);
  }

  /** A live run that acted and succeeded: steps at 2s and `act` s, resolved at `resolved` s (or never). */
  async acted(playbook: string, created: string, act: number, resolved: number | null, end: RunState = 'succeeded'): Promise<string> {
    const id = await this.create(playbook, created, RESTART);
    await this.move(id, 'pending', 'running', 1);
    await this.step(id, 0, 2, 3);
    await this.step(id, 1, act, act + 3);
    await this.move(id, 'running', end, act + 4);
    if (resolved !== null) await this.resolve(id, resolved);
    return id;
  }
}

/** The known history of November 2026 (see the expected figures below). */
async function writeHistory(h: History): Promise<void> {
  // restart-pod, live: resolved 60s, 90s and 300s after the restart step started; one never.
  await h.acted('restart-pod', '2026-11-10T08:00:00.000Z', 10, 70);
  await h.acted('restart-pod', '2026-11-11T08:00:00.000Z', 5, 95, 'failed');
  await h.acted('restart-pod', '2026-11-12T08:00:00.000Z', 5, 305);
  await h.acted('restart-pod', '2026-11-13T08:00:00.000Z', 5, null);
  // ...held for approval: granted after 120s, restarted, resolved 30s later; rejected after 30s.
  const granted = await h.create('restart-pod', '2026-11-14T08:00:00.000Z', RESTART);
  await h.move(granted, 'pending', 'running', 1);
  await h.step(granted, 0, 2, 3);
  await h.approval(granted, 4, 124, 'granted');
  await h.step(granted, 1, 125, 128);
  await h.move(granted, 'running', 'succeeded', 130);
  await h.resolve(granted, 155);
  const rejected = await h.create('restart-pod', '2026-11-15T08:00:00.000Z', RESTART);
  await h.move(rejected, 'pending', 'running', 1);
  await h.step(rejected, 0, 2, 3);
  await h.approval(rejected, 4, 34, 'rejected');
  // ...a dry run (resolved: not part of the effectiveness figure), one still pending, one cancelled
  // because its alert resolved before it started.
  const dry = await h.create('restart-pod', '2026-11-16T08:00:00.000Z', RESTART, true);
  await h.move(dry, 'pending', 'running', 1);
  await h.step(dry, 0, 2, 3);
  await h.move(dry, 'running', 'succeeded', 5);
  await h.resolve(dry, 20);
  await h.create('restart-pod', '2026-11-17T08:00:00.000Z', RESTART);
  const early = await h.create('restart-pod', '2026-11-18T08:00:00.000Z', RESTART);
  await h.resolve(early, 40);
  await h.cancelNotStarted(early, 40);
  // ...just outside the window on either side: would change every figure if counted.
  await h.acted('restart-pod', '2026-10-31T23:59:59.999Z', 5, 6);
  await h.acted('restart-pod', '2026-12-01T00:00:00.000Z', 5, 6);

  // rollback: an http call resolved in 10s; read-only steps only, timed from the first (20s); a dry run.
  const flag = await h.create('rollback', '2026-11-20T08:00:00.000Z', FLAG_OFF);
  await h.move(flag, 'pending', 'running', 1);
  await h.step(flag, 0, 3, 4);
  await h.move(flag, 'running', 'succeeded', 5);
  await h.resolve(flag, 13);
  const probe = await h.create('rollback', '2026-11-21T08:00:00.000Z', PROBE);
  await h.move(probe, 'pending', 'running', 1);
  await h.step(probe, 0, 2, 4);
  await h.step(probe, 1, 5, 9);
  await h.move(probe, 'running', 'succeeded', 10);
  await h.resolve(probe, 22);
  const dryFlag = await h.create('rollback', '2026-11-22T08:00:00.000Z', FLAG_OFF, true);
  await h.move(dryFlag, 'pending', 'running', 1);
  await h.move(dryFlag, 'running', 'failed', 3);

  // Suppressions, by the time of the decision.
  for (const day of ['10', '11', '12']) await h.suppressed('restart-pod', 'cooldown', `2026-11-${day}T09:00:00.000Z`);
  await h.suppressed('restart-pod', 'duplicate', '2026-11-13T09:00:00.000Z');
  // Re-deliveries of a decided instance (Alertmanager re-sends): recorded, but not suppressions.
  for (const hour of ['10', '11']) await h.suppressed('restart-pod', 'duplicate', `2026-11-13T${hour}:00:00.000Z`, { redelivery: true, instanceRun: 'r_x' });
  await h.suppressed('restart-pod', 'cooldown', '2026-10-31T23:00:00.000Z');
  await h.suppressed('restart-pod', 'cooldown', '2026-12-01T00:00:00.000Z');
  await h.suppressed('rollback', 'locked', '2026-11-20T09:00:00.000Z');
  await h.suppressed('quiet', 'maintenance', '2026-11-25T09:00:00.000Z');
  await h.suppressed('quiet', 'maintenance', '2026-11-25T10:00:00.000Z');
  // Live runs a guard held for a person: counted apart from suppressions.
  await h.held('rollback', 'storm', '2026-11-21T09:00:00.000Z');
  await h.held('rollback', 'storm', '2026-11-21T09:00:01.000Z');
  await h.held('rollback', 'group_cap', '2026-11-21T09:00:02.000Z');
}

/** Shadow figures with nothing in them; `resolve` fills in the time-to-resolve summaries. */
const noShadow = { dryRuns: 0, wouldHaveActed: 0, failed: { dryRunVariant: 0, readOnly: 0 }, failedSteps: [] };
const unresolved = (n: number) => ({ count: 0, medianMs: null, p90Ms: null, unresolved: n });
const none = { succeeded: 0, failed: 0, cancelled: 0, rejected: 0, expired: 0, interrupted: 0, pending: 0, awaiting_approval: 0, running: 0, total: 0 };
const noTimes = { count: 0, medianMs: null, p90Ms: null };
const noHolds = { total: 0, byReason: {} };
const EXPECTED_PLAYBOOKS = [
  {
    playbook: 'quiet',
    runs: { live: none, dryRun: none },
    suppressions: { total: 2, byReason: { maintenance: 2 } },
    held: noHolds,
    timeToResolve: { ...noTimes, resolvedWithoutAction: 0, unresolved: 0, neverActed: 0 },
    approvalWait: noTimes,
    shadow: { ...noShadow, resolveFromDecision: { dryRun: unresolved(0), live: unresolved(0) } },
  },
  {
    playbook: 'restart-pod',
    runs: { live: { ...none, succeeded: 4, failed: 1, cancelled: 1, rejected: 1, pending: 1, total: 8 }, dryRun: { ...none, succeeded: 1, total: 1 } },
    suppressions: { total: 4, byReason: { cooldown: 3, duplicate: 1 } },
    held: noHolds,
    // 30s, 60s, 90s, 300s: the median is the 2nd, the p90 the 4th.
    // The rejected run and the one cancelled before acting never acted: apart, neither resolved nor not.
    timeToResolve: { count: 4, medianMs: 60_000, p90Ms: 300_000, resolvedWithoutAction: 0, unresolved: 2, neverActed: 2 },
    approvalWait: { count: 2, medianMs: 30_000, p90Ms: 120_000 },
    // The dry run read its check and would have restarted; its alert resolved 20s after the decision.
    // Live, from the decision: 40s, 70s, 95s, 155s, 305s (the median the 3rd, the p90 the 5th); three never.
    shadow: {
      ...noShadow,
      dryRuns: 1,
      wouldHaveActed: 1,
      resolveFromDecision: {
        dryRun: { count: 1, medianMs: 20_000, p90Ms: 20_000, unresolved: 0 },
        live: { count: 5, medianMs: 95_000, p90Ms: 305_000, unresolved: 3 },
      },
    },
  },
  {
    playbook: 'rollback',
    runs: { live: { ...none, succeeded: 2, total: 2 }, dryRun: { ...none, failed: 1, total: 1 } },
    suppressions: { total: 1, byReason: { locked: 1 } },
    held: { total: 3, byReason: { storm: 2, group_cap: 1 } },
    timeToResolve: { count: 2, medianMs: 10_000, p90Ms: 20_000, resolvedWithoutAction: 0, unresolved: 0, neverActed: 0 },
    approvalWait: noTimes,
    shadow: {
      ...noShadow,
      dryRuns: 1,
      wouldHaveActed: 1,
      resolveFromDecision: { dryRun: unresolved(1), live: { count: 2, medianMs: 13_000, p90Ms: 22_000, unresolved: 0 } },
    },
  },
];
const EXPECTED_TOTAL = {
  runs: {
    live: { ...none, succeeded: 6, failed: 1, cancelled: 1, rejected: 1, pending: 1, total: 10 },
    dryRun: { ...none, succeeded: 1, failed: 1, total: 2 },
  },
  suppressions: { total: 7, byReason: { cooldown: 3, maintenance: 2, duplicate: 1, locked: 1 } },
  held: { total: 3, byReason: { storm: 2, group_cap: 1 } },
  // 10s, 20s, 30s, 60s, 90s, 300s, pooled: the median is the 3rd, the p90 the 6th.
  timeToResolve: { count: 6, medianMs: 30_000, p90Ms: 300_000, resolvedWithoutAction: 0, unresolved: 2, neverActed: 2 },
  approvalWait: { count: 2, medianMs: 30_000, p90Ms: 120_000 },
  // Pooled live: 13, 22, 40, 70, 95, 155, 305 s.
  shadow: {
    ...noShadow,
    dryRuns: 2,
    wouldHaveActed: 2,
    resolveFromDecision: {
      dryRun: { count: 1, medianMs: 20_000, p90Ms: 20_000, unresolved: 1 },
      live: { count: 7, medianMs: 70_000, p90Ms: 305_000, unresolved: 3 },
    },
  },
};

const EXPECTED_TEXT = `runs created, and suppressions decided, from 2026-11-01T00:00:00.000Z to 2026-12-01T00:00:00.000Z (excluded)

runs by outcome
playbook     mode     runs  succeeded  failed  cancelled  rejected  pending
restart-pod  live        8          4       1          1         1        1
restart-pod  dry-run     1          1       0          0         0        0
rollback     live        2          2       0          0         0        0
rollback     dry-run     1          0       1          0         0        0
TOTAL        live       10          6       1          1         1        1
TOTAL        dry-run     2          1       1          0         0        0

time from action (the first step that changes something) to the alert resolving, live runs
playbook     resolved after action  median  p90  resolved without action  not resolved  never acted
restart-pod                      4  1m      5m                         0             2            2
rollback                         2  10s     20s                        0             0            0
TOTAL                            6  30s     5m                         0             2            2

approval wait, from the request to a person's answer
playbook     answered  median  p90
restart-pod         2  30s     2m
TOTAL               2  30s     2m

suppressions by reason
playbook     suppressed  by reason
quiet                 2  maintenance 2
restart-pod           4  cooldown 3, duplicate 1
rollback              1  locked 1
TOTAL                 7  cooldown 3, maintenance 2, duplicate 1, locked 1

live runs held for a person by a guard
playbook  held  by reason
rollback     3  storm 2, group_cap 1
TOTAL        3  storm 2, group_cap 1

shadow (dry runs): would the playbook have acted, did its dry runs fail, how fast the alert resolved with no action (from the decision)
playbook     dry runs  would have acted  dry-run variant failed  read-only failed  resolved  median  p90  not resolved
restart-pod         1                 1                       0                 0         1  20s     20s             0
rollback            1                 1                       0                 0         0  -       -               1
TOTAL               2                 2                       0                 0         1  20s     20s             1

time from the decision to the alert resolving: dry runs (no action) beside live runs
playbook     dry runs resolved  median  p90  live runs resolved  median  p90
restart-pod                  1  20s     20s                   5  1m35s   5m5s
rollback                     0  -       -                     2  13s     22s
TOTAL                        1  20s     20s                   7  1m10s   5m5s

median and p90 are nearest-rank: durations observed, the shortest that half (90%) of the values do not exceed
`;

/** `remediator report --db DB ARGS --json`, which must succeed silently; its report. */
async function reportJson(db: string, args: string[]): Promise<Report> {
  const r = await runCli(['report', '--db', db, ...args, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  return JSON.parse(r.stdout) as Report;
}

describe('remediator report, on a history written through the store', () => {
  const file = path.join(scratch, 'history.db');
  let store: SqliteStore;
  before(async () => {
    store = SqliteStore.open(file);
    await writeHistory(new History(store));
    // The store stays open, holding the daemon's lock, while the CLI reads: as beside a running daemon.
  });
  after(() => store.close());

  const report = (args: string[]) => reportJson(file, args);

  test('--json: every figure, per playbook and in total', async () => {
    assert.deepEqual(await report(WINDOW), {
      since: '2026-11-01T00:00:00.000Z',
      until: '2026-12-01T00:00:00.000Z',
      playbook: null,
      percentiles: 'nearest-rank',
      playbooks: EXPECTED_PLAYBOOKS,
      total: EXPECTED_TOTAL,
    });
  });

  test('text: aligned tables, states no run is in left out, durations for people', async () => {
    const r = await runCli(['report', '--db', file, ...WINDOW]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, EXPECTED_TEXT);
  });

  test('--playbook: that playbook alone, and its figures are the total', async () => {
    const r = await report([...WINDOW, '--playbook', 'rollback']);
    assert.equal(r.playbook, 'rollback');
    assert.deepEqual(r.playbooks, [EXPECTED_PLAYBOOKS[2]]);
    assert.deepEqual({ playbook: 'rollback', ...r.total }, EXPECTED_PLAYBOOKS[2]);
    const text = await runCli(['report', '--db', file, ...WINDOW, '--playbook', 'nothing-by-this-name']);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(
      text.stdout,
      'runs of playbook nothing-by-this-name created, and suppressions decided, from 2026-11-01T00:00:00.000Z to 2026-12-01T00:00:00.000Z (excluded): none\n',
    );
  });

  test('a narrower window of dates: runs by creation, suppressions by decision time', async () => {
    const r = await report(['--since', '2026-11-12', '--until', '2026-11-14']);
    assert.deepEqual(
      r.playbooks.map((p) => [p.playbook, p.runs.live.total, p.timeToResolve.count, p.timeToResolve.unresolved, p.suppressions.byReason]),
      [['restart-pod', 2, 1, 1, { cooldown: 1, duplicate: 1 }]],
    );
  });

  test('--config finds the database as serve does', async () => {
    const config = path.join(scratch, 'remediator.yaml');
    writeFileSync(config, `db: ${path.basename(file)}\n`);
    const viaConfig = await runCli(['report', '--config', config, ...WINDOW]);
    assert.equal(viaConfig.code, 0, viaConfig.stderr);
    assert.equal(viaConfig.stdout, EXPECTED_TEXT);
  });

  test('bad arguments and a missing file: exit 1, with what to do', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--since', 'last week'],
        /^remediator: --since last week: give a time such as 2026-11-28T21:00:00Z \(with its zone\), a date \(UTC\), or a duration ago such as 24h\n$/,
      ],
      [
        ['--since', '2026-11-20T00:00:00Z', '--until', '2026-11-10T00:00:00Z'],
        /^remediator: --since 2026-11-20T00:00:00Z is not before --until 2026-11-10T00:00:00Z\n$/,
      ],
      [['--playbook', ' '], /^remediator: --playbook: give a playbook name\n$/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['report', '--db', file, ...args]);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    }
    const missing = path.join(scratch, 'no-such.db');
    const r = await runCli(['report', '--db', missing]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `remediator: no database at ${missing}: give the daemon's --db (or --config)\n`);
    const other = path.join(scratch, 'other.db');
    const db = new Database(other);
    db.exec('CREATE TABLE t (x)');
    db.close();
    const notOurs = await runCli(['report', '--db', other]);
    assert.equal(notOurs.code, 1);
    assert.equal(notOurs.stderr, `remediator: ${other} is not a remediator database (no schema_migrations table)\n`);
  });
});

describe('remediator report, default window', () => {
  const file = path.join(scratch, 'recent.db');
  const now = Date.now();
  const ago = (days: number) => new Date(now - days * 86_400_000).toISOString();
  before(async () => {
    const store = SqliteStore.open(file);
    const h = new History(store);
    await h.acted('restart-pod', ago(2), 5, 65);
    await h.acted('restart-pod', ago(40), 5, 6);
    await h.suppressed('restart-pod', 'cooldown', ago(1));
    await h.suppressed('restart-pod', 'cooldown', ago(31));
    await store.close();
  });

  test('without --since: the last 30 days, up to now', async () => {
    const r = await runCli(['report', '--db', file, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    const since = Date.parse(report.since);
    const until = Date.parse(report.until);
    assert.equal(until - since, 30 * 86_400_000);
    assert.ok(until >= now && until < now + 60_000, `until ${report.until} is the time of the command`);
    assert.deepEqual(report.total.runs.live.total, 1);
    assert.deepEqual(report.total.timeToResolve, { count: 1, medianMs: 60_000, p90Ms: 60_000, resolvedWithoutAction: 0, unresolved: 0, neverActed: 0 });
    assert.deepEqual(report.total.suppressions, { total: 1, byReason: { cooldown: 1 } });
  });
});

describe('remediator report on PostgreSQL: the same history, the same figures', { skip: !pgUp }, () => {
  let store: PostgresStore;
  let drop: () => Promise<void>;
  let db: string;
  before(async () => {
    const fresh = await freshSchema();
    drop = fresh.drop;
    db = `${pgTestUrl()}?schema=${fresh.schema}`;
    store = await PostgresStore.open(pgTestUrl(), { schema: fresh.schema });
    await writeHistory(new History(store));
    // The store stays open while the CLI reads: as beside running replicas.
  });
  after(async () => {
    await store.close();
    await drop();
  });

  const report = (args: string[]) => reportJson(db, args);

  test('--json: every figure, as from SQLite', async () => {
    assert.deepEqual(await report(WINDOW), {
      since: '2026-11-01T00:00:00.000Z',
      until: '2026-12-01T00:00:00.000Z',
      playbook: null,
      percentiles: 'nearest-rank',
      playbooks: EXPECTED_PLAYBOOKS,
      total: EXPECTED_TOTAL,
    });
    const text = await runCli(['report', '--db', db, ...WINDOW]);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout, EXPECTED_TEXT);
  });

  test('--playbook and a narrower window', async () => {
    const r = await report([...WINDOW, '--playbook', 'rollback']);
    assert.deepEqual(r.playbooks, [EXPECTED_PLAYBOOKS[2]]);
    assert.deepEqual({ playbook: 'rollback', ...r.total }, EXPECTED_PLAYBOOKS[2]);
    const narrow = await report(['--since', '2026-11-12', '--until', '2026-11-14']);
    assert.deepEqual(
      narrow.playbooks.map((p) => [p.playbook, p.runs.live.total, p.timeToResolve.count, p.timeToResolve.unresolved, p.suppressions.byReason]),
      [['restart-pod', 2, 1, 1, { cooldown: 1, duplicate: 1 }]],
    );
  });
});

describe('remediator report on PostgreSQL: runs past one page', { skip: !pgUp }, () => {
  const COUNT = 1201;
  let drop: () => Promise<void>;
  let db: string;
  before(async () => {
    const fresh = await freshSchema();
    drop = fresh.drop;
    db = `${pgTestUrl()}?schema=${fresh.schema}`;
    await (await PostgresStore.open(pgTestUrl(), { schema: fresh.schema })).close();
    // Written in three statements rather than through the store, which would take a while: run i,
    // created i minutes into November, restarts 10 s in and resolves i+1 s after; every third is
    // held for approval beforehand, for i s. The report reads neither hashes nor other columns.
    const start = Date.parse('2026-11-01T00:00:00.000Z');
    const iso = (ms: number) => new Date(ms).toISOString();
    const runs = Array.from({ length: COUNT }, (_, i) => ({ id: newId('r', new Date(start + i * 60_000)), created: start + i * 60_000, i }));
    const created = runs.map((r) => iso(r.created));
    await pgExec(
      `INSERT INTO ${fresh.schema}.runs (id, playbook, playbook_hash, alertname, fingerprint, starts_at, instance_key, target_key, dry_run, state, reason, params, labels, annotations, created_at, updated_at, resolved_at)
       SELECT id, 'bulk', 'h', 'Bulk', id, created, id, id, false, 'succeeded', 'matched', '{}', '{}', '{}', created, created, resolved
       FROM unnest($1::text[], $2::text[], $3::text[]) AS t(id, created, resolved)`,
      [runs.map((r) => r.id), created, runs.map((r) => iso(r.created + 10_000 + (r.i + 1) * 1000))],
    );
    await pgExec(
      `INSERT INTO ${fresh.schema}.run_steps (run_id, phase, idx, name, kind, read_only, rendered, deferred, state, started_at)
       SELECT id, 'main', 0, 'restart', 'run', false, '{}', false, 'succeeded', started FROM unnest($1::text[], $2::text[]) AS t(id, started)`,
      [runs.map((r) => r.id), runs.map((r) => iso(r.created + 10_000))],
    );
    const held = runs.filter((r) => r.i % 3 === 0);
    const events = held.flatMap((r) => [
      { run: r.id, kind: 'approval.requested', at: iso(r.created + 1000) },
      { run: r.id, kind: 'approval.granted', at: iso(r.created + 1000 + r.i * 1000) },
    ]);
    await pgExec(
      `INSERT INTO ${fresh.schema}.events (id, at, kind, run_id, playbook, data, prev_hash, hash)
       SELECT n, at, kind, run_id, 'bulk', '{"seq":1}', '', '' FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS t(n, at, kind, run_id)`,
      [events.map((_, n) => n + 1), events.map((e) => e.at), events.map((e) => e.kind), events.map((e) => e.run)],
    );
  });
  after(() => drop());

  test('every run once, each with its own steps and events', async () => {
    const r = await runCli(['report', '--db', db, ...WINDOW, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const total = (JSON.parse(r.stdout) as Report).total;
    assert.deepEqual(total.runs.live, { ...none, succeeded: COUNT, total: COUNT });
    // 1 s to 1201 s: the median has rank 601, the p90 rank 1081.
    assert.deepEqual(total.timeToResolve, { count: COUNT, medianMs: 601_000, p90Ms: 1_081_000, resolvedWithoutAction: 0, unresolved: 0, neverActed: 0 });
    // 0 s, 3 s, … 1200 s (401 waits): ranks 201 and 361.
    assert.deepEqual(total.approvalWait, { count: 401, medianMs: 600_000, p90Ms: 1_080_000 });
  });
});

describe('remediator report on PostgreSQL: what it refuses', { skip: !pgUp }, () => {
  test('a schema without a runs table, or none: exit 1, never migrating it, never printing the password', async () => {
    const fresh = await freshSchema();
    try {
      const url = new URL(pgTestUrl());
      if (url.password === '') url.password = 's3cr3t-pw';
      const password = decodeURIComponent(url.password);
      const empty = `${url.toString()}?schema=${fresh.schema}`;
      const r = await runCli(['report', '--db', empty]);
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        `remediator: ${redactUrl(empty)} is not a remediator database (no runs table in schema ${fresh.schema}): give the daemon's --db (or --config)\n`,
      );
      assert.ok(!r.stderr.includes(password));
      assert.deepEqual(await pgExec('SELECT tablename FROM pg_tables WHERE schemaname = $1', [fresh.schema]), [], 'the reader created nothing');
      const missing = `${url.toString()}?schema=${fresh.schema}_missing`;
      const none = await runCli(['report', '--db', missing]);
      assert.equal(none.code, 1);
      assert.equal(
        none.stderr,
        `remediator: ${redactUrl(missing)} is not a remediator database (no schema ${fresh.schema}_missing): give the daemon's --db (or --config)\n`,
      );
    } finally {
      await fresh.drop();
    }
  });

  test('a server that does not answer (exit 2: try again), a bad schema name (exit 1): without the password', async () => {
    const down = await runCli(['report', '--db', 'postgres://postgres:s3cr3t-pw@127.0.0.1:1/test']);
    assert.equal(down.code, 2);
    assert.match(down.stderr, /^remediator: cannot read the PostgreSQL database at postgres:\/\/postgres@127\.0\.0\.1:1\/test: connecting: .*ECONNREFUSED/);
    assert.ok(!down.stderr.includes('s3cr3t'));
    const bad = await runCli(['report', '--db', `${pgTestUrl()}?schema=Bad-Name`]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /schema "Bad-Name" is not valid/);
  });
});

after(() => removeDir(scratch));

/**
 * Shadow mode on a constructed history: a canary playbook run as dry runs for a while, then live.
 * Four dry runs: one whose --dry-run=server variant was refused, two that went through, one whose
 * read-only look failed before it (so a live run would not have acted) and whose variant failed
 * too; three of their alerts resolved with no action, 5, 10 and 15 minutes after the decision.
 * Then two live runs, resolved 2 minutes and 1 minute after theirs.
 */
async function writeShadowHistory(h: History): Promise<void> {
  const CANARY: StepSpec[] = [
    { name: 'routes', kind: 'run', readOnly: true },
    { name: 'stable-only', kind: 'run', readOnly: false, variant: true },
    { name: 'healthy', kind: 'verify', readOnly: false },
  ];
  const dry = async (created: string, look: string | null, variant: string | null, resolved: number | null) => {
    const id = await h.create('canary', created, CANARY, true);
    await h.move(id, 'pending', 'running', 1);
    if (look === null) await h.step(id, 0, 2, 3);
    else await h.failStep(id, 0, 2, 3, look);
    if (variant === null) await h.step(id, 1, 4, 5);
    else await h.failStep(id, 1, 4, 5, variant);
    await h.move(id, 'running', look === null && variant === null ? 'succeeded' : 'failed', 6);
    if (resolved !== null) await h.resolve(id, resolved);
  };
  await dry('2026-11-05T08:00:00.000Z', null, 'Error from server (Forbidden): virtualservices "checkout" is forbidden', 600);
  await dry('2026-11-06T08:00:00.000Z', null, null, 300);
  await dry('2026-11-07T08:00:00.000Z', 'The connection to the server was refused', 'exited with code 1: forbidden again', null);
  await dry('2026-11-08T08:00:00.000Z', null, null, 900);
  await h.acted('canary', '2026-11-20T08:00:00.000Z', 5, 120);
  await h.acted('canary', '2026-11-21T08:00:00.000Z', 5, 60);
}

const EXPECTED_SHADOW = {
  dryRuns: 4,
  wouldHaveActed: 3,
  failed: { dryRunVariant: 2, readOnly: 1 },
  failedSteps: [
    { step: 'stable-only', as: 'dry-run variant', runs: 2, lastError: 'exited with code 1: forbidden again' },
    { step: 'routes', as: 'read-only', runs: 1, lastError: 'The connection to the server was refused' },
  ],
  // Dry: 300s, 600s, 900s (the median the 2nd, the p90 the 3rd), one never; live: 60s, 120s.
  resolveFromDecision: {
    dryRun: { count: 3, medianMs: 600_000, p90Ms: 900_000, unresolved: 1 },
    live: { count: 2, medianMs: 60_000, p90Ms: 120_000, unresolved: 0 },
  },
};

const EXPECTED_SHADOW_TEXT = `shadow (dry runs): would the playbook have acted, did its dry runs fail, how fast the alert resolved with no action (from the decision)
playbook  dry runs  would have acted  dry-run variant failed  read-only failed  resolved  median  p90  not resolved
canary           4                 3                       2                 1         3  10m     15m             1
TOTAL            4                 3                       2                 1         3  10m     15m             1

steps that failed in dry runs
  canary: stable-only (dry-run variant) failed in 2 dry run(s); last: exited with code 1: forbidden again
  canary: routes (read-only) failed in 1 dry run(s); last: The connection to the server was refused

time from the decision to the alert resolving: dry runs (no action) beside live runs
playbook  dry runs resolved  median  p90  live runs resolved  median  p90
canary                    3  10m     15m                   2  1m      2m
TOTAL                     3  10m     15m                   2  1m      2m
`;

describe('remediator report: shadow-mode evidence, exact, on SQLite and PostgreSQL', async () => {
  const reachable = await pgReachable();
  test('SQLite: dry runs would have acted, failed variants and read-only steps, resolves with no action beside live ones', async () => {
    const file = path.join(scratch, 'shadow.db');
    const store = SqliteStore.open(file);
    try {
      await writeShadowHistory(new History(store));
      const r = await reportJson(file, WINDOW);
      assert.deepEqual(
        r.playbooks.map((p) => [p.playbook, p.shadow]),
        [['canary', EXPECTED_SHADOW]],
      );
      assert.deepEqual(r.total.shadow, EXPECTED_SHADOW);
      const text = await runCli(['report', '--db', file, ...WINDOW]);
      assert.equal(text.code, 0, text.stderr);
      const start = text.stdout.indexOf('shadow (dry runs)');
      assert.equal(text.stdout.slice(start, text.stdout.indexOf('\nmedian and p90')), EXPECTED_SHADOW_TEXT);
    } finally {
      await store.close();
    }
  });

  test('PostgreSQL: the same history, the same figures', { skip: !reachable }, async () => {
    const { schema, drop } = await freshSchema();
    const url = `${pgTestUrl()}?schema=${schema}`;
    const store = await PostgresStore.open(pgTestUrl(), { schema });
    try {
      await writeShadowHistory(new History(store));
      const r = await reportJson(url, WINDOW);
      assert.deepEqual(r.total.shadow, EXPECTED_SHADOW);
    } finally {
      await store.close();
      await drop();
    }
  });
});
