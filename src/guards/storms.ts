import { openRequest, type Identity, type Verdict } from '../domain/approval.js';
import type { StormRule } from '../domain/decision.js';
import { formatDuration } from '../domain/duration.js';
import { errorMessage, RemediatorError } from '../domain/errors.js';
import type { Notification, Notifier } from '../domain/notifier.js';
import type { Run } from '../domain/run.js';
import type { AuditLog, RunStore, StormRecord, StormStore } from '../domain/store.js';
import type { StormMessages, StormView } from '../domain/storm-view.js';
import { deliver } from '../notify/deliver.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/** What a person's verdict on a storm's held runs came to. */
export interface StormVerdict {
  readonly storm: StormRecord;
  /** Runs decided by this request, each recorded with who decided. */
  readonly decided: readonly string[];
  /** Runs it could not decide (decided meanwhile, not allowed for this person), with why. */
  readonly refused: readonly { readonly runId: string; readonly message: string }[];
}

/** What storms need; wired once in the pipeline. */
export interface StormsDeps {
  readonly store: StormStore & AuditLog & Pick<RunStore, 'getRun'>;
  readonly rule: StormRule | null;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Told once when a storm opens and once when it ends (Slack takes its message instead). */
  readonly notifiers: readonly Notifier[];
  readonly messages?: StormMessages | null;
  /** One run's verdict through the approval service (who may decide is checked there), telling nobody: the storm tells once. */
  readonly decideRun: (runId: string, verdict: Verdict, who: Identity, comment: string | null) => Promise<{ ok: boolean; message: string }>;
  readonly publicUrl?: string;
  /** The fewest milliseconds between two redraws of a growing storm's message (default 5 s). */
  readonly redrawMs?: number;
  /** Told once the storm's message is posted, with the storm's runs (their own messages go in its thread). */
  readonly onMessagePosted?: (runIds: readonly string[]) => void;
}

/**
 * Storms as people meet them. Opening and growing are the decision slices' (stormSlice, under the
 * decision lock); here the opening and the end are told once, the storm's message kept up to
 * date, the quiet storm ended after its cooldown (a timer: whichever replica gets there first,
 * a conditional update), and a person's verdict applied to every held run of the storm, each
 * through the approval service so each records who decided. Nothing here throws into the
 * pipeline or holds it up.
 */
