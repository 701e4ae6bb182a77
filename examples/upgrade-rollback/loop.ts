import type { RunDetail, RunStep } from '../../src/domain/run.js';
import { pollUntil, sleep } from './processes.js';
import { ALERTNAME, API_IDENTITY, BAD_VERSION, GOOD_VERSION, RATIO, TARGET, type Stack } from './stack.js';

// The upgrade-gone-wrong loop, watched from outside like an on-call engineer would: deploy the bad
// version, then poll Prometheus and remediator's API until the run has rolled back, verified and
// told, and the alert has resolved. Each thing seen becomes one event with the time it happened.

/** Everything the loop reports, in the order it should happen. */
export type LoopEventKind =
  | 'baseline'
  | 'deployed'
  | 'pending'
  | 'firing'
  | 'webhook'
  | 'run_created'
  | 'run_started'
  | 'awaiting_approval'
  | 'approved'
  | 'rolled_back'
  | 'verified'
  | 'notified'
  | 'run_finished'
  | 'resolved';

/** One thing that happened, when (ms since the epoch, as recorded where it happened) and what. */
export interface LoopEvent {
  readonly kind: LoopEventKind;
  readonly at: number;
  readonly text: string;
}

/** The loop's outcome. */
export interface LoopResult {
  readonly events: readonly LoopEvent[];
  readonly run: RunDetail;
  /** The version the service runs at the end. */
  readonly serviceVersion: string;
  /** From the alert firing in Prometheus to remediator recording its resolve. */
  readonly firingToResolvedMs: number;
}

/** How to run the loop. */
export interface LoopOptions {
  /** Called for each event as soon as it is seen. */
  readonly onEvent?: (event: LoopEvent) => void;
  /** From the bad deploy to the end of the loop (default 70 s). */
  readonly deadlineMs?: number;
  readonly signal?: AbortSignal;
}

const TICK_MS = 200;

