import type { DecideSettings } from '../domain/decision.js';
import type { HistoryReader, RecordedRun, RecordedSwitch } from '../domain/history.js';
import type { Playbook } from '../domain/playbook.js';
import { isTerminal, type RunStep } from '../domain/run.js';
import { endRun, type RunEnding } from './end-run.js';
import { compareOutcomes, OutcomeFold, outcomeKey, type Change, type PlaybookComparison } from './replay-compare.js';
import { Sandbox } from './sandbox.js';

/**
 * `remediator replay`: the recorded webhook batches pushed again, in the order received, through
 * another playbook set, with the clock at each batch's receivedAt and the guard state rebuilt as
 * the replay goes, on a fresh in-memory store — the daemon's own pipeline (see Sandbox), never
 * today's state. Runs the replay creates end as the recorded run of the same playbook and alert
 * instance ended (its state, at its time), or succeeded at once when none was recorded; pauses
 * and circuit closings are thrown again at their times. Decisions made before `since` are
 * replayed for the state they leave (a warm-up as long as the longest guard window) but not
 * compared. Then, per playbook and alert instance, what was recorded is compared with what the
 * replay decided.
 */

/** What to replay, and through what. */
export interface ReplayOptions {
  readonly playbooks: readonly Playbook[];
  readonly settings: DecideSettings;
  /** Compare from here (null: the whole history). */
  readonly since: Date | null;
  readonly until: Date;
  /** Told every few hundred batches: done so far, of total. */
  readonly progress?: (done: number, total: number) => void;
}

/** What a replay found. */
export interface ReplayResult {
  readonly since: string | null;
  readonly until: string;
  /** Where the replay started, to rebuild the guard state `since` needs (null: the whole history). */
  readonly warmUpFrom: string | null;
  /** Batches and alerts compared (received from `since`); and all replayed, warm-up included. */
  readonly batches: number;
  readonly alerts: number;
  readonly replayedBatches: number;
  readonly playbooks: readonly PlaybookComparison[];
  readonly changes: readonly Change[];
}

/** How long before `since` the replay starts: the longest window a guard looks back over. */
export function warmUpMs(playbooks: readonly Playbook[], settings: DecideSettings): number {
  const windows = playbooks.flatMap((p) => [p.guards.cooldownMs ?? 0, p.guards.maxRuns?.perMs ?? 0, p.approval.timeoutMs]);
  return Math.max(0, settings.budget?.perMs ?? 0, ...windows);
}

const EPOCH = '1970-01-01T00:00:00.000Z';
const PAGE = 200;

/** Replays the history `reader` reads (in one snapshot of it). */
export function replay(reader: HistoryReader, opts: ReplayOptions): Promise<ReplayResult> {
  return reader.snapshot(() => replayIn(reader, opts));
}

