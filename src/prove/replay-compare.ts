import type { Decided, DecisionKind } from '../domain/decided.js';
import type { RunStep } from '../domain/run.js';
import { diffLines } from './line-diff.js';
import { planLine, withoutRunId } from './plan-check.js';

/**
 * What a replay compares: per playbook and alert instance, what the recorded history decided and
 * what the replay decided, folded over every delivery of the instance (Alertmanager re-sends it),
 * and the difference put in one of a few words. Pure.
 */

/** What one playbook decided for one alert instance, over all its deliveries. */
export interface Outcome {
  readonly playbook: string;
  readonly instanceKey: string;
  readonly alertname: string;
  readonly targetKey: string;
  /** The decision that made a run, or else the instance's suppressions. */
  readonly kind: DecisionKind;
  /** For suppressions: every reason given, in order (resolved left out when there are others). */
  readonly reasons: readonly string[];
  readonly detail: string;
  readonly runId: string | null;
  readonly deliveries: number;
}

/** Folds decisions (in the order made) into one outcome per playbook and instance. */
export class OutcomeFold {
  private readonly byKey = new Map<string, { first: Decided; run: Decided | null; reasons: string[]; details: string[]; deliveries: number }>();

  add(d: Decided): void {
    const key = outcomeKey(d.playbook, d.instanceKey);
    const o = this.byKey.get(key);
    const entry = o ?? { first: d, run: null, reasons: [], details: [], deliveries: 0 };
    entry.deliveries++;
    if (d.kind !== 'suppress') entry.run ??= d;
    else if (d.reason !== null && !entry.reasons.includes(d.reason)) {
      entry.reasons.push(d.reason);
      entry.details.push(d.detail);
    }
    if (o === undefined) this.byKey.set(key, entry);
  }

  /** The outcomes, by outcomeKey. */
  outcomes(): Map<string, Outcome> {
    const out = new Map<string, Outcome>();
    for (const [key, e] of this.byKey) {
      const d = e.run ?? e.first;
      // A resolve is decided "suppress: resolved" for every playbook that acted on the firing
      // alert: it says nothing of its own beside another reason.
      const keep =
        e.reasons.length > 1
          ? e.reasons.map((r, i) => [r, e.details[i] ?? ''] as const).filter(([r]) => r !== 'resolved')
          : e.reasons.map((r, i) => [r, e.details[i] ?? ''] as const);
      out.set(key, {
        playbook: d.playbook,
        instanceKey: d.instanceKey,
        alertname: d.alertname,
        targetKey: d.targetKey,
        kind: e.run?.kind ?? 'suppress',
        reasons: e.run === null ? keep.map(([r]) => r) : [],
        detail: e.run === null ? keep.map(([, x]) => x).join('; ') : e.run.detail,
        runId: e.run?.runId ?? null,
        deliveries: e.deliveries,
      });
    }
    return out;
  }
}

/** The key of an outcome: playbook and alert instance. */
export function outcomeKey(playbook: string, instanceKey: string): string {
  return `${playbook}\u0000${instanceKey}`;
}

/** How an instance's outcome changed. */
export type ChangeKind = 'new-run' | 'no-longer' | 'changed-decision' | 'changed-plan';

/** One instance whose outcome changed, from the recorded to the replayed. */
export interface Change {
  readonly kind: ChangeKind;
  readonly playbook: string;
  readonly instanceKey: string;
  readonly alertname: string;
  readonly targetKey: string;
  /** What was recorded (null: the playbook did not match, or did not exist). */
  readonly from: OutcomeView | null;
  /** What the replay decided (null: the playbook does not match, or is gone). */
  readonly to: OutcomeView | null;
  /** For changed plans: the diff, recorded (-) to replayed (+). */
  readonly planDiff?: readonly string[];
}

/** An outcome as a change shows it. */
export interface OutcomeView {
  readonly decision: DecisionKind;
  readonly reasons: readonly string[];
  readonly detail: string;
  readonly runId: string | null;
}

/** Per playbook: how many instances kept their outcome and how many changed, by kind. */
export interface PlaybookComparison {
  readonly playbook: string;
  readonly unchanged: number;
  readonly newRuns: number;
  readonly noLonger: number;
  readonly changedDecisions: number;
  readonly changedPlans: number;
}