/** Waits for a 5xx ratio in Prometheus, deploys the bad version and follows the loop to its end. */
export async function runLoop(stack: Stack, options: LoopOptions = {}): Promise<LoopResult> {
  const events: LoopEvent[] = [];
  const seen = new Set<LoopEventKind>();
  const emit = (batch: LoopEvent[]) => {
    for (const e of batch.sort((a, b) => a.at - b.at)) {
      seen.add(e.kind);
      events.push(e);
      options.onEvent?.(e);
    }
  };
  const signal = options.signal ? { signal: options.signal } : {};

  const baseline = await pollUntil(
    'Prometheus to have a 5xx ratio of the service (a scrape and two rule evaluations)',
    async () => {
      const result = await stack.prometheus<{ result: { value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(RATIO)}`);
      return result.result[0]?.value[1];
    },
    { timeoutMs: 20_000, ...signal },
  );
  emit([{ kind: 'baseline', at: Date.now(), text: `baseline: ${TARGET.service} ${GOOD_VERSION} answers ${percent(baseline)} of requests with 5xx` }]);

  const deploy = await stack.deployctl(['deploy', '--namespace', TARGET.namespace, '--service', TARGET.service, '--version', BAD_VERSION]);
  if (deploy.code !== 0) throw new Error(`deployctl deploy failed: ${deploy.stderr}`);
  const deployedAt = Date.now();
  emit([{ kind: 'deployed', at: deployedAt, text: `upgrade: ${deploy.stdout.trim()}` }]);

  const deadline = deployedAt + (options.deadlineMs ?? 70_000);
  const since = new Date(deployedAt - 1_000).toISOString();
  let runId: string | null = null;
  let run: RunDetail | null = null;
  let firingAt: number | null = null;
  let goneInPrometheus = false;

  for (;;) {
    options.signal?.throwIfAborted();
    const found: LoopEvent[] = [];
    // A problem found in a tick ends the loop after the tick's events are told.
    let problem: string | null = null;
    const add = (kind: LoopEventKind, at: number | string | null, text: string) => {
      if (seen.has(kind) || found.some((e) => e.kind === kind) || at === null) return;
      found.push({ kind, at: typeof at === 'number' ? at : Date.parse(at), text });
    };

    // Prometheus: the alert pending, firing, then gone.
    const alerts = await stack.prometheus<{ alerts: PrometheusAlert[] }>('/api/v1/alerts');
    const alert = alerts.alerts.find((a) => a.labels['alertname'] === ALERTNAME && a.labels['service'] === TARGET.service);
    if (alert?.state === 'pending') add('pending', Date.now(), `${ALERTNAME} pending: 5xx ratio ${percent(alert.value)} > 10%, for 5s before it fires`);
    if (alert?.state === 'firing') {
      firingAt ??= Date.now();
      add('firing', firingAt, `${ALERTNAME} firing: 5xx ratio ${percent(alert.value)}; Prometheus sends it to Alertmanager`);
    }
    // Gone once it fired: Prometheus resolved it (and so sent the resolve to Alertmanager).
    if (firingAt !== null && alert === undefined) goneInPrometheus = true;

    // remediator: the webhook Alertmanager delivered.
    const batches = await api<{ events: { at: string; data: { status?: string; alerts?: number } }[] }>(
      stack,
      `/api/audit?kind=batch.received&since=${encodeURIComponent(since)}&limit=20`,
    );
    const firing = batches.events.find((b) => b.data.status === 'firing');
    if (firing) add('webhook', firing.at, `webhook from Alertmanager received (firing, ${firing.data.alerts ?? '?'} alert(s)), stored before the 200`);

    // remediator: the run, its steps and states.
    if (runId === null) {
      const list = await api<{ runs: { id: string }[] }>(stack, `/api/runs?playbook=${encodeURIComponent(stack.playbook)}&limit=5`);
      runId = list.runs.at(-1)?.id ?? null;
    }
    if (runId !== null) {
      run = await api<RunDetail>(stack, `/api/runs/${encodeURIComponent(runId)}`);
      const mode = run.dryRun ? 'a dry run' : run.needsApproval ? 'live, needs an approval' : 'live';
      add('run_created', run.createdAt, `run ${run.id} created: ${stack.playbook} (${mode}; ${run.reason})`);
      for (const e of run.events) {
        if (e.kind !== 'run.state') continue;
        const to = String(e.data['to']);
        if (to === 'running')
          add(
            'run_started',
            e.at,
            `run started: ${run.steps
              .filter((s) => s.phase === 'main')
              .map((s) => s.name)
              .join(' → ')}`,
          );
        if (to === 'awaiting_approval')
          add('awaiting_approval', e.at, `run holds for approval before step ${typeof e.data['step'] === 'string' ? e.data['step'] : '?'} (awaiting_approval)`);
      }
      const step = (name: string) => run?.steps.find((s) => s.name === name && s.phase === 'main');
      const done = (s: RunStep | undefined) => (s?.state === 'succeeded' ? s.finishedAt : null);
      add('rolled_back', done(step('rollback')), `step rollback, deployctl: ${firstLine(step('rollback')?.output)}`);
      add('verified', done(step('verify')), `step verify: ${verifiedText(step('verify')?.output)}`);
      const tell = step('tell');
      add('notified', done(tell), `step tell, notified: ${tell?.rendered.kind === 'notify' ? tell.rendered.text : ''}`);
      if (run.finishedAt !== null) add('run_finished', run.finishedAt, `run ${run.state}`);
      // Stamped with remediator's record of the resolve; Prometheus resolved it a moment before.
      if (goneInPrometheus) {
        add(
          'resolved',
          run.resolvedAt,
          `${ALERTNAME} resolved: the ratio stayed under 10% for 3s, Prometheus resolved it, Alertmanager sent the resolve, remediator recorded it on the run`,
        );
      }

      if (stack.variant === 'approve') {
        if (run.state === 'awaiting_approval' && !seen.has('approved')) found.push(await approve(stack, run));
        if (!run.needsApproval || (step('rollback')?.startedAt && !seen.has('approved') && !found.some((e) => e.kind === 'approved'))) {
          problem = `run ${run.id} did not hold for approval before the rollback (needsApproval ${run.needsApproval}, state ${run.state}): does this remediator hold runs for approval yet?`;
        }
      } else if (run.state === 'awaiting_approval') {
        problem = `run ${run.id} waits for an approval, which the live variant does not give: ${run.reason}`;
      }
      if (run.finishedAt !== null && run.state !== 'succeeded') problem ??= `run ${run.id} ended ${run.state}: ${run.reason}${failedSteps(run)}`;
      if (run.finishedAt !== null && done(step('rollback')) === null)
        problem ??= `run ${run.id} ended without rolling back (${run.dryRun ? 'a dry run: ' : ''}${run.reason})`;
    }

    emit(found);
    if (problem !== null) throw new Error(problem);
    if (seen.has('run_finished') && seen.has('resolved')) break;
    if (Date.now() > deadline)
      throw new Error(
        `the loop did not close within ${(deadline - deployedAt) / 1000}s of the upgrade; seen: ${[...seen].join(', ')}${run ? `; run ${run.id} is ${run.state}${failedSteps(run)}` : ''}`,
      );
    await sleep(TICK_MS, options.signal);
  }

  const status = await stack.deployctl(['status', '--namespace', TARGET.namespace, '--service', TARGET.service]);
  const serviceVersion = /version (\S+)/.exec(status.stdout)?.[1] ?? `unknown (${status.stderr.trim()})`;
  const resolvedAt = events.find((e) => e.kind === 'resolved')!.at;
  return { events, run: run!, serviceVersion, firingToResolvedMs: resolvedAt - firingAt! };
}

/** Approves the held run through the API, as a person would (POST /api/runs/:id/approve). */
async function approve(stack: Stack, run: RunDetail): Promise<LoopEvent> {
  const comment = 'checked the dashboards: the upgrade broke checkout, roll it back (npm run demo -- --approve)';
  const res = await stack.api<{ run?: RunDetail; error?: { code: string; message: string } }>('POST', `/api/runs/${encodeURIComponent(run.id)}/approve`, {
    comment,
  });
  if (res.status !== 200 || !res.body.run) {
    throw new Error(`POST /api/runs/${run.id}/approve answered ${res.status}: ${res.body.error?.message ?? JSON.stringify(res.body)}`);
  }
  const decided = res.body.run.approvals.find((a) => a.decision === 'approved');
  return {
    kind: 'approved',
    at: decided?.decidedAt ? Date.parse(decided.decidedAt) : Date.now(),
    text: `approved through the API by ${decided?.decidedBy ?? API_IDENTITY}: "${comment}"`,
  };
}

/** `remediator audit verify --db FILE`: its exit code and what it printed. */
export async function verifyAuditTrail(stack: Stack): Promise<{ code: number; output: string }> {
  const r = await stack.remediatorCli(['audit', 'verify', '--db', stack.dbFile]);
  return { code: r.code, output: `${r.stdout}${r.stderr}`.trim() };
}

interface PrometheusAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
  value: string;
}

async function api<T>(stack: Stack, apiPath: string): Promise<T> {
  const res = await stack.api<T>('GET', apiPath);
  if (res.status !== 200) throw new Error(`GET ${apiPath} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

function failedSteps(run: RunDetail): string {
  const failed = run.steps.filter((s) => s.state === 'failed').map((s) => `${s.name}: ${s.error ?? ''}`);
  return failed.length === 0 ? '' : `; failed step(s): ${failed.join('; ')}`;
}

function percent(value: string): string {
  const n = Number(value);
  return Number.isFinite(n) ? `${(n * 100).toFixed(1)}%` : value;
}

function firstLine(text: string | null | undefined): string {
  return (text ?? '').trim().split('\n')[0] ?? '';
}

/** "5xx ratio 6.1% < 10% in Prometheus after 2.5s" from the verify step's last measurement ("+2.5s holds: 1 series: {…} 0.061"). */
function verifiedText(output: string | null | undefined): string {
  const last = (output ?? '').trim().split('\n').at(-1) ?? '';
  const m = /^\+([\d.]+)s holds: .* (\S+)$/.exec(last);
  return m ? `5xx ratio ${percent(m[2]!)} < 10% in Prometheus, after ${m[1]}s of checks` : last;
}
