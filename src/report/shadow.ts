import { summarize } from './percentile.js';
import type { DurationSummary, ReportRun } from './report.js';

/**
 * Shadow mode: the dry runs of a playbook (its mode dry-run, the global dry-run, a dry-run
 * maintenance window), the evidence for promoting it to live.
 */
export interface ShadowFigures {
  readonly dryRuns: number;
  /** Dry runs whose plan has a step that changes something, with no step failed before it: a live run would have acted. */
  readonly wouldHaveActed: number;
  /** Dry runs in which a dryRun variant (a --dry-run=server refusal) or a read-only step failed. */
  readonly failed: { readonly dryRunVariant: number; readonly readOnly: number };
  /** The steps that failed in dry runs, most first: how many runs, and the last error. */
  readonly failedSteps: readonly {
    readonly step: string;
    readonly as: 'dry-run variant' | 'read-only';
    readonly runs: number;
    readonly lastError: string | null;
  }[];
  /**
   * Time from the decision (the run's creation) to the alert resolving: for dry runs, with no action
   * taken (the baseline live runs must beat), and beside it for live runs, measured the same way.
   */
  readonly resolveFromDecision: { readonly dryRun: ResolveSummary; readonly live: ResolveSummary };
}

/** Durations to a resolve, and how many never resolved. */
export type ResolveSummary = DurationSummary & { readonly unresolved: number };

/** The running shadow figures of one playbook (or of all): counts, and every duration. */
export class ShadowTally {
  private dryRuns = 0;
  private wouldHaveActed = 0;
  private variant = 0;
  private readOnly = 0;
  private readonly dryMs: number[] = [];
  private dryUnresolved = 0;
  private readonly liveMs: number[] = [];
  private liveUnresolved = 0;
  /** Failed dry-run steps by "as\u0000step": in how many runs, and the last error. */
  private readonly failedSteps = new Map<string, { runs: number; lastError: string | null }>();

  /**
   * A dry run: would it have acted (a step that changes something, no step failed before it),
   * which of its dryRun variants and read-only steps failed, how long its alert took to resolve.
   */
  addDryRun(run: ReportRun, fromDecision: number | null): void {
    this.dryRuns++;
    if (fromDecision === null) this.dryUnresolved++;
    else this.dryMs.push(fromDecision);
    const main = run.steps.filter((s) => (s.phase ?? 'main') === 'main');
    const acting = main.findIndex((s) => (s.kind === 'run' || s.kind === 'http') && !s.readOnly);
    if (acting >= 0 && !main.slice(0, acting).some((s) => s.state === 'failed')) this.wouldHaveActed++;
    let variant = false;
    let readOnly = false;
    for (const s of run.steps) {
      if (s.state !== 'failed') continue;
      const as = s.variant === true ? 'dry-run variant' : s.readOnly ? 'read-only' : null;
      if (as === null) continue;
      if (as === 'dry-run variant') variant = true;
      else readOnly = true;
      const key = `${as}\u0000${s.name ?? s.kind}`;
      const f = this.failedSteps.get(key);
      this.failedSteps.set(key, { runs: (f?.runs ?? 0) + 1, lastError: s.error ?? f?.lastError ?? null });
    }
    if (variant) this.variant++;
    if (readOnly) this.readOnly++;
  }

  /** A live run's time from the decision to the resolve (null: not resolved), for the side-by-side. */
  addLive(fromDecision: number | null): void {
    if (fromDecision === null) this.liveUnresolved++;
    else this.liveMs.push(fromDecision);
  }

  add(other: ShadowTally): void {
    this.dryRuns += other.dryRuns;
    this.wouldHaveActed += other.wouldHaveActed;
    this.variant += other.variant;
    this.readOnly += other.readOnly;
    this.dryUnresolved += other.dryUnresolved;
    this.liveUnresolved += other.liveUnresolved;
    // Loops, not push(...xs): a spread of many thousand arguments overflows the stack.
    for (const ms of other.dryMs) this.dryMs.push(ms);
    for (const ms of other.liveMs) this.liveMs.push(ms);
    for (const [key, f] of other.failedSteps) {
      const mine = this.failedSteps.get(key);
      this.failedSteps.set(key, { runs: (mine?.runs ?? 0) + f.runs, lastError: f.lastError ?? mine?.lastError ?? null });
    }
  }

  figures(): ShadowFigures {
    return {
      dryRuns: this.dryRuns,
      wouldHaveActed: this.wouldHaveActed,
      failed: { dryRunVariant: this.variant, readOnly: this.readOnly },
      failedSteps: [...this.failedSteps]
        .map(([key, f]) => {
          const [as, step] = key.split('\u0000') as ['dry-run variant' | 'read-only', string];
          return { step, as, runs: f.runs, lastError: f.lastError };
        })
        .sort((x, y) => y.runs - x.runs || x.step.localeCompare(y.step) || x.as.localeCompare(y.as)),
      resolveFromDecision: {
        dryRun: { ...summarize(this.dryMs), unresolved: this.dryUnresolved },
        live: { ...summarize(this.liveMs), unresolved: this.liveUnresolved },
      },
    };
  }
}
