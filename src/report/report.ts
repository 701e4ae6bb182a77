import type { EventKind, RenderedStep, RunState, StepState } from '../domain/run.js';
import { summarize } from './percentile.js';
import { ShadowTally, type ShadowFigures } from './shadow.js';

export type { ResolveSummary, ShadowFigures } from './shadow.js';

/**
 * `remediator report`, the computation: per playbook, what its runs came to, what was suppressed
 * and why, and whether acting fixed anything. Pure: the rows come in, a Report goes out; which
 * rows (the window, the playbook) is the reader's business.
 *
 * Glossary
 * - action: the start of a live run's first step that changes something (a run or http step not
 *   marked readOnly, in either phase); a run without one falls back to its first step.started.
 * - time to resolve: from the action to runs.resolved_at. An alert that resolved before the action
 *   (or of a run that never started a step) resolved without its help: counted apart, not timed.
 * - approval wait: from approval.requested to the approval.granted or approval.rejected that
 *   answers it (paired by data.seq when both carry it, else in order within the run).
 * - percentiles: nearest-rank (see percentile.ts): every median and p90 is a duration observed.
 */

/** One run as the report reads it: its row, its steps that started, and its step and approval events. */
export interface ReportRun {
  readonly id: string;
  readonly playbook: string;
  readonly dryRun: boolean;
  readonly state: RunState;
  readonly createdAt: string;
  readonly resolvedAt: string | null;
  readonly steps: readonly ReportStep[];
  /** Its step.started and approval.* events, in the order recorded. */
  readonly events: readonly ReportEvent[];
}

/** A step of a run, as far as the report cares (a run's steps come in plan order: main steps first). */
export interface ReportStep {
  readonly kind: RenderedStep['kind'];
  readonly readOnly: boolean;
  readonly startedAt: string | null;
  readonly name?: string;
  readonly phase?: 'main' | 'onFailure';
  readonly state?: StepState;
  /** A run step with a dryRun variant: what a dry run executes instead (kubectl … --dry-run=server). */
  readonly variant?: boolean;
  readonly error?: string | null;
}

/** An event of a run; `seq` is the approval request's number when the event carries one. */
export interface ReportEvent {
  readonly kind: EventKind;
  readonly at: string;
  readonly seq: number | null;
}

/** Suppress decisions of one playbook for one reason, counted (the reader groups them). */
export interface SuppressionCount {
  readonly playbook: string;
  readonly reason: string;
  readonly count: number;
  /** Live runs a guard held for approval (group_cap, storm) rather than suppressions. */
  readonly held?: boolean;
}

/** What the report covers: runs created, and decisions made, at or after `since` and before `until`. */
export interface ReportWindow {
  readonly since: string;
  readonly until: string;
  /** Only this playbook; null: all. */
  readonly playbook: string | null;
}

/** States in the order the report shows them: how runs ended, then those still open. */
export const REPORT_STATES: readonly RunState[] = [
  'succeeded',
  'failed',
  'cancelled',
  'rejected',
  'expired',
  'interrupted',
  'pending',
  'awaiting_approval',
  'running',
];

/** Runs per state; `total` also counts a state this version does not know (from a newer daemon). */
export type OutcomeCounts = Readonly<Record<RunState, number>> & { readonly total: number };

/** Durations summarized (nearest-rank); the median and p90 are null when there is none. */
export interface DurationSummary {
  readonly count: number;
  readonly medianMs: number | null;
  readonly p90Ms: number | null;
}

/** The figures of one playbook, or of all of them together. */
export interface ReportFigures {
  readonly runs: { readonly live: OutcomeCounts; readonly dryRun: OutcomeCounts };
  /** Reasons ordered by count, most first. */
  readonly suppressions: { readonly total: number; readonly byReason: Readonly<Record<string, number>> };
  /** Live runs a guard held for a person (group_cap, storm), by reason, most first. */
  readonly held: { readonly total: number; readonly byReason: Readonly<Record<string, number>> };
  /**
   * Live runs only: the effectiveness figure. `count` is of runs whose alert resolved after the
   * action; runs that never acted (rejected, expired, cancelled before acting, refused before any
   * step) are counted apart in `neverActed`, as the cooldown, maxRuns and the budget ignore them.
   */
  readonly timeToResolve: DurationSummary & { readonly resolvedWithoutAction: number; readonly unresolved: number; readonly neverActed: number };
  /** Approval requests of live runs answered by a person; `count` is of answers. */
  readonly approvalWait: DurationSummary;
  /** The dry runs' evidence: what the playbook would have done, and what happened without it. */
  readonly shadow: ShadowFigures;
}

