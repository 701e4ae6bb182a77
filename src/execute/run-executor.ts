import type { Approval } from '../domain/approval.js';
import { formatDuration } from '../domain/duration.js';
import { errorMessage } from '../domain/errors.js';
import type { Notification, Notifier } from '../domain/notifier.js';
import type { Playbook, Step } from '../domain/playbook.js';
import type { NewEvent, RenderedStep, Run, RunState } from '../domain/run.js';
import type { Lease, Store } from '../domain/store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { deliver } from '../notify/deliver.js';
import { coversPlaybookGate, freshProgress, gateKey, gateOf, resumePoint, type Progress } from './approval-gate.js';
import type { RunExecutor } from './executor.js';
import { describeRendered, renderStep } from './render-step.js';
import { backoffDelay, sleep } from './retry.js';
import { runtimeResolver } from './runtime-resolver.js';
import { SecretStore } from './secrets.js';
import { shouldRun, type StepStatus } from './step-condition.js';
import { runStepBody, type StepSettings } from './step-body.js';
import type { StepOutcome, StepVars } from './steps/step-outcome.js';

/** What the executor needs. */
export interface ExecutorDeps {
  readonly store: Store;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: () => Date;
  readonly notifiers: readonly Notifier[];
  readonly secrets: SecretStore;
  readonly settings: StepSettings & { readonly maxConcurrent: number; readonly secretsDir: string | null };
  /** Told after every change of a run's state (Slack keeps one message per run up to date). */
  readonly onRunChanged?: (runId: string) => void;
  /** Told when a run is held, so the expiry timer can be set for it. */
  readonly onHold?: (approval: Approval) => void;
  /** The lease a run this executor starts is taken with (renewed by the LeaseKeeper while it runs). */
  readonly lease?: () => Lease;
  /**
   * Why a live run may not act now, or null: the daemon runs with `execution: dry-run` (it may
   * have been restarted so since the run was decided or approved).
   */
  readonly liveRefused?: () => string | null;
}

type Phase = 'main' | 'onFailure';

/** Why a run stopped early. */
type StopReason = { to: 'cancelled' | 'interrupted'; reason: string };

/**
 * Carries runs through their steps. Every step start and end is stored, with the command as it
 * really ran (secrets redacted), before the next thing happens. A dry run executes only what is
 * safe: read-only steps and `dryRun` variants (e.g. --dry-run=server), and notifications marked
 * as a dry run; everything else is planned and logged. At most `maxConcurrent` runs execute at
 * once; the rest wait in order.
 */
export class StepExecutor implements RunExecutor {
  private readonly queue: { run: Run; playbook: Playbook; resume: boolean; done: () => void }[] = [];
  private readonly active = new Map<string, { controller: AbortController; stop?: StopReason }>();
  private accepting = true;
  private readonly telling = new Set<Promise<void>>();

  constructor(private readonly deps: ExecutorDeps) {}

  /** Queues a run; resolves when it has finished, is held for approval, or was never started. */
  execute(run: Run, playbook: Playbook): Promise<void> {
    return this.enqueue(run, playbook, false);
  }

  /**
   * Queues a run that a person approved (the store moved it back to `running`): it goes on at the
   * gate it was held at. Resolves like execute.
   */
  resume(run: Run, playbook: Playbook): Promise<void> {
    return this.enqueue(run, playbook, true);
  }

  private enqueue(run: Run, playbook: Playbook, resume: boolean): Promise<void> {
    // After shutdown began, a pending run stays pending in the store and is resumed at the next
    // start; an approved one stays running and is interrupted then (it is never run twice).
    if (!this.accepting) return Promise.resolve();
    return new Promise((resolve) => {
      this.queue.push({ run, playbook, resume, done: resolve });
      this.pump();
    });
  }