export class Storms {
  private readonly work = new Set<Promise<void>>();
  /** Per storm, the redraw in flight and whether another is owed. */
  private readonly redraws = new Map<string, { again: boolean; last: number }>();
  /** Runs this process created for a storm, by id: their changes (held, decided) redraw its message. */
  private readonly stormOfRun = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: StormsDeps) {}

  /** Ends quiet storms every quarter cooldown (at most every 10 s). */
  start(): void {
    const rule = this.deps.rule;
    if (rule === null || this.timer !== null) return;
    const every = Math.max(200, Math.min(10_000, Math.floor(rule.cooldownMs / 4)));
    this.timer = setInterval(() => this.track(this.tick().then(() => undefined)), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** A decision slice opened, grew or ended a storm (after its commit). */
  changed(change: { opened: StormRecord | null; grew: StormRecord | null; ended: StormRecord | null }): void {
    if (change.ended) this.over(change.ended);
    if (change.opened) this.opened(change.opened);
    if (change.grew) this.redraw(change.grew.id, false);
  }

  /** A run was created for a storm's alert (its changes redraw the storm's message from now on). */
  created(runId: string, stormId: string): void {
    this.stormOfRun.set(runId, stormId);
  }

  /** Watches run changes (RunChanges.watch): a storm's run was held or decided. */
  readonly runChanged = (runId: string): void => {
    const stormId = this.stormOfRun.get(runId);
    if (stormId !== undefined) this.redraw(stormId, false);
  };

  /** Ends the open storm once it has been quiet for the cooldown; returns it when this call ended it. */
  async tick(): Promise<StormRecord | null> {
    const rule = this.deps.rule;
    if (rule === null) return null;
    const now = this.deps.clock();
    try {
      const ended = await this.deps.store.endStorm({ at: now.toISOString(), quietSince: new Date(now.getTime() - rule.cooldownMs).toISOString() });
      if (ended !== null) this.over(ended);
      else this.deps.metrics.stormActive.set((await this.deps.store.listStorms({ limit: 1 })).length);
      return ended;
    } catch (err) {
      this.deps.logger.warn(`looking for a storm to end failed: ${errorMessage(err)}`);
      return null;
    }
  }

  async list(query: { all?: boolean; limit: number }): Promise<StormRecord[]> {
    return this.deps.store.listStorms(query);
  }

  /** A storm with its runs. */
  async get(id: string): Promise<{ storm: StormRecord; runs: Run[] }> {
    const storm = await this.deps.store.getStorm(id);
    if (storm === null) throw new RemediatorError('not_found', `no storm with id ${id}: remediator storms list --all shows them`);
    return { storm, runs: await this.deps.store.stormRuns(id) };
  }

  /**
   * A person approves or rejects every run of the storm held at the storm's own hold: not a run
   * waiting at an approval step of its playbook (asked for on its own), and, with `upTo`, none
   * created after what the person was shown.
   */
  async decideAll(input: { id: string; verdict: Verdict; who: Identity; comment: string | null; upTo?: string }): Promise<StormVerdict> {
    const { storm, runs } = await this.get(input.id);
    const decided: string[] = [];
    const refused: { runId: string; message: string }[] = [];
    for (const run of runs) {
      if (run.state !== 'awaiting_approval' || (input.upTo !== undefined && run.createdAt > input.upTo)) continue;
      if (!(await this.heldByStorm(run.id))) continue;
      const result = await this.deps.decideRun(run.id, input.verdict, input.who, input.comment);
      if (result.ok) decided.push(run.id);
      else refused.push({ runId: run.id, message: result.message });
    }
    const verb = input.verdict === 'approve' ? 'approved' : 'rejected';
    const text = `Storm ${storm.id}: ${decided.length} held run(s) ${verb} by ${input.who.id} via ${input.who.via}${input.comment ? `: ${input.comment}` : ''}${refused.length > 0 ? ` (${refused.length} not decided)` : ''}`;
    this.deps.logger.warn(text, { stormId: storm.id, by: input.who.id, via: input.who.via });
    // One notification for the storm's verdict: each run records its own decision, nobody is told forty times.
    if (decided.length > 0) {
      this.notify({
        kind: 'storm.decided',
        text,
        data: { ...this.details(storm), verdict: input.verdict, by: input.who.id, via: input.who.via, runs: decided },
      });
    }
    this.redraw(storm.id, true);
    return { storm, decided, refused };
  }

  /** True when the run's open request is the storm's hold (before a step that changes something), not an approval step. */
  private async heldByStorm(runId: string): Promise<boolean> {
    const detail = await this.deps.store.getRun(runId);
    const open = detail ? openRequest(detail) : null;
    if (detail === null || open === null) return false;
    return detail.steps.find((s) => s.phase === open.phase && s.index === open.stepIndex)?.kind !== 'approval';
  }

  /** Resolves when every notification and redraw started so far is done. */
  async idle(): Promise<void> {
    while (this.work.size > 0) await Promise.all([...this.work]);
  }

  private opened(storm: StormRecord): void {
    const rule = this.deps.rule;
    this.deps.metrics.storms.inc();
    this.deps.metrics.stormActive.set(1);
    const held = rule?.action === 'suppress' ? 'suppressed' : 'held for approval';
    const common = describeLabels(storm.commonLabels);
    const text =
      `Storm ${storm.id}: ${storm.alerts} alerts across ${storm.targets} targets within ${rule ? formatDuration(rule.withinMs) : '?'} ` +
      `(playbooks ${storm.playbooks.join(', ')}); shared labels: ${common}. Further live runs are ${held} until it has been quiet for ` +
      `${rule ? formatDuration(rule.cooldownMs) : '?'}: remediator storms show ${storm.id}`;
    this.deps.logger.error(text, { stormId: storm.id });
    this.notify({ kind: 'storm.opened', text, data: this.details(storm) });
    const messages = this.deps.messages;
    if (messages) {
      this.track(
        this.view(storm)
          .then((view) => messages.post(view))
          .then(async (ref) => {
            if (ref === null) return;
            await this.deps.store.setStormMessage(storm.id, ref);
            this.deps.onMessagePosted?.((await this.deps.store.stormRuns(storm.id)).map((r) => r.id));
          })
          .catch((err: unknown) => {
            this.deps.logger.warn(`posting the message of storm ${storm.id} failed: ${errorMessage(err)}`, { stormId: storm.id });
          }),
      );
    }
  }

  private over(storm: StormRecord): void {
    this.deps.metrics.stormActive.set(0);
    for (const [runId, stormId] of this.stormOfRun) if (stormId === storm.id) this.stormOfRun.delete(runId);
    const text = `Storm ${storm.id} ended: ${storm.alerts} alerts across ${storm.targets} targets, the last at ${storm.lastAlertAt}; live runs are decided as usual again`;
    this.deps.logger.warn(text, { stormId: storm.id });
    this.notify({ kind: 'storm.ended', text, data: { ...this.details(storm), endedAt: storm.endedAt } });
    this.redraw(storm.id, true);
  }

  /** Redraws the storm's message: at once (now), or no more often than redrawMs while it grows. */
  private redraw(id: string, now: boolean): void {
    const messages = this.deps.messages;
    if (!messages) return;
    const state = this.redraws.get(id);
    if (state !== undefined) {
      state.again = true;
      return;
    }
    const entry = { again: false, last: 0 };
    this.redraws.set(id, entry);
    const gap = this.deps.redrawMs ?? 5000;
    const run = async (): Promise<void> => {
      try {
        do {
          entry.again = false;
          if (!now) await new Promise((resolve) => setTimeout(resolve, Math.max(0, entry.last + gap - Date.now())).unref());
          const storm = await this.deps.store.getStorm(id);
          if (storm?.message) await messages.update(storm.message, await this.view(storm));
          entry.last = Date.now();
          now = false;
        } while (entry.again);
      } finally {
        // At once, in the turn the loop stops: a redraw asked for after this starts a new loop.
        this.redraws.delete(id);
      }
    };
    this.track(
      run().catch((err: unknown) => {
        this.deps.logger.warn(`updating the message of storm ${id} failed: ${errorMessage(err)}`, { stormId: id });
      }),
    );
  }

  private async view(storm: StormRecord): Promise<StormView> {
    const runs = await this.deps.store.stormRuns(storm.id);
    const held = runs.filter((r) => r.state === 'awaiting_approval');
    return {
      storm,
      held: held.length,
      runs: runs.length,
      url: this.url(storm.id),
      upTo: held.reduce((m, r) => (r.createdAt > m ? r.createdAt : m), '') || null,
    };
  }

  private url(id: string): string | null {
    return this.deps.publicUrl ? new URL(`/api/storms/${encodeURIComponent(id)}`, this.deps.publicUrl).toString() : null;
  }

  private details(storm: StormRecord): Record<string, unknown> {
    return {
      stormId: storm.id,
      openedAt: storm.openedAt,
      alerts: storm.alerts,
      targets: storm.targets,
      playbooks: storm.playbooks,
      commonLabels: storm.commonLabels,
      ...(storm.generatorUrl ? { generatorUrl: storm.generatorUrl } : {}),
      approve: `remediator storms approve ${storm.id}`,
      ...(this.url(storm.id) ? { url: this.url(storm.id) } : {}),
    };
  }

  private notify(n: Notification): void {
    for (const notifier of this.deps.notifiers) {
      this.track(
        deliver(notifier, n, this.deps).then(async (outcome) => {
          if (outcome !== null) await this.deps.store.appendEvents([outcome.event]).catch(() => undefined);
        }),
      );
    }
  }

  private track(p: Promise<void>): void {
    const tracked = p.finally(() => this.work.delete(tracked));
    this.work.add(tracked);
  }
}

/** Shared labels in one line, alertname first. */
export function describeLabels(labels: Readonly<Record<string, string>>): string {
  const entries = Object.entries(labels).sort(([a], [b]) => (a === 'alertname' ? -1 : b === 'alertname' ? 1 : a.localeCompare(b)));
  return entries.length === 0 ? '(none)' : entries.map(([k, v]) => `${k}="${v}"`).join(', ');
}
