import { errorMessage } from '../domain/errors.js';
import { isTerminal, type AuditEvent, type NewEvent, type Run, type RunDetail } from '../domain/run.js';
import type { AuditLog, RunStore } from '../domain/store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { GrafanaError, type AnnotationSpec, type GrafanaClient } from './grafana-client.js';

/** The configuration's grafana block, its client made. */
export interface GrafanaSettings {
  /** null: no grafana in the configuration (then nothing is annotated). */
  readonly client: Pick<GrafanaClient, 'createAnnotation' | 'patchAnnotation'> | null;
  /** The dashboard the annotations belong to; absent: organization annotations (shown through tags). */
  readonly dashboardUID?: string | undefined;
  /** Annotate dry runs too. */
  readonly dryRuns: boolean;
  /** Label names whose values become `name=value` tags. */
  readonly labelTags: readonly string[];
}

/** What the annotations of runs need; wired once in the pipeline. */
export interface RunAnnotationDeps extends GrafanaSettings {
  readonly store: Pick<RunStore, 'getRun'> & Pick<AuditLog, 'appendEvents'>;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Where people read about a run (publicUrl's console), or null. */
  readonly runUrl: (runId: string) => string | null;
}

/**
 * A run on Grafana's dashboards (configuration `grafana`): one annotation region from the run's
 * first step that changes something (when its silence is made too) to its end. It is created
 * open at the first acting step; its id is recorded on the run (`annotation.created`), so whoever
 * ends the run (this process, another replica, this one after a restart) closes the region with
 * the outcome as a tag, once (`annotation.updated`). Nothing here fails or delays a run beyond
 * one request's timeout: a failure is recorded on the run (`annotation.failed`), counted and logged.
 * A create that failed for a reason worth retrying (Grafana down, a timeout) is tried once more at
 * the run's end, as the whole region.
 */
export class RunAnnotations {
  /** Runs this process saw acting: their changes are watched for the end. */
  private readonly acting = new Set<string>();
  private readonly work = new Set<Promise<void>>();
  /** Runs whose end is being looked at, and those told again meanwhile (a run ended twice over, by two paths). */
  private readonly ending = new Set<string>();
  private readonly again = new Set<string>();
  /** Creates under way, by run id: a run cancelled meanwhile is closed once its region exists. */
  private readonly creating = new Map<string, Promise<void>>();

  constructor(private readonly deps: RunAnnotationDeps) {}

  /** Told before each step that changes something; creates the run's annotation at the first. Never throws. */
  async started(run: Run): Promise<void> {
    if (this.deps.client === null || (run.dryRun && !this.deps.dryRuns) || this.acting.has(run.id)) return;
    this.acting.add(run.id);
    const p = this.create(run).finally(() => this.creating.delete(run.id));
    this.creating.set(run.id, p);
    await p;
  }

  private async create(run: Run): Promise<void> {
    const { client, store, metrics, logger, clock } = this.deps;
    if (client === null) return;
    const time = clock().getTime();
    try {
      // Resumed after an approval, a restart or on another replica: the region is open already.
      const detail = await store.getRun(run.id);
      if (detail === null || detail.events.some((e) => e.kind === 'annotation.created' || e.kind === 'annotation.failed')) return;
      const annotation = this.annotationOf(run, time, null);
      const id = await client.createAnnotation(annotation);
      await store.appendEvents([eventOf(run, 'annotation.created', { annotationId: id, time, tags: annotation.tags })]);
      metrics.annotations.inc({ outcome: 'created' });
      logger.info(`run ${run.id}: Grafana annotation ${id} created while the run acts`, { runId: run.id, annotationId: id });
    } catch (err) {
      await this.failed(run, 'create', err, { time });
    }
  }

  /** Watches run changes (RunChanges.watch): the end of a run this process saw acting. */
  readonly changed = (runId: string): void => {
    if (this.acting.has(runId)) this.later(runId);
  };

  /** Runs ended elsewhere (interrupted at a restart or by a lease sweep, cancelled): their regions close too. */
  ended(runIds: readonly string[]): void {
    for (const id of runIds) this.later(id);
  }

  /** Resolves when every annotation request started so far is done. */
  async idle(): Promise<void> {
    while (this.work.size > 0) await Promise.all([...this.work]);
  }

  /** Closes a run's region; one close at a time per run (a second is looked at once the first is done). */
  private later(runId: string): void {
    if (this.ending.has(runId)) {
      this.again.add(runId);
      return;
    }
    const p: Promise<void> = this.end(runId)
      .catch((err: unknown) => {
        this.deps.logger.warn(`run ${runId}: closing its Grafana annotation failed: ${errorMessage(err)}`, { runId });
      })
      .finally(() => {
        this.ending.delete(runId);
        this.work.delete(p);
        if (this.again.delete(runId)) this.later(runId);
      });
    this.ending.add(runId);
    this.work.add(p);
  }

