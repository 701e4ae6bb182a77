import { randomBytes } from 'node:crypto';
import type { Approval } from '../domain/approval.js';
import { describeRendered } from '../domain/describe-step.js';
import { errorMessage } from '../domain/errors.js';
import type { RenderedStep } from '../domain/run.js';
import type { StepOutcome, StepStatus, StepVars } from '../domain/step-outcome.js';
import { TemplateRenderError } from '../playbook/template.js';
import { changesSomething, coversPlaybookGate, gateKey, gateOf } from './approval-gate.js';
import { holdRun } from './approval-hold.js';
import { nowText, turnLabel, type Execution, type StepTurn } from './execution.js';
import { runtimeValues } from './runtime-values.js';
import { renderStep } from './render-step.js';
import { STEP_TOKEN_VARIABLE, type StepProcess } from './process-tree.js';
import { backoffDelay, sleep } from './retry.js';
import { SecretStore } from './secrets.js';
import { shouldRun } from './step-condition.js';
import { kindOf } from './steps/step-kinds.js';

/**
 * Runs (or plans, or skips, or holds before) one step and records it; returns how it ended.
 * Every start and end is stored, with the step as it really ran (secrets redacted), before the
 * next thing happens; a mutating live step's start is durable before it acts.
 */
export async function takeTurn(ex: Execution, turn: StepTurn): Promise<StepStatus | 'held'> {
  const { store, secrets, metrics } = ex.deps;
  const { run, step, phase, index, progress, log } = turn;
  const label = turnLabel(turn);
  const record = (status: StepStatus, vars: StepVars = {}) => {
    progress.outcomes.set(step.name, { status, vars });
    return status;
  };
  const statuses = new Map([...progress.outcomes].map(([k, v]) => [k, v.status]));
  if (!shouldRun(step.when, statuses, turn.runFailing)) {
    await store.transitionRun(run.id, {
      from: ['running'],
      to: 'running',
      at: nowText(ex),
      steps: [{ phase, index, state: 'skipped' }],
      events: [{ kind: 'step.finished', data: { step: step.name, phase, state: 'skipped', when: step.when ?? 'until the run fails' } }],
    });
    log.info(`${label} skipped (${step.when === null ? 'the run has failed' : `when: ${step.when}`})`);
    return record('skipped');
  }
  const gate = gateOf(step, run, progress, phase, index);
  if (gate === 'hold') return holdRun(ex, turn);
  if (gate === 'granted') return record(await passGate(ex, turn, progress.granted.get(gateKey(phase, index)) as Approval));

  let rendered: RenderedStep;
  try {
    rendered = renderStep(step, runtimeValues(ex, run, progress.outcomes, run.dryRun)).rendered;
  } catch (err) {
    const secret = err instanceof TemplateRenderError && err.path[0] === 'secrets' ? err.path[1] : undefined;
    const error = secret !== undefined ? SecretStore.howToSet(secret, ex.deps.settings.secretsDir) : errorMessage(err);
    return record(await recordEnd(ex, turn, { ok: false, exitCode: null, output: '', error, vars: {} }, 0, 0));
  }
  const shown = secrets.redactDeep(rendered);
  const kind = kindOf(step);
  // The run starts acting: whoever marks that outside (an Alertmanager silence) is told first.
  if (changesSomething(step)) await ex.deps.onActing?.(run, turn.playbook);
  // A dry run walks on after a failure to show the whole plan; would a live run, which after a
  // failure takes only onFailure steps and those whose `when` asks for it, get here too?
  const liveReaches = progress.failure === null || phase === 'onFailure' || shouldRun(step.when, statuses, true);
  if (run.dryRun && kind.inDryRun(step, rendered, { failedAt: progress.failure, phase, liveReaches }) === 'plan') {
    const after = liveReaches ? '' : ` (after step ${progress.failure} failed: a live run would not get here)`;
    log.info(`dry-run ${label}: ${describeRendered(shown, true)}${after}`, { step: step.name, kind: step.kind, rendered: shown });
    return record('planned');
  }

  const startedAt = Date.now();
  // Every process the step starts carries this token (and it is recorded before any starts), so
  // what a dead daemon's step left running can be found and stopped after a restart.
  const processToken = randomBytes(12).toString('hex');
  const mine = await store.transitionRun(run.id, {
    from: ['running'],
    to: 'running',
    at: nowText(ex),
    durable: !run.dryRun && !step.readOnly,
    steps: [{ phase, index, state: 'running', startedAt: nowText(ex), rendered: shown }],
    events: [
      {
        kind: 'step.started',
        data: {
          step: step.name,
          phase,
          kind: step.kind,
          command: describeRendered(shown, run.dryRun),
          dryRun: run.dryRun,
          ...(step.kind === 'run' ? { processToken } : {}),
        },
      },
    ],
  });
  if (!mine) {
    // Someone else ended the run meanwhile: act on nothing.
    log.warn(`${label} not started: the run is no longer running`);
    return record('skipped');
  }
  log.info(`${run.dryRun ? 'dry-run ' : ''}${label} started: ${describeRendered(shown, run.dryRun)}`, { step: step.name, kind: step.kind });

  const { outcome, attempts } = await attemptWithRetries(ex, turn, rendered, label, processToken);
  const durationMs = Date.now() - startedAt;
  metrics.stepDuration.observe({ kind: step.kind, outcome: outcome.ok ? 'succeeded' : 'failed' }, durationMs / 1000);
  return record(await recordEnd(ex, turn, outcome, durationMs, attempts), outcome.vars);
}