async function replayIn(reader: HistoryReader, opts: ReplayOptions): Promise<ReplayResult> {
  const until = opts.until.toISOString();
  const compareFrom = opts.since === null ? EPOCH : opts.since.toISOString();
  const start = opts.since === null ? EPOCH : new Date(opts.since.getTime() - warmUpMs(opts.playbooks, opts.settings)).toISOString();
  const range = { since: start, until };

  // How each recorded run ended, to end the replay's run for the same instance the same way.
  const recordedRuns = new Map<string, RecordedRun>();
  for await (const run of reader.runs(range)) recordedRuns.set(outcomeKey(run.playbook, run.instanceKey), run);
  const switches = await reader.switches(range);
  const total = await reader.countBatches(range);

  let sandbox: Sandbox | null = null;
  const replayed = new OutcomeFold();
  const replayedPlans = new Map<string, RunStep[]>();
  const compared = new Set<string>();
  const pending: { at: number; seq: number; end: () => Promise<void> }[] = [];
  let seq = 0;
  let alerts = 0;
  let done = 0;
  const byName = new Map(opts.playbooks.map((p) => [p.name, p]));

  const dueBy = async (s: Sandbox, at: number) => {
    pending.sort((a, b) => a.at - b.at || a.seq - b.seq);
    while (pending.length > 0 && (pending[0] as (typeof pending)[number]).at <= at) {
      const next = pending.shift() as (typeof pending)[number];
      s.setTime(new Date(next.at));
      await next.end();
    }
  };

  let page: { id: string; receivedAt: Date; payload: unknown }[] = [];
  const flush = async () => {
    if (page.length === 0) return;
    const batches = page;
    page = [];
    const first = batches[0] as (typeof batches)[number];
    if (sandbox === null) {
      sandbox = Sandbox.open(opts.playbooks, opts.settings, first.receivedAt);
      await seedSwitches(sandbox, await reader.switchesBefore(first.receivedAt.toISOString()));
      for (const sw of switches) pending.push({ at: Date.parse(sw.at), seq: seq++, end: () => throwSwitch(sandbox as Sandbox, sw) });
    }
    const s: Sandbox = sandbox;
    // Stored together (one commit), decided one at a time in order, as the worker does.
    const stored = await s.storeBatches(batches);
    for (const [i, b] of batches.entries()) {
      await dueBy(s, b.receivedAt.getTime());
      s.setTime(b.receivedAt);
      await s.expireDue();
      const delivered = await s.process({ id: stored[i] as string, receivedAt: b.receivedAt, payload: b.payload });
      const inWindow = b.receivedAt.toISOString() >= compareFrom;
      if (inWindow) {
        compared.add(b.id);
        alerts += Array.isArray((b.payload as { alerts?: unknown[] })?.alerts) ? (b.payload as { alerts: unknown[] }).alerts.length : 0;
        for (const d of delivered.decisions) replayed.add(d);
      }
      for (const { run, playbook } of delivered.created) {
        const detail = await s.run(run.id);
        const steps = detail?.steps ?? [];
        if (inWindow) replayedPlans.set(run.id, steps);
        const ending = endingOf(recordedRuns.get(outcomeKey(run.playbook, run.instanceKey)), b.receivedAt);
        if (ending !== null)
          pending.push({ at: ending.at, seq: seq++, end: () => endRun(s.store, run, byName.get(playbook.name) ?? playbook, steps, ending, s.now()) });
      }
      done++;
      if (done % 500 === 0) opts.progress?.(done, total);
    }
  };

  try {
    for await (const batch of reader.batches(range)) {
      page.push(batch);
      if (page.length >= PAGE) await flush();
    }
    await flush();
  } finally {
    await (sandbox as Sandbox | null)?.close();
  }
  opts.progress?.(done, total);

  // What was recorded for the same batches (a decision is made just after its batch arrives).
  const recorded = new OutcomeFold();
  for await (const d of reader.decisions({ since: compareFrom, until: new Date(opts.until.getTime() + DECISION_SLACK_MS).toISOString() })) {
    if (d.batchId !== null && compared.has(d.batchId)) recorded.add(d);
  }
  const recordedPlans = new Map([...recordedRuns.values()].map((r) => [r.id, r.steps]));
  const { changes, playbooks } = compareOutcomes(recorded.outcomes(), replayed.outcomes(), (id) => recordedPlans.get(id) ?? replayedPlans.get(id));
  return {
    since: opts.since === null ? null : compareFrom,
    until,
    warmUpFrom: opts.since === null ? null : start,
    batches: compared.size,
    alerts,
    replayedBatches: done,
    playbooks,
    changes,
  };
}

/** Decisions of a batch received before `until` may be recorded a little after it (a backlog). */
const DECISION_SLACK_MS = 86_400_000;

/** How the replay's run ends: as the recorded one did, at its time; succeeded at once without one. */
function endingOf(recorded: RecordedRun | undefined, createdAt: Date): (RunEnding & { at: number }) | null {
  if (recorded === undefined) return { state: 'succeeded', at: createdAt.getTime() };
  if (!isTerminal(recorded.state)) return recorded.state === 'pending' ? null : { state: recorded.state, at: createdAt.getTime() };
  const at = Math.max(createdAt.getTime(), Date.parse(recorded.finishedAt ?? recorded.createdAt));
  return { state: recorded.state, acted: recorded.acted, at };
}

/** The pause and circuit as they stood where the replay starts. */
async function seedSwitches(s: Sandbox, before: readonly RecordedSwitch[]): Promise<void> {
  const at = s.now().toISOString();
  for (const sw of before) {
    if (sw.kind === 'paused' && typeof sw.data['until'] === 'string' && sw.data['until'] > at) {
      await s.store.setPause({ at: sw.at, until: sw.data['until'], reason: text(sw.data['reason']), by: text(sw.data['by']), via: 'cli' });
    }
    if (sw.kind === 'circuit.opened') await s.store.openCircuit({ at: sw.at, reason: text(sw.data['reason']), by: text(sw.data['by']) || 'budget' });
  }
}

/**
 * A recorded switch thrown again at its time: pauses and their lifting, and closings of the
 * circuit (people's); the budget's openings happen again by themselves when the replay spends it.
 */
async function throwSwitch(s: Sandbox, sw: RecordedSwitch): Promise<void> {
  const via = 'cli';
  if (sw.kind === 'paused' && typeof sw.data['until'] === 'string') {
    await s.store.setPause({ at: sw.at, until: sw.data['until'], reason: text(sw.data['reason']), by: text(sw.data['by']), via });
  } else if (sw.kind === 'resumed') await s.store.endPause({ at: sw.at, by: text(sw.data['by']), via });
  else if (sw.kind === 'circuit.closed') await s.store.closeCircuit({ at: sw.at, by: text(sw.data['by']), via, note: text(sw.data['note']) });
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
