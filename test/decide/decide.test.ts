import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from '../../src/domain/alert.js';
import type { Decision, DecideSettings, GuardState } from '../../src/domain/decision.js';
import type { Playbook } from '../../src/domain/playbook.js';
import { decide } from '../../src/decide/decide.js';
import { prepare } from '../../src/decide/prepare.js';
import { parsePlaybook } from '../../src/playbook/loader.js';

interface PlaybookOptions {
  readonly mode?: 'live' | 'approve' | 'dry-run';
  readonly status?: 'firing' | 'resolved';
  readonly cooldown?: string;
  readonly maxRuns?: string;
}

function playbook({ mode = 'live', status = 'firing', cooldown, maxRuns }: PlaybookOptions = {}): Playbook {
  const guards = [`  key: '{{ params.namespace }}/{{ params.deployment }}'`];
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
  - run: [kubectl, rollout, undo, 'deployment/{{ params.deployment }}', -n, '{{ params.namespace }}']
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

const EMPTY: GuardState = { instanceRun: null, activeRun: null, lastRunAt: null, recentRuns: 0 };
const LIVE: DecideSettings = { execution: 'live' };
const DRY: DecideSettings = { execution: 'dry-run' };

interface Case {
  readonly title: string;
  readonly alert?: Alert;
  readonly playbook?: PlaybookOptions;
  readonly state?: Partial<GuardState>;
  readonly settings?: DecideSettings;
  readonly expected: Decision;
}

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
    expected: { action: 'suppress', reason: 'duplicate', detail: 'run r_same already exists for this alert instance' },
  },
  {
    title: 'the instance check comes before everything but a resolve',
    alert: alert({}, { namespace: 'Shop!' }),
    playbook: { cooldown: '1h', maxRuns: '{ count: 1, per: 1h }' },
    state: { instanceRun: mine, activeRun: running, lastRunAt: minutesAgo(1), recentRuns: 9 },
    expected: { action: 'suppress', reason: 'duplicate', detail: 'run r_same already exists for this alert instance' },
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
  { title: 'live execution, live playbook', playbook: { mode: 'live' }, expected: { action: 'run', dryRun: false, needsApproval: false, reason: 'playbook mode is live' } },
  {
    title: 'live execution, approve playbook',
    playbook: { mode: 'approve' },
    expected: { action: 'run', dryRun: false, needsApproval: true, reason: 'playbook mode is approve' },
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
];

describe('decide', () => {
  for (const c of cases) {
    test(c.title, () => {
      const a = c.alert ?? alert();
      const pb = playbook(c.playbook);
      const input = { alert: a, playbook: pb, prepared: prepare(a, pb), state: { ...EMPTY, ...c.state }, now: NOW, settings: c.settings ?? LIVE };
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
});
