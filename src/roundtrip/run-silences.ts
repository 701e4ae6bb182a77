import { errorMessage } from '../domain/errors.js';
import type { Playbook, PlaybookSilence, SilenceMatcherSpec } from '../domain/playbook.js';
import { isTerminal, type NewEvent, type Run, type RunDetail } from '../domain/run.js';
import type { AuditLog, RunStore, SilenceStore } from '../domain/store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { AlertmanagerClient, SilenceSpec } from './alertmanager-client.js';

/**
 * How long a silence lasts while its run acts, before the run's end sets its real end. Should the
 * daemon die mid-run and never come back, the silence still ends by itself after this.
 */
export const SILENCE_WHILE_RUN_MS = 60 * 60_000;

/** Events that close a run's silence: once one is recorded, nobody touches the silence again. */
const SILENCE_ENDS = new Set<string>(['silence.extended', 'silence.expired', 'silence.kept']);

/** What the silences of runs need; wired once in the pipeline. */
export interface RunSilenceDeps {
  /** null: no alertmanager in the configuration (a playbook's silence is then recorded as failed). */
  readonly client: Pick<AlertmanagerClient, 'createSilence' | 'expireSilence' | 'getSilence' | 'listAlerts'> | null;
  readonly store: Pick<RunStore, 'getRun' | 'recordResolved'> & SilenceStore & Pick<AuditLog, 'appendEvents'>;
  /**
   * How often the alerts of runs silenced by us are looked up, to see them resolve: Alertmanager
   * sends no resolved notification for a silenced alert (default 30 s).
   */
  readonly resolvePollMs?: number;
  readonly playbook: (name: string) => Playbook | undefined;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Where people read about a run (publicUrl's console), or null. */
  readonly runUrl: (runId: string) => string | null;
}

/**
 * The silence of a run (playbook `silence`): created in Alertmanager when the run starts acting
 * (its first step that changes something), and at the run's end kept `extend` longer (a success),
 * or expired at once (failed, cancelled, rejected, expired, interrupted) unless `keepOnFailure`.
 * A dry run records the silence it would create. Nothing here fails or delays a run beyond one
 * request's timeout: Alertmanager unreachable is recorded on the run (`silence.failed`) and counted.
 */
export class RunSilences {
  /** Runs whose silence this process created (or tried to): their changes are watched for the end. */
  private readonly acting = new Set<string>();
  private readonly work = new Set<Promise<void>>();
  /** Runs whose end is being looked at, and those told again meanwhile (a run ended twice over, by two paths). */
  private readonly ending = new Set<string>();
  private readonly again = new Set<string>();
  /** Alerts silenced by a run of ours, until the silence ends (ms since the epoch), by run id. */
  private readonly watched = new Map<string, { fingerprint: string; startsAt: string; alertname: string; until: number }>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly deps: RunSilenceDeps) {}

  /** Stops looking for resolves (shutdown). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Told before each step that changes something; creates the run's silence at the first. Never throws. */
  async started(run: Run, playbook: Playbook): Promise<void> {
    const spec = playbook.silence;
    if (!spec || this.acting.has(run.id)) return;
    this.acting.add(run.id);
    // Silenced already (resumed after an approval, here or on another replica): only its end is watched.
    if ((run.silenceId ?? null) !== null) return;
    const { client, store, metrics, logger, clock } = this.deps;
    const now = clock();
    const silence = this.silenceOf(run, spec, now, new Date(now.getTime() + SILENCE_WHILE_RUN_MS));
    const event = (kind: NewEvent['kind'], data: Record<string, unknown>): NewEvent => ({
      kind,
      runId: run.id,
      playbook: run.playbook,
      fingerprint: run.fingerprint,
      data,
    });
    try {
      if (run.dryRun) {
        await store.appendEvents([event('silence.planned', { matchers: silence.matchers, comment: silence.comment, extendMs: spec.extendMs })]);
        metrics.silences.inc({ outcome: 'planned' });
        return;
      }
      if (client === null) throw new Error('no alertmanager in the configuration: add alertmanager.url');
      const id = await client.createSilence(silence);
      await store.setRunSilence(run.id, id, [event('silence.created', { silenceId: id, matchers: silence.matchers, endsAt: silence.endsAt })]);
      metrics.silences.inc({ outcome: 'created' });
      this.watch(run, Number.POSITIVE_INFINITY);
      logger.info(`run ${run.id}: silence ${id} created in Alertmanager while the run acts`, { runId: run.id, silenceId: id });
    } catch (err) {
      await this.failed(run, 'create', err);
    }
  }

