// Unit test: starts nothing (see scripts/test.mjs).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from '../../src/domain/alert.js';
import type { Decision, DecideSettings, GuardState } from '../../src/domain/decision.js';
import type { Playbook } from '../../src/domain/playbook.js';
import { decide } from '../../src/decide/decide.js';
import { compileWindows, type MaintenanceWindowSpec } from '../../src/decide/maintenance.js';
import { parseDuration } from '../../src/domain/duration.js';
import { prepare } from '../../src/decide/prepare.js';
import { parsePlaybook } from '../../src/playbook/loader.js';
import { EMPTY, LIVE } from '../support/decide-inputs.js';

interface PlaybookOptions {
  readonly mode?: 'live' | 'approve' | 'dry-run';
  readonly status?: 'firing' | 'resolved';
  readonly cooldown?: string;
  readonly maxRuns?: string;
  readonly lock?: string;
  /** Adds an approval step in the middle of the playbook. */
  readonly approvalStep?: boolean;
}

function playbook({ mode = 'live', status = 'firing', cooldown, maxRuns, lock, approvalStep = false }: PlaybookOptions = {}): Playbook {
  const guards = [`  key: '{{ params.namespace }}/{{ params.deployment }}'`];
  if (lock !== undefined) guards.push(`  lock: '${lock}'`);
  if (cooldown !== undefined) guards.push(`  cooldown: ${cooldown}`);
  if (maxRuns !== undefined) guards.push(`  maxRuns: ${maxRuns}`);
  const yaml = `name: t
match: { alertname: Burst, status: ${status} }
params:
  namespace: { from: labels.namespace, pattern: '[a-z]+' }
  deployment: { from: labels.deployment, pattern: '[a-z]+' }
mode: ${mode}
guards:
${guards.join('\n')}
steps:
${approvalStep ? "  - approval: { message: 'undo?' }\n" : ''}  - run: [kubectl, rollout, undo, 'deployment/{{ params.deployment }}', -n, '{{ params.namespace }}']
`;
  const { playbook: p, errors } = parsePlaybook(yaml, 'test.yaml');
  assert.deepEqual(errors, []);
  assert.ok(p);
  return p;
}

const NOW = new Date('2024-05-01T12:00:00.000Z');
const minutesAgo = (m: number, ms = 0): Date => new Date(NOW.getTime() - m * 60_000 - ms);

function alert(over: Partial<Alert> = {}, labels: Record<string, string> = {}): Alert {
  return {
    status: 'firing',
    labels: { alertname: 'Burst', namespace: 'shop', deployment: 'api', ...labels },
    annotations: {},
    startsAt: '2024-05-01T11:55:00Z',
    endsAt: null,
    generatorURL: '',
    fingerprint: 'fp1',
    ...over,
  };
}

const DRY: DecideSettings = { execution: 'dry-run', budget: null, maintenance: [] };

interface Case {
  readonly title: string;
  readonly alert?: Alert;
  readonly playbook?: PlaybookOptions;
  readonly state?: Partial<GuardState>;
  readonly settings?: Partial<DecideSettings>;
  readonly expected: Decision;
}

const minutesLater = (m: number): Date => new Date(NOW.getTime() + m * 60_000);
// NOW is Wednesday 2024-05-01 12:00 UTC.
// Durations are written as in the configuration ("2h") and parsed as the configuration does.
const windows = (...specs: (Partial<Omit<MaintenanceWindowSpec, 'duration'>> & { duration?: string })[]) =>
  compileWindows(
    specs.map((w, i) => ({ name: `w${i + 1}`, cron: '0 11 * * WED', action: 'suppress' as const, ...w, duration: parseDuration(w.duration ?? '2h') ?? 0 })),
  );
const BUDGET = { count: 3, perMs: 3_600_000 };
const pausedByAlice = { at: minutesAgo(30), until: minutesLater(30), by: 'alice', reason: 'upgrading the cluster' };
const pausedDetail = 'paused by alice at 2024-05-01T11:30:00.000Z until 2024-05-01T12:30:00.000Z: upgrading the cluster';
const openCircuit = { openedAt: minutesAgo(5), reason: 'budget of 3 live run(s) per 1h spent' };
const heldByCircuit: Decision = {
  action: 'run',
  dryRun: false,
  needsApproval: true,
  reason: 'the circuit is open since 2024-05-01T11:55:00.000Z (budget of 3 live run(s) per 1h spent): a person must approve this run',
};
const holder = { id: 'r_scale', playbook: 'scale-out', state: 'running' };
const LOCK = '{{ params.namespace }}/{{ params.deployment }}';
const lockedDetail = 'lock "shop/api" is held by run r_scale of scale-out, still running';
const windowDetail = 'maintenance window "w1" (0 11 * * WED) from 2024-05-01T11:00:00.000Z until 2024-05-01T13:00:00.000Z';
const budgetSpent: Decision = {
  action: 'run',
  dryRun: false,
  needsApproval: true,
  reason: 'budget of 3 live run(s) per 1h spent: circuit opened, a person must approve this run',
  opensCircuit: true,
};
const liveRun: Decision = { action: 'run', dryRun: false, needsApproval: false, reason: 'playbook mode is live' };