  /** A run that is over: its region gets its end and outcome, once. */
  private async end(runId: string): Promise<void> {
    const { client, store, metrics, logger, clock } = this.deps;
    if (client === null) return;
    await this.creating.get(runId);
    const run = await store.getRun(runId);
    if (!run || !isTerminal(run.state)) return;
    this.acting.delete(runId);
    // Closed, or tried once at the end: a failure is not retried by the next path that tells the end.
    if (run.events.some((e) => e.kind === 'annotation.updated' || (e.kind === 'annotation.failed' && e.data['atEnd'] === true))) return;
    const created = run.events.find((e) => e.kind === 'annotation.created');
    const retry = created ? undefined : retryableCreate(run.events);
    if (!created && !retry) return;
    const time = Number((created ?? retry)?.data['time']);
    const timeEnd = Math.max(time, Date.parse(run.finishedAt ?? '') || clock().getTime());
    const annotation = this.annotationOf(run, time, timeEnd);
    try {
      if (created) {
        const id = Number(created.data['annotationId']);
        await client.patchAnnotation(id, { time, timeEnd, tags: annotation.tags, text: annotation.text });
        await store.appendEvents([eventOf(run, 'annotation.updated', { annotationId: id, timeEnd, outcome: run.state })]);
        logger.info(`run ${run.id} ${run.state}: Grafana annotation ${id} closed`, { runId: run.id, annotationId: id });
      } else {
        const id = await client.createAnnotation(annotation);
        await store.appendEvents([eventOf(run, 'annotation.updated', { annotationId: id, time, timeEnd, outcome: run.state, created: true })]);
        logger.info(`run ${run.id} ${run.state}: Grafana annotation ${id} created at the end, the first try having failed`, {
          runId: run.id,
          annotationId: id,
        });
      }
      metrics.annotations.inc({ outcome: 'updated' });
    } catch (err) {
      await this.failed(run, created ? 'update' : 'create', err, { time, timeEnd, atEnd: true });
    }
  }

  private async failed(run: Run, action: 'create' | 'update', err: unknown, data: Record<string, unknown>): Promise<void> {
    const error = errorMessage(err);
    const status = err instanceof GrafanaError ? err.status : null;
    const retryable = err instanceof GrafanaError ? err.retryable : true;
    this.deps.metrics.annotations.inc({ outcome: 'failed' });
    this.deps.logger.warn(`run ${run.id}: the Grafana annotation could not be ${action === 'create' ? 'created' : 'updated'}: ${error}`, {
      runId: run.id,
      status,
    });
    try {
      await this.deps.store.appendEvents([eventOf(run, 'annotation.failed', { action, status, retryable, error, ...data })]);
    } catch (again) {
      this.deps.logger.warn(`run ${run.id}: recording the annotation failure failed too: ${errorMessage(again)}`, { runId: run.id });
    }
  }

  /** The annotation of a run: open (timeEnd null) while it acts, then with its end and outcome. */
  private annotationOf(run: Run, time: number, timeEnd: number | null): AnnotationSpec {
    const url = this.deps.runUrl(run.id);
    const labels = this.deps.labelTags.filter((name) => run.labels[name] !== undefined).map((name) => `${name}=${run.labels[name]}`);
    const tags = ['remediator', run.playbook, ...(run.dryRun ? ['dry-run'] : []), ...labels, ...(timeEnd === null ? [] : [run.state])];
    const what = `${run.dryRun ? '[dry run] ' : ''}remediator run ${run.id} of playbook ${run.playbook} on ${run.alertname} (${run.targetKey})`;
    const how = timeEnd === null ? 'acting' : `${run.state}${run.reason ? `: ${run.reason}` : ''}`;
    return {
      ...(this.deps.dashboardUID !== undefined ? { dashboardUID: this.deps.dashboardUID } : {}),
      time,
      ...(timeEnd === null ? {} : { timeEnd }),
      tags,
      text: `${what} ${how}${url === null ? '' : `\n${url}`}`,
    };
  }
}

/** The create that failed for a reason worth another try (never a refusal: that would be refused again), if any. */
function retryableCreate(events: readonly AuditEvent[]): AuditEvent | undefined {
  const failedCreates = events.filter((e) => e.kind === 'annotation.failed' && e.data['action'] === 'create');
  const first = failedCreates[0];
  return failedCreates.length === 1 && first?.data['retryable'] === true && Number.isFinite(Number(first.data['time'])) ? first : undefined;
}

function eventOf(run: Run | RunDetail, kind: NewEvent['kind'], data: Record<string, unknown>): NewEvent {
  return { kind, runId: run.id, playbook: run.playbook, fingerprint: run.fingerprint, data };
}
