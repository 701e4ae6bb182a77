// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RunState } from '../../src/domain/run.js';
import { formatReport, duration } from '../../src/report/format-report.js';
import { percentile } from '../../src/report/percentile.js';
import {
  actionAt,
  approvalWaits,
  buildReport,
  type ReportEvent,
  type ReportFigures,
  type ReportRun,
  type ReportStep,
  type SuppressionCount,
} from '../../src/report/report.js';

const T0 = Date.parse('2026-11-10T08:00:00Z');
/** The time `s` seconds after T0. */
const t = (s: number): string => new Date(T0 + s * 1000).toISOString();
const WINDOW = { since: '2026-11-01T00:00:00.000Z', until: '2026-12-01T00:00:00.000Z', playbook: null };

let ids = 0;
/** A run; by default live, succeeded, unresolved, without steps or events. */
function run(playbook: string, over: Partial<ReportRun> = {}): ReportRun {
  return { id: `r_${++ids}`, playbook, dryRun: false, state: 'succeeded', createdAt: t(0), resolvedAt: null, steps: [], events: [], ...over };
}
const changing = (startedAt: number | null, kind: ReportStep['kind'] = 'run'): ReportStep => ({
  kind,
  readOnly: false,
  startedAt: startedAt === null ? null : t(startedAt),
});
const readOnly = (startedAt: number, kind: ReportStep['kind'] = 'run'): ReportStep => ({ kind, readOnly: true, startedAt: t(startedAt) });
const ev = (kind: ReportEvent['kind'], s: number, seq: number | null = null): ReportEvent => ({ kind, at: t(s), seq });
/** A live run that acted at `action` s (its changing step started then) and resolved at `resolved` s. */
const acted = (playbook: string, action: number, resolved: number | null, state: RunState = 'succeeded'): ReportRun =>
  run(playbook, {
    state,
    steps: [readOnly(action - 5), changing(action)],
    events: [ev('step.started', action - 5), ev('step.started', action)],
    resolvedAt: resolved === null ? null : t(resolved),
  });
/** A live run that held for approval: requested at `asked` s, answered `kind` at `answered` s. */
const approved = (playbook: string, asked: number, answered: number, kind: ReportEvent['kind'] = 'approval.granted'): ReportRun =>
  run(playbook, { events: [ev('approval.requested', asked, 1), ev(kind, answered, 1)] });

describe('percentile: nearest-rank, exact', () => {
  const cases: [string, number[], number, number | null][] = [
    ['nothing: null', [], 50, null],
    ['one value is every percentile', [7], 90, 7],
    ['median of an odd count: the middle', [1, 2, 3], 50, 2],
    ['median of an even count: the lower middle', [10, 20, 30, 40], 50, 20],
    ['median of two', [10, 20], 50, 10],
    ['p90 of 10: the 9th', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9],
    ['p90 of 11: the 10th (rank ⌈9.9⌉)', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90, 10],
    ['p90 of 30: the 27th, without 0.9 × 30 rounding up to 28', Array.from({ length: 30 }, (_, i) => i + 1), 90, 27],
    ['p100: the largest', [1, 5, 9], 100, 9],
  ];
  for (const [name, sorted, p, expected] of cases) test(name, () => assert.equal(percentile(sorted, p), expected));
  test('a percentile that is not a whole number from 1 to 100 is refused', () => {
    assert.throws(() => percentile([1], 0), RangeError);
    assert.throws(() => percentile([1], 90.5), RangeError);
  });
});

describe('actionAt: the first step that changes something, else the first step start', () => {
  const cases: [string, Pick<ReportRun, 'steps' | 'events'>, number | null][] = [
    ['a read-only check, then a change: the change', { steps: [readOnly(10), changing(40)], events: [ev('step.started', 10), ev('step.started', 40)] }, 40],
    ['an http call that changes something counts', { steps: [readOnly(10, 'http'), changing(25, 'http')], events: [] }, 25],
    ['two changes (a rollback in onFailure): the earlier', { steps: [changing(70), changing(30)], events: [] }, 30],
    [
      'a changing step that never started: the run did not act (held, rejected, cancelled)',
      { steps: [changing(null), readOnly(12)], events: [ev('step.started', 12)] },
      null,
    ],
    ['read-only steps only: the first step.started', { steps: [readOnly(15), readOnly(50)], events: [ev('step.started', 50), ev('step.started', 15)] }, 15],
    ['a verify or wait step is not an action', { steps: [{ kind: 'verify', readOnly: false, startedAt: t(5) }], events: [ev('step.started', 5)] }, 5],
    ['no step started: none', { steps: [changing(null)], events: [ev('approval.requested', 3)] }, null],
  ];
  for (const [name, r, s] of cases) test(name, () => assert.equal(actionAt(r), s === null ? null : T0 + s * 1000));
});