const ACTS: ReadonlySet<DecisionKind> = new Set(['run', 'approve', 'dry-run']);

/**
 * Compares recorded and replayed outcomes; `plans` gives a run's steps (recorded or replayed, by
 * run id). A run's plan is compared step by step as the playbook renders it: its own run id is
 * written back as {{ run.id }}, and a step whose values are only known while it runs (earlier
 * steps' output, secrets) by its name and kind only.
 */
export function compareOutcomes(
  recorded: ReadonlyMap<string, Outcome>,
  replayed: ReadonlyMap<string, Outcome>,
  plans: (runId: string) => readonly RunStep[] | undefined,
): { changes: Change[]; playbooks: PlaybookComparison[] } {
  const counts = new Map<string, { unchanged: number; newRuns: number; noLonger: number; changedDecisions: number; changedPlans: number }>();
  const changes: Change[] = [];
  const keys = [...new Set([...recorded.keys(), ...replayed.keys()])];
  for (const key of keys) {
    const from = recorded.get(key) ?? null;
    const to = replayed.get(key) ?? null;
    const any = (from ?? to) as Outcome;
    const c = counts.get(any.playbook) ?? { unchanged: 0, newRuns: 0, noLonger: 0, changedDecisions: 0, changedPlans: 0 };
    counts.set(any.playbook, c);
    const kind = changeOf(from, to, plans);
    if (kind === null) {
      c.unchanged++;
      continue;
    }
    const base = { playbook: any.playbook, instanceKey: any.instanceKey, alertname: any.alertname, targetKey: (to ?? from)?.targetKey ?? '' };
    const change: Change = { kind: kind.kind, ...base, from: view(from), to: view(to), ...(kind.diff ? { planDiff: kind.diff } : {}) };
    changes.push(change);
    if (kind.kind === 'new-run') c.newRuns++;
    else if (kind.kind === 'no-longer') c.noLonger++;
    else if (kind.kind === 'changed-decision') c.changedDecisions++;
    else c.changedPlans++;
  }
  const playbooks = [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([playbook, c]) => ({ playbook, ...c }));
  return { changes, playbooks };
}

function changeOf(
  from: Outcome | null,
  to: Outcome | null,
  plans: (runId: string) => readonly RunStep[] | undefined,
): { kind: ChangeKind; diff?: string[] } | null {
  const acted = (o: Outcome | null) => o !== null && ACTS.has(o.kind);
  if (!acted(from) && acted(to)) return { kind: 'new-run' };
  if (acted(from) && !acted(to)) return { kind: 'no-longer' };
  if (from === null || to === null) return from === to ? null : { kind: 'changed-decision' };
  if (from.kind !== to.kind || from.reasons.join() !== to.reasons.join()) return { kind: 'changed-decision' };
  if (!acted(from) || from.runId === null || to.runId === null) return null;
  const diff = planDiff(plans(from.runId) ?? [], from.runId, plans(to.runId) ?? [], to.runId);
  return diff === null ? null : { kind: 'changed-plan', diff };
}

/** The diff of two plans, or null when they are the same. */
export function planDiff(a: readonly RunStep[], aId: string, b: readonly RunStep[], bId: string): string[] | null {
  const lines = (steps: readonly RunStep[], id: string, other: readonly RunStep[]) =>
    withoutRunId(steps, id).map((s) => {
      const twin = other.find((o) => o.phase === s.phase && o.index === s.index);
      const runtime = s.deferred || twin?.deferred === true;
      return `${s.phase === 'onFailure' ? 'onFailure ' : ''}${runtime ? `${s.index + 1}. ${s.name} (${s.kind}): (rendered when it runs)` : planLine(s)}`;
    });
  const before = lines(a, aId, b);
  const after = lines(b, bId, a);
  if (before.length === after.length && before.every((l, i) => l === after[i])) return null;
  return diffLines(before, after).map((d) => `${d.op} ${d.line}`);
}

function view(o: Outcome | null): OutcomeView | null {
  return o === null ? null : { decision: o.kind, reasons: o.reasons, detail: o.detail, runId: o.runId };
}