const bad = alert({}, { namespace: 'Shop!' });
const refusedDetail = 'param namespace: label namespace is "Shop!", which does not match ^(?:[a-z]+)$';
const running = { id: 'r_active', state: 'running' };
const approving = { id: 'r_wait', state: 'awaiting_approval' };
const mine = { id: 'r_same', state: 'succeeded' };

const cases: readonly Case[] = [
  // duplicate: the same alert instance again
  {
    title: 'a run for this alert instance exists',
    state: { instanceRun: mine },
    expected: { action: 'suppress', reason: 'duplicate', detail: 'run r_same already exists for this alert instance', redeliveryOf: 'r_same' },
  },
  {
    title: 'the instance check comes before everything but a resolve',
    alert: alert({}, { namespace: 'Shop!' }),
    playbook: { cooldown: '1h', maxRuns: '{ count: 1, per: 1h }' },
    state: { instanceRun: mine, activeRun: running, lastRunAt: minutesAgo(1), recentRuns: 9 },
    expected: { action: 'suppress', reason: 'duplicate', detail: 'run r_same already exists for this alert instance', redeliveryOf: 'r_same' },
  },
  // resolved
  {
    title: 'a resolved alert for a firing playbook',
    alert: alert({ status: 'resolved' }),
    expected: { action: 'suppress', reason: 'resolved', detail: 'the alert is resolved' },
  },
  {
    title: 'a resolve of an instance that already ran is a resolve, not a duplicate',
    alert: alert({ status: 'resolved' }),
    state: { instanceRun: mine },
    expected: { action: 'suppress', reason: 'resolved', detail: 'the alert is resolved' },
  },
  {
    title: 'resolved comes before an active run and bad params',
    alert: alert({ status: 'resolved' }, { namespace: 'Shop!' }),
    state: { activeRun: running },
    expected: { action: 'suppress', reason: 'resolved', detail: 'the alert is resolved' },
  },
  {
    title: 'a resolved alert for a playbook that asks for resolved alerts runs',
    alert: alert({ status: 'resolved' }),
    playbook: { status: 'resolved' },
    expected: { action: 'run', dryRun: false, needsApproval: false, reason: 'playbook mode is live' },
  },
  // active run for the target key
  {
    title: 'a run for the same key is still running',
    state: { activeRun: running },
    expected: { action: 'suppress', reason: 'duplicate', detail: 'run r_active for key "shop/api" is still running' },
  },
  {
    title: 'a run for the same key awaits approval',
    state: { activeRun: approving },
    expected: { action: 'suppress', reason: 'duplicate', detail: 'run r_wait for key "shop/api" is still awaiting_approval' },
  },
  {
    title: 'an active run comes before bad params (the key is then the instance key)',
    alert: bad,
    state: { activeRun: running },
    expected: { action: 'suppress', reason: 'duplicate', detail: 'run r_active for key "fp1@2024-05-01T11:55:00Z" is still running' },
  },
  // refuse
  { title: 'a label fails its pattern', alert: bad, expected: { action: 'refuse', detail: refusedDetail } },
  {
    title: 'refuse comes before cooldown and rate limit',
    alert: bad,
    playbook: { cooldown: '1h', maxRuns: '{ count: 1, per: 1h }' },
    state: { lastRunAt: minutesAgo(1), recentRuns: 5 },
    expected: { action: 'refuse', detail: refusedDetail },
  },
  {
    title: 'refuse happens in dry-run execution too',
    alert: bad,
    settings: DRY,
    expected: { action: 'refuse', detail: refusedDetail },
  },
  // cooldown
  {
    title: 'within the cooldown',
    playbook: { cooldown: '30m' },
    state: { lastRunAt: minutesAgo(10) },
    expected: {
      action: 'suppress',
      reason: 'cooldown',
      detail: 'key "shop/api" ran at 2024-05-01T11:50:00.000Z; cooldown 30m lasts until 2024-05-01T12:20:00.000Z',
    },
  },
  {
    title: 'one millisecond before the cooldown ends',
    playbook: { cooldown: '30m' },
    state: { lastRunAt: minutesAgo(30, -1) },
    expected: {
      action: 'suppress',
      reason: 'cooldown',
      detail: 'key "shop/api" ran at 2024-05-01T11:30:00.001Z; cooldown 30m lasts until 2024-05-01T12:00:00.001Z',
    },
  },
  {
    title: 'exactly when the cooldown ends',
    playbook: { cooldown: '30m' },
    state: { lastRunAt: minutesAgo(30) },
    expected: { action: 'run', dryRun: false, needsApproval: false, reason: 'playbook mode is live' },
  },
  {
    title: 'after the cooldown',
    playbook: { cooldown: '1h30m' },
    state: { lastRunAt: minutesAgo(91) },
    expected: { action: 'run', dryRun: false, needsApproval: false, reason: 'playbook mode is live' },
  },
  {
    title: 'a cooldown with no earlier run',
    playbook: { cooldown: '30m' },
    expected: { action: 'run', dryRun: false, needsApproval: false, reason: 'playbook mode is live' },
  },
  {
    title: 'a recent run without a cooldown',
    state: { lastRunAt: minutesAgo(0) },
    expected: { action: 'run', dryRun: false, needsApproval: false, reason: 'playbook mode is live' },
  },
  {
    title: 'cooldown comes before the rate limit',
    playbook: { cooldown: '5m', maxRuns: '{ count: 1, per: 1h }' },
    state: { lastRunAt: minutesAgo(1), recentRuns: 3 },
    expected: {
      action: 'suppress',
      reason: 'cooldown',
      detail: 'key "shop/api" ran at 2024-05-01T11:59:00.000Z; cooldown 5m lasts until 2024-05-01T12:04:00.000Z',
    },
  },
  // maxRuns
  {
    title: 'at the run limit',
    playbook: { maxRuns: '{ count: 3, per: 1h }' },
    state: { recentRuns: 3 },
    expected: { action: 'suppress', reason: 'rate_limit', detail: '3 run(s) in the last 1h, the limit is 3' },
  },
  {
    title: 'above the run limit',
    playbook: { maxRuns: '{ count: 3, per: 90m }' },
    state: { recentRuns: 7 },
    expected: { action: 'suppress', reason: 'rate_limit', detail: '7 run(s) in the last 1h30m, the limit is 3' },
  },
  {
    title: 'one below the run limit',
    playbook: { maxRuns: '{ count: 3, per: 1h }' },
    state: { recentRuns: 2 },
    expected: { action: 'run', dryRun: false, needsApproval: false, reason: 'playbook mode is live' },
  },
  {
    title: 'many recent runs without maxRuns',
    state: { recentRuns: 1000 },
    expected: { action: 'run', dryRun: false, needsApproval: false, reason: 'playbook mode is live' },
  },
  {
    title: 'the rate limit applies to dry runs too',
    playbook: { mode: 'dry-run', maxRuns: '{ count: 1, per: 1h }' },
    settings: DRY,
    state: { recentRuns: 1 },
    expected: { action: 'suppress', reason: 'rate_limit', detail: '1 run(s) in the last 1h, the limit is 1' },
  },
  // run: execution × mode
  {
    title: 'live execution, live playbook',
    playbook: { mode: 'live' },
    expected: { action: 'run', dryRun: false, needsApproval: false, reason: 'playbook mode is live' },
  },
  {
    title: 'live execution, approve playbook: held for approval',
    playbook: { mode: 'approve' },
    expected: { action: 'run', dryRun: false, needsApproval: true, reason: 'playbook mode is approve' },
  },
  {
    title: 'live execution, a live playbook with an approval step: live, and the step itself holds',
    playbook: { approvalStep: true },
    expected: { action: 'run', dryRun: false, needsApproval: false, reason: 'playbook mode is live' },
  },
  {
    title: 'live execution, dry-run playbook',
    playbook: { mode: 'dry-run' },
    expected: { action: 'run', dryRun: true, needsApproval: false, reason: 'playbook mode is dry-run' },
  },
  {
    title: 'dry-run execution, live playbook',
    playbook: { mode: 'live' },
    settings: DRY,
    expected: { action: 'run', dryRun: true, needsApproval: false, reason: 'execution is dry-run' },
  },
  {
    title: 'dry-run execution, approve playbook: a dry run needs no approval',
    playbook: { mode: 'approve' },
    settings: DRY,
    expected: { action: 'run', dryRun: true, needsApproval: false, reason: 'execution is dry-run' },
  },
  {
    title: 'dry-run execution, dry-run playbook',
    playbook: { mode: 'dry-run' },
    settings: DRY,
    expected: { action: 'run', dryRun: true, needsApproval: false, reason: 'execution is dry-run' },
  },
  {
    title: 'a finished run for the key outside cooldown and under the limit',
    playbook: { mode: 'approve', cooldown: '10m', maxRuns: '{ count: 5, per: 1h }' },
    state: { lastRunAt: minutesAgo(11), recentRuns: 4 },
    expected: { action: 'run', dryRun: false, needsApproval: true, reason: 'playbook mode is approve' },
  },
  // pause
  { title: 'paused', state: { paused: pausedByAlice }, expected: { action: 'suppress', reason: 'paused', detail: pausedDetail } },
  {
    title: 'a pause suppresses dry runs too',
    settings: DRY,
    state: { paused: pausedByAlice },
    expected: { action: 'suppress', reason: 'paused', detail: pausedDetail },
  },
  {
    title: 'one millisecond before the pause ends',
    state: { paused: { ...pausedByAlice, until: new Date(NOW.getTime() + 1) } },
    expected: {
      action: 'suppress',
      reason: 'paused',
      detail: 'paused by alice at 2024-05-01T11:30:00.000Z until 2024-05-01T12:00:00.001Z: upgrading the cluster',
    },
  },
  { title: 'a pause ends by itself at its until', state: { paused: { ...pausedByAlice, until: NOW } }, expected: liveRun },
  { title: 'an expired pause', state: { paused: { ...pausedByAlice, until: minutesAgo(1) } }, expected: liveRun },
  {
    title: 'a duplicate is a duplicate while paused',
    state: { paused: pausedByAlice, activeRun: running },
    expected: { action: 'suppress', reason: 'duplicate', detail: 'run r_active for key "shop/api" is still running' },
  },
  { title: 'refuse comes before the pause', alert: bad, state: { paused: pausedByAlice }, expected: { action: 'refuse', detail: refusedDetail } },
  {
    title: 'the pause comes before maintenance, circuit, lock, cooldown and budget',
    playbook: { cooldown: '1h', lock: LOCK },
    settings: { maintenance: windows({}), budget: BUDGET },
    state: { paused: pausedByAlice, circuit: openCircuit, lockedBy: holder, lastRunAt: minutesAgo(1), liveRunsInWindow: 9 },
    expected: { action: 'suppress', reason: 'paused', detail: pausedDetail },
  },
  // maintenance windows
  {
    title: 'in a suppressing maintenance window',
    settings: { maintenance: windows({}) },
    expected: { action: 'suppress', reason: 'maintenance', detail: windowDetail },
  },
  {
    title: 'a window that starts this very minute',
    settings: { maintenance: windows({ cron: '0 12 * * *', duration: '1m' }) },
    expected: {
      action: 'suppress',
      reason: 'maintenance',
      detail: 'maintenance window "w1" (0 12 * * *) from 2024-05-01T12:00:00.000Z until 2024-05-01T12:01:00.000Z',
    },
  },
  { title: 'a window that ended exactly now', settings: { maintenance: windows({ cron: '0 10 * * *', duration: '2h' }) }, expected: liveRun },
  { title: 'a window on another weekday', settings: { maintenance: windows({ cron: '0 11 * * SUN', duration: '2h' }) }, expected: liveRun },
  {
    title: 'a window restricted by matchers to other alerts',
    settings: { maintenance: windows({ matchers: ['namespace="billing"'] }) },
    expected: liveRun,
  },
  {
    title: 'a window restricted by matchers to this alert',
    settings: { maintenance: windows({ matchers: ['namespace="shop"', 'deployment=~"api|web"'] }) },
    expected: { action: 'suppress', reason: 'maintenance', detail: windowDetail },
  },
  {
    title: 'a dry-run window makes a live run a dry run',
    settings: { maintenance: windows({ action: 'dry-run' }) },
    expected: {
      action: 'run',
      dryRun: true,
      needsApproval: false,
      reason: 'maintenance window "w1" (0 11 * * WED) forces dry-run until 2024-05-01T13:00:00.000Z',
    },
  },
  {
    title: 'a dry-run window needs no approval for an approve playbook',
    playbook: { mode: 'approve' },
    settings: { maintenance: windows({ action: 'dry-run' }) },
    expected: {
      action: 'run',
      dryRun: true,
      needsApproval: false,
      reason: 'maintenance window "w1" (0 11 * * WED) forces dry-run until 2024-05-01T13:00:00.000Z',
    },
  },
  {
    title: 'a dry-run window under dry-run execution: the execution is the reason',
    settings: { ...DRY, maintenance: windows({ action: 'dry-run' }) },
    expected: { action: 'run', dryRun: true, needsApproval: false, reason: 'execution is dry-run' },
  },
  {
    title: 'a suppressing window wins over a dry-run window',
    settings: { maintenance: windows({ name: 'soft', action: 'dry-run' }, { name: 'hard', cron: '30 11 * * *', duration: '1h' }) },
    expected: {
      action: 'suppress',
      reason: 'maintenance',
      detail: 'maintenance window "hard" (30 11 * * *) from 2024-05-01T11:30:00.000Z until 2024-05-01T12:30:00.000Z',
    },
  },
  {
    title: 'maintenance comes before the circuit',
    settings: { maintenance: windows({}) },
    state: { circuit: openCircuit },
    expected: { action: 'suppress', reason: 'maintenance', detail: windowDetail },
  },
  {
    title: 'a dry-run window makes a dry run, circuit open or not: it acts on nothing',
    settings: { maintenance: windows({ action: 'dry-run' }) },
    state: { circuit: openCircuit },
    expected: {
      action: 'run',
      dryRun: true,
      needsApproval: false,
      reason: 'maintenance window "w1" (0 11 * * WED) forces dry-run until 2024-05-01T13:00:00.000Z',
    },
  },
  // circuit: live runs are held for a person instead of acting unattended
  { title: 'the circuit is open: a live run is held for approval', state: { circuit: openCircuit }, expected: heldByCircuit },
  { title: 'the circuit is open: a live playbook needs approval too', playbook: { mode: 'live' }, state: { circuit: openCircuit }, expected: heldByCircuit },
  {
    title: 'an open circuit lets dry runs be',
    settings: DRY,
    state: { circuit: openCircuit },
    expected: { action: 'run', dryRun: true, needsApproval: false, reason: 'execution is dry-run' },
  },
  {
    title: 'the lock and cooldown come before an open circuit',
    playbook: { cooldown: '1h', lock: LOCK },
    settings: { budget: BUDGET },
    state: { circuit: openCircuit, lockedBy: holder, lastRunAt: minutesAgo(1), liveRunsInWindow: 9 },
    expected: { action: 'suppress', reason: 'locked', detail: lockedDetail },
  },
  {
    title: 'an open circuit does not open again when the budget is spent',
    settings: { budget: BUDGET },
    state: { circuit: openCircuit, liveRunsInWindow: 9 },
    expected: heldByCircuit,
  },
  // lock across playbooks
  {
    title: 'another playbook holds the lock',
    playbook: { lock: LOCK },
    state: { lockedBy: holder },
    expected: { action: 'suppress', reason: 'locked', detail: lockedDetail },
  },
  {
    title: 'the lock is held for dry runs too',
    playbook: { lock: LOCK, mode: 'dry-run' },
    state: { lockedBy: { ...holder, state: 'pending' } },
    expected: { action: 'suppress', reason: 'locked', detail: 'lock "shop/api" is held by run r_scale of scale-out, still pending' },
  },
  { title: 'a playbook without a lock is not held by one', state: { lockedBy: holder }, expected: liveRun },
  {
    title: 'the lock comes before cooldown and rate limit',
    playbook: { lock: LOCK, cooldown: '1h', maxRuns: '{ count: 1, per: 1h }' },
    state: { lockedBy: holder, lastRunAt: minutesAgo(1), recentRuns: 4 },
    expected: { action: 'suppress', reason: 'locked', detail: lockedDetail },
  },
  { title: 'the lock is free', playbook: { lock: LOCK }, expected: liveRun },
  // global budget of live runs
  { title: 'the budget is spent: the circuit opens', settings: { budget: BUDGET }, state: { liveRunsInWindow: 3 }, expected: budgetSpent },
  { title: 'over the budget (runs from before a restart)', settings: { budget: BUDGET }, state: { liveRunsInWindow: 40 }, expected: budgetSpent },
  { title: 'one run left in the budget', settings: { budget: BUDGET }, state: { liveRunsInWindow: 2 }, expected: liveRun },
  { title: 'no budget configured', state: { liveRunsInWindow: 1000 }, expected: liveRun },
  {
    title: 'a run held for approval is a live run and spends the budget',
    playbook: { mode: 'approve' },
    settings: { budget: BUDGET },
    state: { liveRunsInWindow: 3 },
    expected: budgetSpent,
  },
  {
    title: 'dry runs do not spend the budget: dry-run execution',
    settings: { ...DRY, budget: BUDGET },
    state: { liveRunsInWindow: 3 },
    expected: { action: 'run', dryRun: true, needsApproval: false, reason: 'execution is dry-run' },
  },
  {
    title: 'dry runs do not spend the budget: dry-run playbook',
    playbook: { mode: 'dry-run' },
    settings: { budget: BUDGET },
    state: { liveRunsInWindow: 3 },
    expected: { action: 'run', dryRun: true, needsApproval: false, reason: 'playbook mode is dry-run' },
  },
  {
    title: 'dry runs do not spend the budget: dry-run maintenance window',
    settings: { budget: BUDGET, maintenance: windows({ action: 'dry-run' }) },
    state: { liveRunsInWindow: 3 },
    expected: {
      action: 'run',
      dryRun: true,
      needsApproval: false,
      reason: 'maintenance window "w1" (0 11 * * WED) forces dry-run until 2024-05-01T13:00:00.000Z',
    },
  },
  {
    title: 'cooldown and rate limit come before the budget',
    playbook: { maxRuns: '{ count: 1, per: 1h }' },
    settings: { budget: BUDGET },
    state: { recentRuns: 1, liveRunsInWindow: 3 },
    expected: { action: 'suppress', reason: 'rate_limit', detail: '1 run(s) in the last 1h, the limit is 1' },
  },
  {
    title: 'the budget is checked before a resolve-triggered run too',
    alert: alert({ status: 'resolved' }),
    playbook: { status: 'resolved' },
    settings: { budget: BUDGET },
    state: { liveRunsInWindow: 3 },
    expected: budgetSpent,
  },
];