describe('approvalWaits: requests paired with their answers', () => {
  const cases: [string, ReportEvent[], number[]][] = [
    ['granted', [ev('approval.requested', 0, 1), ev('approval.granted', 90, 1)], [90_000]],
    ['rejected', [ev('approval.requested', 0, 1), ev('approval.rejected', 30, 1)], [30_000]],
    [
      'expired or cancelled: nobody answered, no wait',
      [ev('approval.requested', 0, 1), ev('approval.expired', 600, 1), ev('approval.requested', 700, 2), ev('approval.cancelled', 710, 2)],
      [],
    ],
    [
      'a refused attempt does not answer; the grant after it does',
      [ev('approval.requested', 0), ev('approval.refused', 5), ev('approval.granted', 45)],
      [45_000],
    ],
    [
      'two requests in turn, without seq: in order',
      [ev('approval.requested', 0), ev('approval.granted', 60), ev('approval.requested', 100), ev('approval.granted', 340)],
      [60_000, 240_000],
    ],
    [
      'by seq when both carry it',
      [ev('approval.requested', 0, 1), ev('approval.requested', 10, 2), ev('approval.granted', 50, 2), ev('approval.granted', 100, 1)],
      [40_000, 100_000],
    ],
    [
      'without seq: the oldest open request',
      [ev('approval.requested', 0), ev('approval.requested', 10), ev('approval.granted', 50), ev('approval.granted', 100)],
      [50_000, 90_000],
    ],
    ['still waiting: nothing yet', [ev('approval.requested', 0, 1)], []],
    ['an answer without a request is ignored', [ev('approval.granted', 5, 1)], []],
  ];
  for (const [name, events, waits] of cases) test(name, () => assert.deepEqual(approvalWaits(events), waits));
});