  /** Watches run changes (RunChanges.watch): the end of a run whose silence this process made. */
  readonly changed = (runId: string): void => {
    if (this.acting.has(runId)) this.later(runId);
  };

  /** Runs ended elsewhere (interrupted at a restart or by a lease sweep, cancelled): their silences end deliberately too. */
  ended(runIds: readonly string[]): void {
    for (const id of runIds) this.later(id);
  }

  /** Resolves when every silence end started so far is done. */
  async idle(): Promise<void> {
    while (this.work.size > 0) await Promise.all([...this.work]);
  }

  /** Ends a run's silence; one end at a time per run (a second is looked at once the first is done). */
  private later(runId: string): void {
    if (this.ending.has(runId)) {
      this.again.add(runId);
      return;
    }
    const p: Promise<void> = this.end(runId)
      .catch((err: unknown) => {
        this.deps.logger.warn(`run ${runId}: ending its silence failed: ${errorMessage(err)}`, { runId });
      })
      .finally(() => {
        this.ending.delete(runId);
        this.work.delete(p);
        if (this.again.delete(runId)) this.later(runId);
      });
    this.ending.add(runId);
    this.work.add(p);
  }

  /** A run that is over: its silence extended, expired or kept, once (an end recorded already is left alone). */
  private async end(runId: string): Promise<void> {
    const { store, client, metrics, clock, logger } = this.deps;
    const run = await store.getRun(runId);
    if (!run || !isTerminal(run.state)) return;
    this.acting.delete(runId);
    const silenceId = run.silenceId ?? null;
    // Tried once at the end, whatever came of it: a failure is not retried by the next path that tells the end.
    const tried = (e: { kind: string; data: Record<string, unknown> }) =>
      SILENCE_ENDS.has(e.kind) || (e.kind === 'silence.failed' && e.data['action'] !== 'create');
    if (silenceId === null || run.events.some(tried)) return;
    const spec = this.deps.playbook(run.playbook)?.silence ?? { extendMs: 0, keepOnFailure: false, matchers: null };
    const event = (kind: NewEvent['kind'], data: Record<string, unknown>): NewEvent => ({
      kind,
      runId: run.id,
      playbook: run.playbook,
      fingerprint: run.fingerprint,
      data: { silenceId, state: run.state, ...data },
    });
    try {
      if (client === null) throw new Error('no alertmanager in the configuration: add alertmanager.url');
      if (run.state === 'succeeded') {
        const endsAt = new Date(clock().getTime() + spec.extendMs);
        const id = await this.extend(run, silenceId, spec, endsAt);
        await store.setRunSilence(run.id, id, [event('silence.extended', { endsAt: endsAt.toISOString(), ...(id !== silenceId ? { newSilenceId: id } : {}) })]);
        metrics.silences.inc({ outcome: 'extended' });
        this.watch(run, endsAt.getTime());
        logger.info(`run ${run.id} succeeded: silence ${id} ends at ${endsAt.toISOString()}`, { runId: run.id, silenceId: id });
      } else if (spec.keepOnFailure) {
        this.watch(run, Date.parse(silenceEnd(run) ?? '') || clock().getTime() + SILENCE_WHILE_RUN_MS);
        await store.appendEvents([event('silence.kept', { reason: 'keepOnFailure' })]);
        metrics.silences.inc({ outcome: 'kept' });
      } else {
        this.watched.delete(run.id);
        await client.expireSilence(silenceId);
        await store.appendEvents([event('silence.expired', { reason: `the run ended ${run.state}: the alert pages people again` })]);
        metrics.silences.inc({ outcome: 'expired' });
        logger.info(`run ${run.id} ${run.state}: silence ${silenceId} expired`, { runId: run.id, silenceId });
      }
    } catch (err) {
      await this.failed(run, run.state === 'succeeded' ? 'extend' : 'expire', err);
    }
  }