describe('decide', () => {
  for (const c of cases) {
    test(c.title, () => {
      const a = c.alert ?? alert();
      const pb = playbook(c.playbook);
      const input = { alert: a, playbook: pb, prepared: prepare(a, pb), state: { ...EMPTY, ...c.state }, now: NOW, settings: { ...LIVE, ...c.settings } };
      assert.deepEqual(decide(input), c.expected);
    });
  }

  test('is pure: frozen inputs, same answer twice, the clock only from its input', () => {
    const a = Object.freeze(alert());
    const pb = playbook({ cooldown: '30m' });
    const prepared = Object.freeze(prepare(a, pb));
    const state = Object.freeze({ ...EMPTY, lastRunAt: minutesAgo(10) });
    const at = (now: Date) => decide({ alert: a, playbook: pb, prepared, state, now, settings: LIVE });
    const first = at(NOW);
    assert.deepEqual(at(NOW), first);
    assert.equal(first.action, 'suppress');
    // The same state an hour later: only `now` changed, and the cooldown is over.
    assert.deepEqual(at(new Date(NOW.getTime() + 3_600_000)), { action: 'run', dryRun: false, needsApproval: false, reason: 'playbook mode is live' });
  });

  test('pause and maintenance windows follow the injected clock alone', () => {
    const a = alert();
    const pb = playbook();
    const state = { ...EMPTY, paused: pausedByAlice };
    const settings = { ...LIVE, maintenance: windows({ cron: '0 13 * * WED', duration: '30m' }) };
    const at = (now: Date) => decide({ alert: a, playbook: pb, prepared: prepare(a, pb), state, now, settings });
    assert.deepEqual(at(NOW), { action: 'suppress', reason: 'paused', detail: pausedDetail });
    assert.deepEqual(at(minutesLater(30)), liveRun, 'the pause is over at 12:30');
    assert.deepEqual(at(minutesLater(60)), {
      action: 'suppress',
      reason: 'maintenance',
      detail: 'maintenance window "w1" (0 13 * * WED) from 2024-05-01T13:00:00.000Z until 2024-05-01T13:30:00.000Z',
    });
    assert.deepEqual(at(minutesLater(90)), liveRun, 'the window is over at 13:30');
    assert.deepEqual(at(new Date(NOW.getTime() + 7 * 86_400_000 + 3_600_000)).action, 'suppress', 'and back a week later');
  });
});
