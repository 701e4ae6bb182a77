import { errorMessage } from '../domain/errors.js';
import type { Playbook, Step } from '../domain/playbook.js';
import type { Run, RunState } from '../domain/run.js';
import type { Logger } from '../observability/logger.js';
import { freshProgress, resumePoint, type Progress } from './approval-gate.js';
import { changed, nowText, type Execution } from './execution.js';
import { sleep } from './retry.js';
import { takeTurn } from './step-turn.js';

/**
 * A run's life in its slot: taken (pending → running, or an approved run read back at its gate),
 * its steps walked in order, its onFailure steps after a failure, and its end recorded and
 * announced. A dry run walks on after a failure, so the whole plan is shown; it still ends failed.
 */
export async function walkRun(ex: Execution, run: Run, playbook: Playbook, resume: boolean, signal: AbortSignal): Promise<void> {
  const progress = resume ? await resumed(ex, run, playbook) : await started(ex, run, playbook);
  if (progress === null) return;
  const log = logOf(ex, run);
  changed(ex, run.id);
  const walk = async (phase: 'main' | 'onFailure', steps: readonly Step[], from: number, runFailing: () => boolean) => {
    for (let index = from; index < steps.length; index++) {
      if (signal.aborted) break;
      const step = steps[index] as Step;
      const status = await takeTurn(ex, { run, playbook, step, phase, index, progress, runFailing: runFailing(), signal, log });
      if (status === 'held') return 'held';
      if (phase === 'main' && status === 'failed' && !step.continueOnError && progress.failure === null) progress.failure = step.name;
    }
    return 'walked';
  };

  if (progress.phase === 'main' && (await walk('main', playbook.steps, progress.index, () => progress.failure !== null && !run.dryRun)) === 'held') return;
  if (await stopped(ex, run, log)) return;
  if (progress.failure !== null) {
    if ((await walk('onFailure', playbook.onFailure, progress.phase === 'onFailure' ? progress.index : 0, () => false)) === 'held') return;
    if (await stopped(ex, run, log)) return;
    await finish(ex, run, 'failed', await failureReason(ex, run, progress.failure), log);
    return;
  }
  await finish(ex, run, 'succeeded', run.dryRun ? 'dry run: read-only and dry-run steps executed, the rest planned' : 'every step succeeded', log);
}

/** Retrying a run's end while the store is away: from 500 ms, doubling, at most this apart. */
const ABANDON_MAX_DELAY_MS = 15_000;

/**
 * A run that stopped on an unexpected error (most likely the store: a step's end or the run's
 * could not be written) must not stay `running` or `pending`, holding its key and lock until the
 * next restart: it is failed, and the write is tried again with backoff until the store takes it
 * (the run stays in its slot meanwhile, so its lease is renewed only while this is behind it). A
 * step left `running` is closed as interrupted: what it did was not recorded. Gives up only when
 * the slot is stopped (shutdown: the next start or another replica's lease sweep ends the run).
 */
export async function abandonRun(ex: Execution, run: Run, err: unknown, signal: AbortSignal): Promise<void> {
  const { store, logger, metrics, secrets } = ex.deps;
  const reason = `stopped on an error: ${secrets.redact(errorMessage(err))}`;
  logger.error(`run ${run.id} ${reason}`, { runId: run.id });
  for (let attempt = 1; ; attempt++) {
    try {
      const at = nowText(ex);
      const detail = await store.getRun(run.id);
      if (detail === null || (detail.state !== 'pending' && detail.state !== 'running')) return;
      const steps = detail.steps
        .filter((s) => s.state === 'running')
        .map((s) => ({ phase: s.phase, index: s.index, state: 'interrupted' as const, finishedAt: at, error: UNRECORDED_STEP }));
      const moved = await store.transitionRun(run.id, {
        from: [detail.state],
        to: 'failed',
        reason,
        at,
        steps,
        events: [{ kind: 'run.state', data: { from: detail.state, to: 'failed', reason, attempts: attempt } }],
      });
      if (moved) {
        metrics.runs.inc({ playbook: run.playbook, outcome: 'failed', mode: run.dryRun ? 'dry-run' : 'live' });
        changed(ex, run.id);
        if (attempt > 1) logger.warn(`run ${run.id}: its failure was recorded at attempt ${attempt}, the store answers again`, { runId: run.id });
      }
      return;
    } catch (again) {
      const delayMs = Math.min(ABANDON_MAX_DELAY_MS, 500 * 2 ** Math.min(attempt - 1, 10));
      logger.error(`run ${run.id}: recording its failure failed (${errorMessage(again)}), attempt ${attempt}; again in ${delayMs} ms`, { runId: run.id });
      try {
        await sleep(delayMs, signal);
      } catch {
        logger.warn(`run ${run.id}: no longer trying to record its failure (the daemon stops); the next start or a lease sweep ends it`, { runId: run.id });
        return;
      }
    }
  }
}