/** The whole report: the window, each playbook that had a run or a suppression in it, and the total. */
export interface Report extends ReportWindow {
  readonly percentiles: 'nearest-rank';
  readonly playbooks: readonly (ReportFigures & { readonly playbook: string })[];
  readonly total: ReportFigures;
}

/** The report of `runs` and `suppressions`, which the caller selected for `window`. */
export function buildReport(input: { runs: Iterable<ReportRun>; suppressions: Iterable<SuppressionCount> }, window: ReportWindow): Report {
  const builder = new ReportBuilder();
  for (const run of input.runs) builder.addRun(run);
  for (const s of input.suppressions) builder.addSuppressions(s);
  return builder.build(window);
}

/** Running totals of one playbook: counts, and every duration (exact percentiles need them all). */
class Tally {
  readonly live = new Map<string, number>();
  readonly dryRun = new Map<string, number>();
  readonly suppressed = new Map<string, number>();
  readonly held = new Map<string, number>();
  readonly resolveMs: number[] = [];
  resolvedWithoutAction = 0;
  unresolved = 0;
  neverActed = 0;
  readonly approvalMs: number[] = [];
  readonly shadow = new ShadowTally();

  add(other: Tally): void {
    for (const [from, to] of [
      [other.live, this.live],
      [other.dryRun, this.dryRun],
      [other.suppressed, this.suppressed],
      [other.held, this.held],
    ] as const) {
      for (const [key, n] of from) bump(to, key, n);
    }
    // A loop, not push(...xs): a spread of many thousand arguments overflows the stack.
    for (const ms of other.resolveMs) this.resolveMs.push(ms);
    for (const ms of other.approvalMs) this.approvalMs.push(ms);
    this.resolvedWithoutAction += other.resolvedWithoutAction;
    this.unresolved += other.unresolved;
    this.neverActed += other.neverActed;
    this.shadow.add(other.shadow);
  }

  figures(): ReportFigures {
    return {
      runs: { live: outcomes(this.live), dryRun: outcomes(this.dryRun) },
      suppressions: byReason(this.suppressed),
      held: byReason(this.held),
      timeToResolve: {
        ...summarize(this.resolveMs),
        resolvedWithoutAction: this.resolvedWithoutAction,
        unresolved: this.unresolved,
        neverActed: this.neverActed,
      },
      approvalWait: summarize(this.approvalMs),
      shadow: this.shadow.figures(),
    };
  }
}

/**
 * Accumulates runs and suppressions one at a time, so that a reader can stream them: it keeps
 * counts and one number per timed run, never the rows.
 */
export class ReportBuilder {
  private readonly tallies = new Map<string, Tally>();

  private tally(playbook: string): Tally {
    let t = this.tallies.get(playbook);
    if (t === undefined) {
      t = new Tally();
      this.tallies.set(playbook, t);
    }
    return t;
  }

  addRun(run: ReportRun): void {
    const t = this.tally(run.playbook);
    bump(run.dryRun ? t.dryRun : t.live, run.state, 1);
    const fromDecision = run.resolvedAt === null ? null : Math.max(0, Date.parse(run.resolvedAt) - Date.parse(run.createdAt));
    if (run.dryRun) {
      t.shadow.addDryRun(run, fromDecision);
      return;
    }
    t.shadow.addLive(fromDecision);
    t.approvalMs.push(...approvalWaits(run.events));
    if (neverActed(run)) {
      t.neverActed++;
      return;
    }
    if (run.resolvedAt === null) {
      t.unresolved++;
      return;
    }
    const action = actionAt(run);
    const resolved = Date.parse(run.resolvedAt);
    if (action === null || resolved < action) t.resolvedWithoutAction++;
    else t.resolveMs.push(resolved - action);
  }