  /**
   * Stops a run this executor has: one executing has its current step cancelled and ends
   * `cancelled`; one waiting for a slot (an approved run, say) is taken out of the queue and
   * cancelled at once. False when this executor does not have it.
   */
  async cancel(runId: string, reason: string): Promise<boolean> {
    const entry = this.active.get(runId);
    if (entry) {
      entry.stop ??= { to: 'cancelled', reason };
      entry.controller.abort(new Error(reason));
      return true;
    }
    const queued = this.queue.findIndex((item) => item.run.id === runId);
    if (queued < 0) return false;
    const [item] = this.queue.splice(queued, 1);
    const from = item?.resume ? 'running' : 'pending';
    const moved = await this.deps.store.transitionRun(runId, {
      from: [from],
      to: 'cancelled',
      reason,
      at: this.now(),
      events: [{ kind: 'run.state', data: { from, to: 'cancelled', reason } }],
    });
    item?.done();
    if (moved) {
      this.deps.metrics.runs.inc({ playbook: item?.run.playbook ?? '', outcome: 'cancelled', mode: item?.run.dryRun ? 'dry-run' : 'live' });
      this.changed(runId);
    }
    return moved;
  }

  /** Runs executing now. */
  get activeCount(): number {
    return this.active.size;
  }

  /**
   * Shutdown: starts nothing new (queued runs stay `pending` in the store and are picked up at
   * the next start), lets running steps finish within the grace period, then kills them and marks
   * their runs interrupted.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.accepting = false;
    for (const item of this.queue.splice(0)) item.done();
    const deadline = Date.now() + graceMs;
    while (this.active.size > 0 && Date.now() < deadline) await sleep(50);
    for (const [id, entry] of this.active) {
      entry.stop ??= { to: 'interrupted', reason: 'the daemon shut down while the run was running' };
      entry.controller.abort(new Error('shutdown'));
      this.deps.logger.warn(`run ${id} interrupted by shutdown`, { runId: id });
    }
    while (this.active.size > 0) await sleep(20);
    await Promise.all([...this.telling]);
  }

  private pump(): void {
    while (this.accepting && this.active.size < this.deps.settings.maxConcurrent) {
      // A run approved the moment it was held may be queued again before its held turn has quite
      // ended: it waits for that turn, so one run never has two.
      const next = this.queue.findIndex((item) => !this.active.has(item.run.id));
      if (next < 0) break;
      const [item] = this.queue.splice(next, 1);
      if (!item) break;
      const entry = { controller: new AbortController() } as { controller: AbortController; stop?: StopReason };
      this.active.set(item.run.id, entry);
      this.perform(item.run, item.playbook, item.resume, entry.controller.signal)
        .catch((err: unknown) => this.abandon(item.run, err))
        .finally(() => {
          if (this.active.get(item.run.id) === entry) this.active.delete(item.run.id);
          item.done();
          this.pump();
        });
    }
  }

  /**
   * Notifications that must not hold a run's slot (a hold's announcement: the run is waiting, and
   * a slow webhook must not keep other runs from executing); shutdown waits for them.
   */
  private tellLater(run: Run, n: Notification): void {
    const p: Promise<void> = this.sendAll(run, n)
      .then(
        () => undefined,
        (err: unknown) => {
          this.deps.logger.warn(`notifying about run ${run.id} failed: ${errorMessage(err)}`, { runId: run.id });
        },
      )
      .finally(() => this.telling.delete(p));
    this.telling.add(p);
  }

  private now(): string {
    return this.deps.clock().toISOString();
  }

  private changed(runId: string): void {
    this.deps.onRunChanged?.(runId);
  }

  private async perform(run: Run, playbook: Playbook, resume: boolean, signal: AbortSignal): Promise<void> {
    const progress = resume ? await this.resumed(run, playbook) : await this.started(run, playbook);
    if (progress === null) return;
    const log = this.deps.logger.child({ runId: run.id, playbook: run.playbook, fingerprint: run.fingerprint });
    this.changed(run.id);

    if (progress.phase === 'main') {
      for (let index = progress.index; index < playbook.steps.length; index++) {
        const step = playbook.steps[index] as Step;
        if (signal.aborted) break;
        // A dry run walks on after a failure, so the whole plan is shown; the run still ends failed.
        const status = await this.step(run, playbook, step, 'main', index, progress, progress.failure !== null && !run.dryRun, signal, log);
        if (status === 'held') return;
        if (status === 'failed' && !step.continueOnError && progress.failure === null) progress.failure = step.name;
      }
    }
    const stop = this.active.get(run.id)?.stop;
    if (stop) {
      await this.finish(run, stop.to, stop.reason, log);
      return;
    }
    if (progress.failure !== null) {
      for (let index = progress.phase === 'onFailure' ? progress.index : 0; index < playbook.onFailure.length; index++) {
        if (signal.aborted) break;
        const status = await this.step(run, playbook, playbook.onFailure[index] as Step, 'onFailure', index, progress, false, signal, log);
        if (status === 'held') return;
      }
      const stopped = this.active.get(run.id)?.stop;
      if (stopped) {
        await this.finish(run, stopped.to, stopped.reason, log);
        return;
      }
      await this.finish(run, 'failed', await this.failureReason(run, progress.failure), log);
      return;
    }
    await this.finish(run, 'succeeded', run.dryRun ? 'dry run: read-only and dry-run steps executed, the rest planned' : 'every step succeeded', log);
  }