describe('buildReport on a constructed history', () => {
  const runs: ReportRun[] = [
    // restart-pod, live: five runs whose alert resolved after the action, in 60s, 90s, 30s, 300s, 120s.
    acted('restart-pod', 100, 160),
    acted('restart-pod', 200, 290),
    acted('restart-pod', 300, 330),
    acted('restart-pod', 400, 700, 'failed'),
    acted('restart-pod', 500, 620),
    // ...one whose alert never resolved, one resolved before the action, one cancelled before any step (resolved).
    acted('restart-pod', 600, null, 'interrupted'),
    acted('restart-pod', 800, 790),
    run('restart-pod', { state: 'cancelled', resolvedAt: t(50) }),
    // ...approvals: waits 120s, 30s (rejected), 60s and 240s (one run, two requests), and one that expired.
    approved('restart-pod', 0, 120),
    run('restart-pod', { state: 'rejected', events: [ev('approval.requested', 0, 1), ev('approval.rejected', 30, 1)] }),
    run('restart-pod', {
      events: [ev('approval.requested', 0, 1), ev('approval.granted', 60, 1), ev('approval.requested', 100, 2), ev('approval.granted', 340, 2)],
    }),
    run('restart-pod', { state: 'expired', events: [ev('approval.requested', 0, 1), ev('approval.expired', 3600, 1)] }),
    // ...still open.
    run('restart-pod', { state: 'awaiting_approval', events: [ev('approval.requested', 0, 1)] }),
    run('restart-pod', { state: 'running' }),
    run('restart-pod', { state: 'pending' }),
    // ...dry runs: resolved, with steps, and never part of the effectiveness figure.
    run('restart-pod', { dryRun: true, resolvedAt: t(10), steps: [changing(1)] }),
    run('restart-pod', { dryRun: true, state: 'failed' }),
    // rollback, live: an even count, 10s and 20s, the second through read-only steps only (the fallback).
    acted('rollback', 100, 110),
    run('rollback', { steps: [readOnly(200), readOnly(230)], events: [ev('step.started', 200), ev('step.started', 230)], resolvedAt: t(220) }),
    // scale-out: dry runs only, and a state from a newer daemon.
    run('scale-out', { dryRun: true }),
    run('scale-out', { dryRun: true, state: 'paused_by_future' as RunState }),
  ];
  const suppressions: SuppressionCount[] = [
    { playbook: 'restart-pod', reason: 'cooldown', count: 3 },
    { playbook: 'restart-pod', reason: 'duplicate', count: 1 },
    { playbook: 'restart-pod', reason: 'duplicate', count: 1 },
    { playbook: 'quiet', reason: 'maintenance', count: 4 },
    { playbook: 'rollback', reason: 'locked', count: 2 },
  ];
  const report = buildReport({ runs, suppressions }, WINDOW);
  const of = (name: string): ReportFigures => {
    const found = name === 'TOTAL' ? report.total : report.playbooks.find((p) => p.playbook === name);
    assert.ok(found, `${name} is in the report`);
    return found;
  };
  const s = 1000;

  test('every playbook with a run or a suppression, by name; the window as given', () => {
    assert.deepEqual(
      report.playbooks.map((p) => p.playbook),
      ['quiet', 'restart-pod', 'rollback', 'scale-out'],
    );
    assert.equal(report.since, WINDOW.since);
    assert.equal(report.until, WINDOW.until);
    assert.equal(report.percentiles, 'nearest-rank');
  });

  const cases: [string, string, (f: ReportFigures) => unknown, unknown][] = [
    [
      'live runs by state, open ones included',
      'restart-pod',
      (f) => f.runs.live,
      { succeeded: 7, failed: 1, cancelled: 1, rejected: 1, expired: 1, interrupted: 1, pending: 1, awaiting_approval: 1, running: 1, total: 15 },
    ],
    [
      'dry runs apart',
      'restart-pod',
      (f) => f.runs.dryRun,
      { succeeded: 1, failed: 1, cancelled: 0, rejected: 0, expired: 0, interrupted: 0, pending: 0, awaiting_approval: 0, running: 0, total: 2 },
    ],
    ['a state this version does not know counts in the total only', 'scale-out', (f) => [f.runs.dryRun.succeeded, f.runs.dryRun.total], [1, 2]],
    [
      'a playbook with suppressions only',
      'quiet',
      (f) => [f.runs.live.total, f.runs.dryRun.total, f.suppressions],
      [0, 0, { total: 4, byReason: { maintenance: 4 } }],
    ],
    ['median of five resolve times: the third (90s)', 'restart-pod', (f) => f.timeToResolve.medianMs, 90 * s],
    ['p90 of five: the fifth (300s)', 'restart-pod', (f) => f.timeToResolve.p90Ms, 300 * s],
    [
      'resolved before acting or without a step: counted, not timed',
      'restart-pod',
      (f) => [f.timeToResolve.count, f.timeToResolve.resolvedWithoutAction],
      [5, 1],
    ],
    // Every live run without resolved_at that acted or may: the interrupted one, the approved runs, the open ones.
    ['never resolved', 'restart-pod', (f) => f.timeToResolve.unresolved, 6],
    // Cancelled before any step (resolved), rejected, expired: counted apart, as the guards ignore them.
    ['never acted', 'restart-pod', (f) => f.timeToResolve.neverActed, 3],
    ['median of an even count (10s, 20s): the lower', 'rollback', (f) => [f.timeToResolve.medianMs, f.timeToResolve.p90Ms], [10 * s, 20 * s]],
    ['the fallback to the first step start (read-only steps only)', 'rollback', (f) => f.timeToResolve.count, 2],
    [
      'no live run: no figure',
      'scale-out',
      (f) => f.timeToResolve,
      { count: 0, medianMs: null, p90Ms: null, resolvedWithoutAction: 0, unresolved: 0, neverActed: 0 },
    ],
    ['approval waits 30s, 60s, 120s, 240s: median the 2nd, p90 the 4th', 'restart-pod', (f) => f.approvalWait, { count: 4, medianMs: 60 * s, p90Ms: 240 * s }],
    ['suppressions summed per reason, most first', 'restart-pod', (f) => f.suppressions, { total: 5, byReason: { cooldown: 3, duplicate: 2 } }],
    ['total: runs', 'TOTAL', (f) => [f.runs.live.total, f.runs.dryRun.total, f.runs.live.succeeded], [17, 4, 9]],
    // Pooled, not a median of medians: 10, 20, 30, 60, 90, 120, 300.
    [
      'total: resolve times pooled',
      'TOTAL',
      (f) => f.timeToResolve,
      { count: 7, medianMs: 60 * s, p90Ms: 300 * s, resolvedWithoutAction: 1, unresolved: 6, neverActed: 3 },
    ],
    ['total: suppressions', 'TOTAL', (f) => f.suppressions, { total: 11, byReason: { cooldown: 3, maintenance: 4, duplicate: 2, locked: 2 } }],
  ];
  for (const [name, playbook, pick, expected] of cases) test(`${playbook}: ${name}`, () => assert.deepEqual(pick(of(playbook)), expected));

  test('total suppressions: reasons ordered by count, then name', () => {
    assert.deepEqual(Object.keys(report.total.suppressions.byReason), ['maintenance', 'cooldown', 'duplicate', 'locked']);
  });

  test('no rows: an empty report, said in one line', () => {
    const empty = buildReport({ runs: [], suppressions: [] }, { ...WINDOW, playbook: 'restart-pod' });
    assert.deepEqual(empty.playbooks, []);
    assert.equal(empty.total.timeToResolve.medianMs, null);
    assert.equal(
      formatReport(empty),
      'runs of playbook restart-pod created, and suppressions decided, from 2026-11-01T00:00:00.000Z to 2026-12-01T00:00:00.000Z (excluded): none\n',
    );
  });
});

describe('duration: for people', () => {
  const cases: [number | null, string][] = [
    [null, '-'],
    [0, '0s'],
    [450, '450ms'],
    [90_000, '1m30s'],
    [90_400, '1m30s'],
    [59_600, '1m'],
    [3_725_000, '1h2m5s'],
  ];
  for (const [ms, text] of cases) test(`${ms} → ${text}`, () => assert.equal(duration(ms), text));
});