  addSuppressions(s: SuppressionCount): void {
    const tally = this.tally(s.playbook);
    bump(s.held === true ? tally.held : tally.suppressed, s.reason, s.count);
  }

  build(window: ReportWindow): Report {
    const total = new Tally();
    const names = [...this.tallies.keys()].sort();
    const playbooks = names.map((playbook) => {
      const t = this.tallies.get(playbook) as Tally;
      total.add(t);
      return { playbook, ...t.figures() };
    });
    return { since: window.since, until: window.until, playbook: window.playbook, percentiles: 'nearest-rank', playbooks, total: total.figures() };
  }
}

/**
 * When the run acted: the start of its first step that changes something; null when its plan has
 * such steps and none started (held, rejected, expired, cancelled: the alert resolved without the
 * run's help). Only a plan with no such step at all falls back to its first step.started.
 */
export function actionAt(run: Pick<ReportRun, 'steps' | 'events'>): number | null {
  const plan = run.steps.filter((s) => (s.kind === 'run' || s.kind === 'http') && !s.readOnly);
  if (plan.length > 0) {
    const started = plan.filter((s) => s.startedAt !== null).map((s) => Date.parse(s.startedAt as string));
    return started.length > 0 ? Math.min(...started) : null;
  }
  const started = run.events.filter((e) => e.kind === 'step.started').map((e) => Date.parse(e.at));
  return started.length > 0 ? Math.min(...started) : null;
}

/**
 * Whether a run ended without acting, so that it counts for nothing: rejected or expired, refused
 * before any step (failed with no steps), or cancelled before a step that changes something started. The
 * stores' guards (cooldown, maxRuns, the budget) leave out the same runs.
 */
export function neverActed(run: Pick<ReportRun, 'state' | 'steps'>): boolean {
  if (run.state === 'rejected' || run.state === 'expired') return true;
  if (run.state === 'failed') return run.steps.length === 0;
  if (run.state !== 'cancelled') return false;
  return !run.steps.some((s) => (s.kind === 'run' || s.kind === 'http') && !s.readOnly && s.startedAt !== null);
}

/** The events of a run the report reads: step starts (the action's fallback) and approvals. */
export const REPORT_EVENT_KINDS: readonly EventKind[] = [
  'step.started',
  'approval.requested',
  'approval.granted',
  'approval.rejected',
  'approval.expired',
  'approval.cancelled',
];

const ANSWERED: ReadonlySet<EventKind> = new Set(['approval.granted', 'approval.rejected']);
/** Ends of a request that nobody answered: they close it without a wait to count. */
const CLOSED: ReadonlySet<EventKind> = new Set(['approval.expired', 'approval.cancelled']);

/**
 * How long each answered request of one run waited. An answer closes the open request with its
 * seq when both carry one, else the oldest open request: a run holds one request at a time.
 */
export function approvalWaits(events: readonly ReportEvent[]): number[] {
  const open: { seq: number | null; at: number }[] = [];
  const waits: number[] = [];
  for (const e of events) {
    if (e.kind === 'approval.requested') {
      open.push({ seq: e.seq, at: Date.parse(e.at) });
      continue;
    }
    if (!ANSWERED.has(e.kind) && !CLOSED.has(e.kind)) continue;
    const bySeq = e.seq === null ? -1 : open.findIndex((r) => r.seq === e.seq);
    const i = bySeq >= 0 ? bySeq : 0;
    const request = open[i];
    if (request === undefined) continue;
    open.splice(i, 1);
    if (ANSWERED.has(e.kind)) waits.push(Math.max(0, Date.parse(e.at) - request.at));
  }
  return waits;
}

function outcomes(counts: ReadonlyMap<string, number>): OutcomeCounts {
  const known = Object.fromEntries(REPORT_STATES.map((s) => [s, counts.get(s) ?? 0])) as Record<RunState, number>;
  return { ...known, total: [...counts.values()].reduce((a, b) => a + b, 0) };
}

function bump(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

/** Counts by reason, most first, with their total. */
function byReason(counts: ReadonlyMap<string, number>): { total: number; byReason: Record<string, number> } {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return { total, byReason: Object.fromEntries([...counts].sort(([a, m], [b, n]) => n - m || a.localeCompare(b))) };
}
