import { describeAlert } from '../domain/alert.js';
import { formatDuration } from '../domain/duration.js';
import type { Playbook } from '../domain/playbook.js';
import type { RunDetail, RunState } from '../domain/run.js';
import type { Decided } from '../domain/decided.js';
import { endRun } from './end-run.js';
import { checkExpectation, describeDecision, observe } from './expectations.js';
import { Sandbox } from './sandbox.js';
import type { TestCase, TestSuite, TimelineAction, TimelineAlert } from './test-file.js';

/**
 * Runs the tests of a suite, each on a sandbox of its own: the timeline's alerts are delivered as
 * webhooks at their times, through the daemon's pipeline; the runs they create end as the test
 * says (default: succeeded at once) before anything later arrives; the people's switches (pause,
 * circuit) are thrown at their times. Then every expectation is held against what was recorded.
 */

/** How one test went. */
export interface TestResult {
  readonly name: string;
  readonly line: number | null;
  readonly ok: boolean;
  readonly durationMs: number;
  /** Each failed expectation: the alert, the playbook, and what differs. */
  readonly failures: readonly Failure[];
  /** Every decision of the timeline, in order, for --verbose and for failures' context. */
  readonly trace: readonly string[];
}

/** One expectation that did not hold. */
export interface Failure {
  readonly at: string;
  readonly alert: string;
  readonly playbook: string;
  readonly lines: readonly string[];
}

/** How a test file went. */
export interface SuiteResult {
  readonly file: string;
  readonly results: readonly TestResult[];
}

/** Runs the tests of `suite` whose names `only` accepts (default: all). */
export async function runSuite(suite: TestSuite, only: (name: string) => boolean = () => true): Promise<SuiteResult> {
  const results: TestResult[] = [];
  for (const t of suite.tests.filter((x) => only(x.name))) results.push(await runTest(suite, t));
  return { file: suite.file, results };
}

/** A line naming an alert of the timeline: when it arrives, its labels, fingerprint and status. */
export function alertLine(a: TimelineAlert): string {
  const derived = a.derivedFingerprint ? ' (fingerprint derived from the labels, as Alertmanager does)' : '';
  return `at ${a.at}: ${describeAlert(a.alert)}${derived}${a.alert.status === 'resolved' ? ' resolved' : ''}, startsAt ${a.alert.startsAt}`;
}

interface Ending {
  readonly atMs: number;
  readonly seq: number;
  readonly run: { id: string; dryRun: boolean };
  readonly playbook: Playbook;
  readonly state: RunState;
}