  /** pending → running; null when the run was no longer pending (cancelled meanwhile). */
  private async started(run: Run, playbook: Playbook): Promise<Progress | null> {
    const log = this.deps.logger.child({ runId: run.id, playbook: run.playbook, fingerprint: run.fingerprint });
    const started = await this.deps.store.transitionRun(run.id, {
      from: ['pending'],
      to: 'running',
      at: this.now(),
      durable: !run.dryRun,
      ...(this.deps.lease ? { lease: this.deps.lease() } : {}),
      events: [{ kind: 'run.state', data: { from: 'pending', to: 'running', dryRun: run.dryRun } }],
    });
    if (!started) {
      log.info(`run ${run.id} is no longer pending (cancelled meanwhile?): not started`);
      return null;
    }
    const refused = run.dryRun ? null : (this.deps.liveRefused?.() ?? null);
    if (refused !== null) {
      await this.finish(run, 'cancelled', `${refused}: a live run decided before does not act`, log);
      return null;
    }
    log.info(`${run.dryRun ? 'dry run' : 'run'} of ${run.playbook} for ${run.alertname} started: ${playbook.steps.length} step(s)`, {
      dryRun: run.dryRun,
      params: run.params,
    });
    return freshProgress();
  }

  /** An approved run, read back from the store: where it goes on, or null when it should not. */
  private async resumed(run: Run, playbook: Playbook): Promise<Progress | null> {
    const log = this.deps.logger.child({ runId: run.id, playbook: run.playbook, fingerprint: run.fingerprint });
    const detail = await this.deps.store.getRun(run.id);
    const progress = detail?.state === 'running' ? resumePoint(detail, playbook) : null;
    if (!detail || !progress) {
      log.warn(`run ${run.id} is not an approved running run (${detail?.state ?? 'missing'}): not resumed`);
      return null;
    }
    // What happened while the run waited for its slot: the alert resolved, or the daemon was
    // restarted with execution dry-run. Neither lets an approval act.
    const refused = detail.resolvedAt !== null ? `the alert resolved at ${detail.resolvedAt}, after the approval` : (this.deps.liveRefused?.() ?? null);
    if (refused !== null) {
      await this.finish(run, 'cancelled', `${refused}: not run`, log);
      return null;
    }
    log.info(`run ${run.id} approved: going on at ${progress.phase === 'main' ? 'step' : 'onFailure step'} ${progress.index + 1}`);
    return progress;
  }