const UNRECORDED_STEP = 'the store failed while this step ran: its outcome was not recorded';

function logOf(ex: Execution, run: Run): Logger {
  return ex.deps.logger.child({ runId: run.id, playbook: run.playbook, fingerprint: run.fingerprint });
}

/** pending → running; null when the run was no longer pending (cancelled meanwhile). */
async function started(ex: Execution, run: Run, playbook: Playbook): Promise<Progress | null> {
  const log = logOf(ex, run);
  const taken = await ex.deps.store.transitionRun(run.id, {
    from: ['pending'],
    to: 'running',
    at: nowText(ex),
    durable: !run.dryRun,
    ...(ex.deps.lease ? { lease: ex.deps.lease() } : {}),
    events: [{ kind: 'run.state', data: { from: 'pending', to: 'running', dryRun: run.dryRun } }],
  });
  if (!taken) {
    log.info(`run ${run.id} is no longer pending (cancelled meanwhile?): not started`);
    return null;
  }
  const refused = run.dryRun ? null : (ex.deps.liveRefused?.() ?? null);
  if (refused !== null) {
    await finish(ex, run, 'cancelled', `${refused}: a live run decided before does not act`, log);
    return null;
  }
  log.info(`${run.dryRun ? 'dry run' : 'run'} of ${run.playbook} for ${run.alertname} started: ${playbook.steps.length} step(s)`, {
    dryRun: run.dryRun,
    params: run.params,
  });
  return freshProgress();
}

/** An approved run, read back from the store: where it goes on, or null when it should not. */
async function resumed(ex: Execution, run: Run, playbook: Playbook): Promise<Progress | null> {
  const log = logOf(ex, run);
  const detail = await ex.deps.store.getRun(run.id);
  const progress = detail?.state === 'running' ? resumePoint(detail, playbook) : null;
  if (!detail || !progress) {
    log.warn(`run ${run.id} is not an approved running run (${detail?.state ?? 'missing'}): not resumed`);
    return null;
  }
  // What happened while the run waited for its slot: the alert resolved, or the daemon was
  // restarted with execution dry-run. Neither lets an approval act.
  const refused = detail.resolvedAt !== null ? `the alert resolved at ${detail.resolvedAt}, after the approval` : (ex.deps.liveRefused?.() ?? null);
  if (refused !== null) {
    await finish(ex, run, 'cancelled', `${refused}: not run`, log);
    return null;
  }
  log.info(`run ${run.id} approved: going on at ${progress.phase === 'main' ? 'step' : 'onFailure step'} ${progress.index + 1}`);
  return progress;
}

/** A run stopped by a cancel or a shutdown ends as whoever stopped it said; true when it was. */
async function stopped(ex: Execution, run: Run, log: Logger): Promise<boolean> {
  const stop = ex.slots.slot(run.id)?.stop;
  if (!stop) return false;
  await finish(ex, run, stop.to, stop.reason, log);
  return true;
}

/** "step NAME: why", from the stored step that failed the run. */
async function failureReason(ex: Execution, run: Run, stepName: string): Promise<string> {
  const detail = await ex.deps.store.getRun(run.id);
  const failed = detail?.steps.find((s) => s.name === stepName && s.phase === 'main');
  return `step ${stepName}: ${failed?.error ?? 'failed'}`;
}

/** running → its end, counted, logged and (for a live run) announced. */
export async function finish(ex: Execution, run: Run, to: RunState, reason: string, log: Logger): Promise<void> {
  const moved = await ex.deps.store.transitionRun(run.id, {
    from: ['running'],
    to,
    reason,
    at: nowText(ex),
    events: [{ kind: 'run.state', data: { from: 'running', to, reason } }],
  });
  if (!moved) return;
  changed(ex, run.id);
  ex.deps.metrics.runs.inc({ playbook: run.playbook, outcome: to, mode: run.dryRun ? 'dry-run' : 'live' });
  log[to === 'succeeded' ? 'info' : 'warn'](`run ${run.id} ${to}: ${reason}`, { state: to });
  const ended = {
    kind: 'run.finished' as const,
    text: `${run.dryRun ? '[dry run] ' : ''}${run.playbook} for ${run.alertname} (${run.targetKey}) ${to}: ${reason} [run ${run.id}]`,
    runId: run.id,
    playbook: run.playbook,
    data: { state: to, dryRun: run.dryRun },
  };
  // A dry run says how it really ended too (after a failed read-only step, its last notify text
  // must not be the last word), without holding its slot while a slow notifier retries: in a storm
  // of dry runs that would stall the queue.
  if (run.dryRun) ex.notices.later(run, ended);
  else await ex.notices.send(run, ended);
}