async function runTest(suite: TestSuite, t: TestCase): Promise<TestResult> {
  const began = performance.now();
  const first = Math.min(0, ...t.alerts.map((a) => a.atMs), ...t.actions.map((a) => a.atMs));
  const at = (ms: number) => new Date(t.start.getTime() + ms);
  const sandbox = Sandbox.open(suite.playbooks, t.settings, at(first));
  const trace: string[] = [];
  const decided = new Map<TimelineAlert, { decisions: readonly Decided[]; runs: Map<string, RunDetail> }>();
  try {
    await initialState(sandbox, t, at(first));
    const moments = [...new Set([...t.alerts.map((a) => a.atMs), ...t.actions.map((a) => a.atMs)])].sort((a, b) => a - b);
    const endings: Ending[] = [];
    let seq = 0;
    for (const moment of moments) {
      // What is due by now happens first: runs end, held requests expire, people act.
      endings.sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
      while (endings.length > 0 && (endings[0] as Ending).atMs <= moment) {
        const e = endings.shift() as Ending;
        sandbox.setTime(at(e.atMs));
        const detail = await sandbox.run(e.run.id);
        if (detail !== null) await endRun(sandbox.store, e.run, e.playbook, detail.steps, { state: e.state }, sandbox.now());
      }
      sandbox.setTime(at(moment));
      await sandbox.expireDue();
      for (const action of t.actions.filter((a) => a.atMs === moment)) await act(sandbox, action);
      const arriving = t.alerts.filter((a) => a.atMs === moment);
      if (arriving.length === 0) continue;
      const delivered = await sandbox.deliver(webhook(arriving, moment));
      const runs = new Map<string, RunDetail>();
      for (const d of delivered.decisions) {
        const detail = d.runId === null ? null : await sandbox.run(d.runId);
        if (detail !== null) runs.set(detail.id, detail);
      }
      for (const a of arriving) {
        const mine = delivered.decisions.filter((d) => d.fingerprint === a.alert.fingerprint && d.startsAt === a.alert.startsAt);
        decided.set(a, { decisions: mine, runs });
        trace.push(alertLine(a));
        for (const d of mine) trace.push(`  ${d.playbook}: ${describeDecision(d)}`);
        if (mine.length === 0) trace.push('  no playbook matches');
      }
      for (const { run, playbook } of delivered.created) {
        const a = arriving.find((x) => x.alert.fingerprint === run.fingerprint && x.alert.startsAt === run.startsAt);
        const end = a?.ends.find((x) => x.playbook === playbook.name) ??
          a?.ends.find((x) => x.playbook === null) ?? { state: 'succeeded' as const, afterMs: 0 };
        endings.push({ atMs: moment + end.afterMs, seq: seq++, run, playbook, state: end.state });
        if (end.state !== 'succeeded' || end.afterMs > 0)
          trace.push(`  (run ${run.id} of ${playbook.name} ends ${end.state} after ${formatDuration(end.afterMs)})`);
      }
    }
  } finally {
    await sandbox.close();
  }
  const failures: Failure[] = [];
  for (const e of t.expect) {
    const playbook = suite.playbooks.find((p) => p.name === e.playbook) as Playbook;
    const seen = decided.get(e.target) ?? { decisions: [], runs: new Map<string, RunDetail>() };
    const lines = checkExpectation(e, observe(e.target.alert, playbook, seen.decisions, seen.runs));
    if (lines.length > 0) failures.push({ at: e.at, alert: alertLine(e.target), playbook: e.playbook, lines });
  }
  return { name: t.name, line: t.line, ok: failures.length === 0, durationMs: performance.now() - began, failures, trace };
}

/** The pause and the open circuit a test starts with, set through the store as a person's would be. */
async function initialState(sandbox: Sandbox, t: TestCase, at: Date): Promise<void> {
  if (t.paused !== null) {
    await sandbox.store.setPause({ at: at.toISOString(), until: t.paused.until.toISOString(), reason: t.paused.reason, by: t.paused.by, via: 'cli' });
  }
  if (t.circuit !== null) await sandbox.store.openCircuit({ at: at.toISOString(), reason: t.circuit.reason, by: 'remediator-test' });
}

async function act(sandbox: Sandbox, a: TimelineAction): Promise<void> {
  const at = sandbox.now().toISOString();
  switch (a.kind) {
    case 'pause':
      await sandbox.store.setPause({ at, until: new Date(sandbox.now().getTime() + a.forMs).toISOString(), reason: a.reason, by: a.by, via: 'cli' });
      return;
    case 'resume':
      await sandbox.store.endPause({ at, by: 'remediator-test', via: 'cli' });
      return;
    case 'openCircuit':
      await sandbox.store.openCircuit({ at, reason: a.reason, by: 'remediator-test' });
      return;
    case 'closeCircuit':
      await sandbox.store.closeCircuit({ at, by: 'remediator-test', via: 'cli', note: a.note });
      return;
  }
}

/** The alerts arriving at one moment as one Alertmanager webhook (version 4). */
function webhook(alerts: readonly TimelineAlert[], moment: number): unknown {
  return {
    version: '4',
    receiver: 'remediator',
    status: alerts.some((a) => a.alert.status === 'firing') ? 'firing' : 'resolved',
    groupKey: `{}:{test="${moment}"}`,
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: '',
    truncatedAlerts: 0,
    alerts: alerts.map(({ alert }) => ({
      status: alert.status,
      labels: alert.labels,
      annotations: alert.annotations,
      startsAt: alert.startsAt,
      endsAt: alert.endsAt ?? '0001-01-01T00:00:00Z',
      generatorURL: alert.generatorURL,
      fingerprint: alert.fingerprint,
    })),
  };
}