/** An approval gate a person approved: recorded as the step's success, with who and how. */
async function passGate(ex: Execution, turn: StepTurn, a: Approval): Promise<StepStatus> {
  const { run, step, phase, index, progress, playbook } = turn;
  if (coversPlaybookGate(a, playbook)) progress.approvedOnce = true;
  const output = `approved by ${a.decidedBy ?? '?'} via ${a.decidedVia ?? '?'} at ${a.decidedAt ?? '?'}${a.comment ? `: ${a.comment}` : ''}`;
  const at = nowText(ex);
  await ex.deps.store.transitionRun(run.id, {
    from: ['running'],
    to: 'running',
    at,
    steps: [{ phase, index, state: 'succeeded', startedAt: a.requestedAt, finishedAt: at, output }],
    events: [{ kind: 'step.finished', data: { step: step.name, phase, state: 'succeeded', approvedBy: a.decidedBy, via: a.decidedVia } }],
  });
  turn.log.info(`${turnLabel(turn)} ${output}`);
  return 'succeeded';
}

/** The step's body, tried up to its retry policy's attempts with backoff; each failed try recorded. */
async function attemptWithRetries(
  ex: Execution,
  turn: StepTurn,
  rendered: RenderedStep,
  label: string,
  processToken: string,
): Promise<{ outcome: StepOutcome; attempts: number }> {
  const { store, secrets } = ex.deps;
  const { run, step, signal, log } = turn;
  const attempts = step.retry?.attempts ?? 1;
  let outcome: StepOutcome = { ok: false, exitCode: null, output: '', error: 'not run', vars: {} };
  let attempt = 0;
  while (attempt < attempts) {
    attempt++;
    outcome = await kindOf(step).execute(step, rendered, {
      settings: ex.deps.settings,
      signal,
      dryRun: run.dryRun,
      redactor: secrets,
      runEnv: { REMEDIATOR_RUN_ID: run.id, REMEDIATOR_PLAYBOOK: run.playbook, REMEDIATOR_DRY_RUN: run.dryRun ? '1' : '0', [STEP_TOKEN_VARIABLE]: processToken },
      onSpawn: (started) => recordSpawn(ex, turn, attempt, started),
      isResolved: async () => (await store.getRun(run.id))?.resolvedAt != null,
      announce: (text, channel) => ex.notices.send(run, { kind: 'step', text, channel, runId: run.id, playbook: run.playbook }),
    });
    if (outcome.ok || signal.aborted || attempt >= attempts || !step.retry) break;
    const delayMs = backoffDelay(step.retry, attempt);
    const error = secrets.redact(outcome.error ?? '');
    await store.appendEvents([
      { kind: 'step.retry', runId: run.id, playbook: run.playbook, fingerprint: run.fingerprint, data: { step: step.name, attempt, error, delayMs } },
    ]);
    log.warn(`${label} attempt ${attempt}/${attempts} failed (${error}); retrying in ${delayMs} ms`);
    try {
      await sleep(delayMs, signal);
    } catch {
      break;
    }
  }
  return { outcome, attempts: attempt };
}

/**
 * Records what a command started (pid, process group, start time, boot, host, cgroup): not awaited
 * by the command, which is running already; a failure is logged (the token in step.started still
 * lets a restart find the processes).
 */
function recordSpawn(ex: Execution, turn: StepTurn, attempt: number, started: StepProcess): void {
  const { run, step, phase, index, log } = turn;
  ex.deps.store
    .appendEvents([
      {
        kind: 'step.process',
        runId: run.id,
        playbook: run.playbook,
        fingerprint: run.fingerprint,
        data: { step: step.name, phase, index, attempt, ...started },
      },
    ])
    .catch((err: unknown) => log.warn(`${turnLabel(turn)}: recording its process ${started.pid} failed: ${errorMessage(err)}`));
}

/** Stores how a step ended (redacted) with its event, and logs it. */
async function recordEnd(ex: Execution, turn: StepTurn, outcome: StepOutcome, durationMs: number, attempts: number): Promise<StepStatus> {
  const { secrets, store } = ex.deps;
  const { run, step, phase, index, log } = turn;
  const state = outcome.ok ? 'succeeded' : 'failed';
  const error = outcome.error === null ? null : secrets.redact(outcome.error);
  const at = nowText(ex);
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
  if (outcome.ok) log.info(`${turnLabel(turn)} succeeded in ${durationMs} ms`, { step: step.name, exitCode: outcome.exitCode });
  else log.warn(`${turnLabel(turn)} failed: ${error}`, { step: step.name, exitCode: outcome.exitCode });
  return state;
}