  /** Looks for the run's alert resolving while the silence lasts (until: ms since the epoch). */
  private watch(run: Run, until: number): void {
    this.watched.set(run.id, { fingerprint: run.fingerprint, startsAt: run.startsAt, alertname: run.alertname, until });
    if (this.timer === null && !this.stopped) this.schedule();
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      const p: Promise<void> = this.poll()
        .catch((err: unknown) => {
          this.deps.logger.warn(`looking for resolves of silenced alerts failed: ${errorMessage(err)}`);
        })
        .finally(() => {
          this.work.delete(p);
          if (this.watched.size > 0 && this.timer === null && !this.stopped) this.schedule();
        });
      this.work.add(p);
    }, this.deps.resolvePollMs ?? 30_000);
    this.timer.unref();
  }

  /**
   * One look at Alertmanager's alerts for every watched run: an alert no longer listed as active
   * has resolved (Alertmanager lists only alerts whose end is still ahead), and is recorded as a
   * resolve from a webhook would be, so `verify: { resolved: true }` and report's time to resolve
   * keep working while the silence swallows the resolved notification.
   */
  private async poll(): Promise<void> {
    const { client, store, clock, logger } = this.deps;
    if (client === null) return;
    const now = clock();
    for (const [runId, w] of this.watched) if (w.until <= now.getTime()) this.watched.delete(runId);
    const names = [...new Set([...this.watched.values()].map((w) => w.alertname))];
    for (const alertname of names) {
      const active = new Set((await client.listAlerts([`alertname=${JSON.stringify(alertname)}`])).map((a) => a.fingerprint));
      for (const [runId, w] of this.watched) {
        if (w.alertname !== alertname || active.has(w.fingerprint)) continue;
        this.watched.delete(runId);
        const at = clock().toISOString();
        const ids = await store.recordResolved(w.fingerprint, w.startsAt, at, at);
        if (ids.length > 0) logger.info(`alert ${w.fingerprint} resolved while silenced (seen by polling Alertmanager)`, { runIds: ids });
      }
    }
  }

  /** Sets a silence's end, keeping its id when Alertmanager can update it in place (same start and matchers). */
  private async extend(run: RunDetail, id: string, spec: PlaybookSilence, endsAt: Date): Promise<string> {
    const client = this.deps.client as NonNullable<RunSilenceDeps['client']>;
    const current = await client.getSilence(id);
    if (current !== null && current.status.state !== 'expired') {
      return client.createSilence({ ...this.silenceOf(run, spec, new Date(current.startsAt), endsAt), id, matchers: current.matchers });
    }
    return client.createSilence(this.silenceOf(run, spec, this.deps.clock(), endsAt));
  }

  private async failed(run: Run, action: 'create' | 'extend' | 'expire', err: unknown): Promise<void> {
    const error = errorMessage(err);
    this.deps.metrics.silences.inc({ outcome: 'failed' });
    this.deps.logger.warn(
      `run ${run.id}: the silence could not be ${action === 'create' ? 'created' : action === 'extend' ? 'extended' : 'expired'}: ${error}`,
      {
        runId: run.id,
      },
    );
    try {
      await this.deps.store.appendEvents([
        {
          kind: 'silence.failed',
          runId: run.id,
          playbook: run.playbook,
          fingerprint: run.fingerprint,
          data: { action, error, silenceId: run.silenceId ?? null },
        },
      ]);
    } catch (again) {
      this.deps.logger.warn(`run ${run.id}: recording the silence failure failed too: ${errorMessage(again)}`, { runId: run.id });
    }
  }

  private silenceOf(run: Run, spec: PlaybookSilence, startsAt: Date, endsAt: Date): SilenceSpec {
    const url = this.deps.runUrl(run.id);
    return {
      matchers: spec.matchers ?? labelMatchers(run.labels),
      startsAt: startsAt.toISOString(),
      endsAt: endsAt.toISOString(),
      createdBy: 'remediator',
      comment: `remediator run ${run.id} of playbook ${run.playbook} is acting on ${run.alertname}${url === null ? '' : `: ${url}`}`,
    };
  }
}

/** When the run's silence was last set to end, from its events. */
function silenceEnd(run: RunDetail): string | null {
  const set = run.events.filter((e) => e.kind === 'silence.created' || e.kind === 'silence.extended');
  const last = set[set.length - 1];
  return typeof last?.data['endsAt'] === 'string' ? last.data['endsAt'] : null;
}

/** One equality matcher per label: the silence covers exactly this alert. */
export function labelMatchers(labels: Readonly<Record<string, string>>): SilenceMatcherSpec[] {
  return Object.keys(labels)
    .sort()
    .map((name) => ({ name, value: labels[name] as string, isRegex: false, isEqual: true }));
}