  /**
   * A run that stopped on an unexpected error (most likely the store) must not stay `running`,
   * holding its key and lock until the next restart: fail it, trying the write a few times.
   */
  private async abandon(run: Run, err: unknown): Promise<void> {
    const reason = `stopped on an error: ${this.deps.secrets.redact(errorMessage(err))}`;
    this.deps.logger.error(`run ${run.id} ${reason}`, { runId: run.id });
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const moved = await this.deps.store.transitionRun(run.id, {
          from: ['pending', 'running'],
          to: 'failed',
          reason,
          at: this.now(),
          events: [{ kind: 'run.state', data: { to: 'failed', reason } }],
        });
        if (moved) {
          this.deps.metrics.runs.inc({ playbook: run.playbook, outcome: 'failed', mode: run.dryRun ? 'dry-run' : 'live' });
          this.changed(run.id);
        }
        return;
      } catch (again) {
        this.deps.logger.error(`run ${run.id}: recording the failure failed (${errorMessage(again)}), attempt ${attempt}/3`);
        await sleep(1000 * attempt);
      }
    }
  }

  /** "step NAME: why", from the stored step that failed the run. */
  private async failureReason(run: Run, stepName: string): Promise<string> {
    const detail = await this.deps.store.getRun(run.id);
    const failed = detail?.steps.find((s) => s.name === stepName && s.phase === 'main');
    return `step ${stepName}: ${failed?.error ?? 'failed'}`;
  }

  /** Runs (or plans, or skips, or holds before) one step and records it; returns how it ended. */
  private async step(
    run: Run,
    playbook: Playbook,
    step: Step,
    phase: Phase,
    index: number,
    progress: Progress,
    runFailing: boolean,
    signal: AbortSignal,
    log: Logger,
  ): Promise<StepStatus | 'held'> {
    const { store, secrets, metrics } = this.deps;
    const outcomes = progress.outcomes;
    const record = (status: StepStatus, vars: StepVars = {}) => {
      outcomes.set(step.name, { status, vars });
      return status;
    };
    const label = `${phase === 'main' ? 'step' : 'onFailure step'} ${index + 1} ${step.name}`;
    const statuses = new Map([...outcomes].map(([k, v]) => [k, v.status]));
    if (!shouldRun(step.when, statuses, runFailing)) {
      await store.transitionRun(run.id, {
        from: ['running'],
        to: 'running',
        at: this.now(),
        steps: [{ phase, index, state: 'skipped' }],
        events: [{ kind: 'step.finished', data: { step: step.name, phase, state: 'skipped', when: step.when ?? 'until the run fails' } }],
      });
      log.info(`${label} skipped (${step.when === null ? 'the run has failed' : `when: ${step.when}`})`);
      return record('skipped');
    }
    const gate = gateOf(step, run, progress, phase, index);
    if (gate === 'hold') return this.hold(run, playbook, step, phase, index, progress, log, label);
    if (gate === 'granted') {
      const a = progress.granted.get(gateKey(phase, index)) as Approval;
      if (coversPlaybookGate(a, playbook)) progress.approvedOnce = true;
      const output = `approved by ${a.decidedBy ?? '?'} via ${a.decidedVia ?? '?'} at ${a.decidedAt ?? '?'}${a.comment ? `: ${a.comment}` : ''}`;
      const at = this.now();
      await store.transitionRun(run.id, {
        from: ['running'],
        to: 'running',
        at,
        steps: [{ phase, index, state: 'succeeded', startedAt: a.requestedAt, finishedAt: at, output }],
        events: [{ kind: 'step.finished', data: { step: step.name, phase, state: 'succeeded', approvedBy: a.decidedBy, via: a.decidedVia } }],
      });
      log.info(`${label} ${output}`);
      return record('succeeded');
    }

    let rendered: RenderedStep;
    const mode = run.dryRun ? 'dry-run' : 'live';
    try {
      rendered = renderStep(step, runtimeResolver({ run, mode, steps: outcomes, secret: (n) => secrets.get(n), dryRun: run.dryRun })).rendered;
    } catch (err) {
      const missingSecret = /\{\{ secrets\.([A-Za-z0-9_-]+) \}\}/.exec(errorMessage(err));
      const error = missingSecret?.[1] ? SecretStore.howToSet(missingSecret[1], this.deps.settings.secretsDir) : errorMessage(err);
      return record(await this.recordEnd(run, step, phase, index, { ok: false, exitCode: null, output: '', error, vars: {} }, 0, 0, log, label));
    }
    const shown = secrets.redactDeep(rendered);
    const execution = executionOf(step, rendered, run.dryRun);
    if (execution === 'plan') {
      log.info(`dry-run ${label}: ${describeRendered(shown, true)}`, { step: step.name, kind: step.kind, rendered: shown });
      return record('planned');
    }

    const startedAt = Date.now();
    const mine = await store.transitionRun(run.id, {
      from: ['running'],
      to: 'running',
      at: this.now(),
      durable: !run.dryRun && !step.readOnly,
      steps: [{ phase, index, state: 'running', startedAt: this.now(), rendered: shown }],
      events: [{ kind: 'step.started', data: { step: step.name, phase, kind: step.kind, command: describeRendered(shown, run.dryRun), dryRun: run.dryRun } }],
    });
    if (!mine) {
      // Someone else ended the run meanwhile: act on nothing.
      log.warn(`${label} not started: the run is no longer running`);
      return record('skipped');
    }
    log.info(`${run.dryRun ? 'dry-run ' : ''}${label} started: ${describeRendered(shown, run.dryRun)}`, { step: step.name, kind: step.kind });

    const attempts = step.retry?.attempts ?? 1;
    let outcome: StepOutcome = { ok: false, exitCode: null, output: '', error: 'not run', vars: {} };
    let attempt = 0;
    while (attempt < attempts) {
      attempt++;
      outcome = await this.body(run, step, rendered, signal);
      if (outcome.ok || signal.aborted || attempt >= attempts || !step.retry) break;
      const delayMs = backoffDelay(step.retry, attempt);
      await store.appendEvents([
        {
          kind: 'step.retry',
          runId: run.id,
          playbook: run.playbook,
          fingerprint: run.fingerprint,
          data: { step: step.name, attempt, error: secrets.redact(outcome.error ?? ''), delayMs },
        },
      ]);
      log.warn(`${label} attempt ${attempt}/${attempts} failed (${secrets.redact(outcome.error ?? '')}); retrying in ${delayMs} ms`);
      try {
        await sleep(delayMs, signal);
      } catch {
        break;
      }
    }
    const durationMs = Date.now() - startedAt;
    metrics.stepDuration.observe({ kind: step.kind, outcome: outcome.ok ? 'succeeded' : 'failed' }, durationMs / 1000);
    return record(await this.recordEnd(run, step, phase, index, outcome, durationMs, attempt, log, label), outcome.vars);
  }

  /**
   * Holds the run before a gate: the request (who may decide, until when, the approval step's
   * message rendered with what earlier steps found) is stored with the state change, then people
   * are told. The run leaves its executing slot; an approval queues it again through resume().
   */
  private async hold(
    run: Run,
    playbook: Playbook,
    step: Step,
    phase: Phase,
    index: number,
    progress: Progress,
    log: Logger,
    label: string,
  ): Promise<'held' | StepStatus> {
    const { store, secrets } = this.deps;
    const own = step.kind === 'approval' ? step : null;
    const timeoutMs = own?.approvalTimeoutMs ?? playbook.approval.timeoutMs;
    const approvers = own?.approvers ?? playbook.approval.approvers;
    let message: string | null = null;
    let shown: RenderedStep | null = null;
    try {
      const rendered = renderStep(
        step,
        runtimeResolver({ run, mode: 'live', steps: progress.outcomes, secret: (n) => secrets.get(n), dryRun: false }),
      ).rendered;
      shown = secrets.redactDeep(rendered);
      message = shown.kind === 'approval' ? shown.message : `next: ${describeRendered(shown, false)} (${run.reason})`;
    } catch (err) {
      message = `next: step ${step.name} (${secrets.redact(errorMessage(err))})`;
    }
    const at = this.deps.clock();
    const approval = await store.holdForApproval(run.id, {
      at: at.toISOString(),
      expiresAt: new Date(at.getTime() + timeoutMs).toISOString(),
      phase,
      stepIndex: index,
      stepName: step.name,
      approvers,
      message,
      ...(shown && step.kind === 'approval' ? { steps: [{ phase, index, state: 'pending' as const, rendered: shown }] } : {}),
    });
    if (approval === null) {
      log.warn(`${label} not held: the run is no longer running`);
      return 'skipped';
    }
    this.deps.metrics.approvals.inc({ playbook: run.playbook, outcome: 'requested' });
    log.info(`${label}: run ${run.id} awaits approval until ${approval.expiresAt}${approvers.length > 0 ? ` by ${approvers.join(', ')}` : ''}`, {
      step: step.name,
    });
    this.deps.onHold?.(approval);
    this.changed(run.id);
    this.tellLater(run, {
      kind: 'approval.requested',
      text: `${run.playbook} for ${run.alertname} (${run.targetKey}) awaits approval before step ${step.name}, for ${formatDuration(timeoutMs)}${message ? `: ${message}` : ''}. Approve: remediator approve ${run.id} [run ${run.id}]`,
      runId: run.id,
      playbook: run.playbook,
      data: { step: step.name, expiresAt: approval.expiresAt, approvers },
    });
    return 'held';
  }

  private body(run: Run, step: Step, rendered: RenderedStep, signal: AbortSignal): Promise<StepOutcome> {
    if (rendered.kind === 'notify') return this.notify(run, rendered.text, rendered.channel);
    return runStepBody(step, rendered, {
      settings: this.deps.settings,
      signal,
      dryRun: run.dryRun,
      runEnv: { REMEDIATOR_RUN_ID: run.id, REMEDIATOR_PLAYBOOK: run.playbook, REMEDIATOR_DRY_RUN: run.dryRun ? '1' : '0' },
      isResolved: async () => (await this.deps.store.getRun(run.id))?.resolvedAt != null,
    });
  }

  private async recordEnd(
    run: Run,
    step: Step,
    phase: Phase,
    index: number,
    outcome: StepOutcome,
    durationMs: number,
    attempts: number,
    log: Logger,
    label: string,
  ): Promise<StepStatus> {
    const { secrets, store } = this.deps;
    const state = outcome.ok ? 'succeeded' : 'failed';
    const error = outcome.error === null ? null : secrets.redact(outcome.error);
    const at = this.now();
    await store.transitionRun(run.id, {
      from: ['running'],
      to: 'running',
      at,
      steps: [
        {
          phase,
          index,
          state,
          finishedAt: at,
          exitCode: outcome.exitCode,
          output: secrets.redact(outcome.output),
          error,
          vars: secrets.redactDeep(outcome.vars) as Record<string, unknown>,
        },
      ],
      events: [{ kind: 'step.finished', data: { step: step.name, phase, state, exitCode: outcome.exitCode, durationMs, attempts, error } }],
    });
    if (outcome.ok) log.info(`${label} succeeded in ${durationMs} ms`, { step: step.name, exitCode: outcome.exitCode });
    else log.warn(`${label} failed: ${error}`, { step: step.name, exitCode: outcome.exitCode });
    return state;
  }

  /** Sends through every notifier; failures are recorded and never fail the step or the run. */
  private async notify(run: Run, text: string, channel: string | null): Promise<StepOutcome> {
    const n: Notification = { kind: 'step', text: run.dryRun ? `[dry run] ${text}` : text, channel, runId: run.id, playbook: run.playbook };
    const lines = await this.sendAll(run, n);
    return { ok: true, exitCode: null, output: lines.join('\n'), error: null, vars: { stdout: n.text } };
  }

  private async sendAll(run: Run, n: Notification): Promise<string[]> {
    const lines: string[] = [];
    const events: NewEvent[] = [];
    for (const notifier of this.deps.notifiers) {
      const outcome = await deliver(notifier, { ...n, text: this.deps.secrets.redact(n.text) }, this.deps);
      if (outcome === null) continue;
      const { line, event } = outcome;
      lines.push(this.deps.secrets.redact(line));
      events.push({ ...event, runId: run.id, playbook: run.playbook, fingerprint: run.fingerprint, data: this.deps.secrets.redactDeep(event.data) });
    }
    if (events.length > 0) await this.deps.store.appendEvents(events);
    return lines;
  }

  private async finish(run: Run, to: RunState, reason: string, log: Logger): Promise<void> {
    const moved = await this.deps.store.transitionRun(run.id, {
      from: ['running'],
      to,
      reason,
      at: this.now(),
      events: [{ kind: 'run.state', data: { from: 'running', to, reason } }],
    });
    if (!moved) return;
    this.changed(run.id);
    this.deps.metrics.runs.inc({ playbook: run.playbook, outcome: to, mode: run.dryRun ? 'dry-run' : 'live' });
    log[to === 'succeeded' ? 'info' : 'warn'](`run ${run.id} ${to}: ${reason}`, { state: to });
    if (!run.dryRun) {
      await this.sendAll(run, {
        kind: 'run.finished',
        text: `${run.playbook} for ${run.alertname} (${run.targetKey}) ${to}: ${reason} [run ${run.id}]`,
        runId: run.id,
        playbook: run.playbook,
        data: { state: to },
      });
    }
  }
}

/** What a step does in this run: execute it, or only plan it (dry run). */
function executionOf(step: Step, rendered: RenderedStep, dryRun: boolean): 'execute' | 'plan' {
  if (!dryRun) return 'execute';
  if (rendered.kind === 'notify') return 'execute';
  if (rendered.kind === 'run') return step.readOnly || rendered.dryRunArgv !== null ? 'execute' : 'plan';
  if (rendered.kind === 'http') return step.readOnly ? 'execute' : 'plan';
  return 'plan';
}
