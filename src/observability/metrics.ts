import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import { packageVersion } from './version.js';

/** Every metric name starts with this. */
export const METRIC_PREFIX = 'remediator_';

/** The run states a run passes through before it is over (the in-progress gauge's label values). */
export const IN_PROGRESS_STATES = ['pending', 'awaiting_approval', 'running'] as const;
export type InProgressState = (typeof IN_PROGRESS_STATES)[number];

/** The daemon's metrics, registered on an injected registry (never prom-client's global one). */
export interface Metrics {
  readonly registry: Registry;
  readonly alertsReceived: Counter<'status'>;
  readonly webhookRequests: Counter<'code'>;
  readonly webhookDuration: Histogram<'code'>;
  readonly authFailures: Counter<'endpoint'>;
  readonly runs: Counter<'playbook' | 'outcome' | 'mode'>;
  readonly suppressed: Counter<'playbook' | 'reason'>;
  readonly redelivered: Counter<'playbook'>;
  readonly escalations: Counter<'playbook'>;
  readonly held: Counter<'playbook' | 'reason'>;
  readonly batchesPending: Gauge;
  /** Runs not over yet, by state (read from the store when scraped). */
  readonly runsInProgress: Gauge<'state'>;
  readonly stepDuration: Histogram<'kind' | 'outcome'>;
  readonly notifications: Counter<'notifier' | 'outcome'>;
  /** Alertmanager silences of runs: created, extended, expired, kept, planned (dry runs), failed. */
  readonly silences: Counter<'outcome'>;
  /** Grafana annotations of runs: created (at the first acting step), updated (closed at the end), failed. */
  readonly annotations: Counter<'outcome'>;
  /** Approval requests and what became of them: requested, approved, rejected, expired, cancelled, refused. */
  readonly approvals: Counter<'playbook' | 'outcome'>;
  /** Approval requests waiting for a decision (read from the store when scraped). */
  readonly approvalsPending: Gauge;
  /** When the earliest open approval request expires, in seconds since the epoch; 0 when none is open. */
  readonly approvalsNextExpiry: Gauge;
  readonly playbooksLoaded: Gauge;
  readonly reloadSuccessful: Gauge;
  readonly reloadTimestamp: Gauge;
  /** 1 while the circuit is open (read from the store when scraped). */
  readonly circuitOpen: Gauge;
  readonly storms: Counter;
  readonly stormActive: Gauge;
  /** 1 while a pause is in force (read from the store when scraped, so an expired pause reads 0). */
  readonly paused: Gauge;
  /** Always 1; its `version` label says which remediator is running. */
  readonly buildInfo: Gauge<'version'>;
  /** Where the scrape-time gauges read from; set by serve once the store is open. */
  readonly guardProbe: GuardProbe;
}

/**
 * Reads, at scrape time, what the store knows better than any counter in this process (a pause
 * that ended by itself, an approval decided by another replica). Unset, a gauge keeps what the
 * code last set, or has no series; a probe that throws keeps the last value (readiness reports
 * the store).
 */
export interface GuardProbe {
  /** The stored pause and circuit. */
  read: (() => Promise<{ readonly paused: boolean; readonly circuitOpen: boolean }>) | null;
  /** Open approval requests. */
  pendingApprovals?: (() => Promise<number>) | null;
  /** When the earliest open approval request expires (ISO 8601), or null when none is open. */
  nextApprovalExpiry?: (() => Promise<string | null>) | null;
  /** Webhook batches stored and not yet processed (by any replica). */
  batchesPending?: (() => Promise<number>) | null;
  /** Runs not over yet, counted by state; a state left out counts 0. */
  runsInProgress?: (() => Promise<Readonly<Partial<Record<InProgressState, number>>>>) | null;
}

/** Label values known in advance: their series exist at 0 from the start, so rate() and alerts see the first one. */
const ALERT_STATUSES = ['firing', 'resolved'];
const AUTH_ENDPOINTS = ['webhook', 'api', 'reload', 'slack'];

/**
 * prom-client's process and Node.js metrics that are gauges named with `_total`, which promtool
 * refuses ("non-counter metrics should not have _total suffix"). Nothing is lost: the same counts,
 * by type, stay as nodejs_active_handles, nodejs_active_requests and nodejs_active_resources.
 */
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** Creates and registers every metric, prom-client's process metrics included. */
export function createMetrics(registry: Registry): Metrics {
  registerProcessMetrics(registry);
  const registers = [registry];
  const guardProbe: GuardProbe = { read: null };
  // The circuit and pause gauges are collected together: one store read serves both.
  let guards: Promise<{ paused: boolean; circuitOpen: boolean }> | null = null;
  const readGuards = async (gauge: Gauge, pick: (s: { paused: boolean; circuitOpen: boolean }) => boolean) => {
    const read = guardProbe.read;
    if (read === null) return;
    const pending = (guards ??= read().finally(() => {
      guards = null;
    }));
    await keepLastOnError(async () => gauge.set(pick(await pending) ? 1 : 0));
  };
  const metrics: Metrics = {
    registry,
    guardProbe,

    // receive
    alertsReceived: new Counter({
      name: 'remediator_alerts_received_total',
      help: 'Alerts received in webhook batches, by alert status.',
      labelNames: ['status'],
      registers,
    }),
    webhookRequests: new Counter({
      name: 'remediator_webhook_requests_total',
      help: 'Webhook requests answered, by HTTP status code.',
      labelNames: ['code'],
      registers,
    }),
    webhookDuration: new Histogram({
      name: 'remediator_webhook_request_duration_seconds',
      help: 'Time to answer a webhook request, including the durable write, by HTTP status code.',
      labelNames: ['code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    authFailures: new Counter({
      name: 'remediator_auth_failures_total',
      help: 'Requests refused for missing or wrong credentials, by endpoint.',
      labelNames: ['endpoint'],
      registers,
    }),
    batchesPending: new Gauge({
      name: 'remediator_batches_pending',
      help: 'Webhook batches stored and not yet processed, as stored: read at scrape time, so every replica of a shared database reports the backlog.',
      registers,
      async collect() {
        const read = guardProbe.batchesPending;
        if (!read) return;
        await keepLastOnError(async () => this.set(await read()));
      },
    }),

    // decide
    suppressed: new Counter({
      name: 'remediator_runs_suppressed_total',
      help: 'Matched alerts that started no run, by playbook and reason.',
      labelNames: ['playbook', 'reason'],
      registers,
    }),
    redelivered: new Counter({
      name: 'remediator_alerts_redelivered_total',
      help: 'Alert instances delivered again after they were decided (Alertmanager re-sends, an HA pair), by playbook: not suppressions.',
      labelNames: ['playbook'],
      registers,
    }),
    escalations: new Counter({
      name: 'remediator_escalations_total',
      help: "Targets handed to a person because automation did not fix them (a playbook's escalate), by playbook.",
      labelNames: ['playbook'],
      registers,
    }),
    held: new Counter({
      name: 'remediator_runs_held_total',
      help: 'Live runs a guard held for approval (group_cap, storm), by playbook and reason.',
      labelNames: ['playbook', 'reason'],
      registers,
    }),
    storms: new Counter({
      name: 'remediator_storms_total',
      help: 'Storms opened (guards.storm: many alerts across many targets at once, seen as one event).',
      registers,
    }),
    stormActive: new Gauge({
      name: 'remediator_storm_active',
      help: '1 while a storm is open (guards.storm): live runs are held for approval or suppressed until it ends.',
      registers,
    }),
    circuitOpen: new Gauge({
      name: 'remediator_circuit_open',
      help: '1 while the circuit is open: the budget of live runs was spent and no person has closed it.',
      registers,
      async collect() {
        await readGuards(this, (s) => s.circuitOpen);
      },
    }),
    paused: new Gauge({
      name: 'remediator_paused',
      help: '1 while a person has paused remediation.',
      registers,
      async collect() {
        await readGuards(this, (s) => s.paused);
      },
    }),

    // execute
    runs: new Counter({
      name: 'remediator_runs_total',
      help: 'Runs finished, by playbook, outcome (the state they ended in) and mode (live or dry-run).',
      labelNames: ['playbook', 'outcome', 'mode'],
      registers,
    }),
    runsInProgress: new Gauge({
      name: 'remediator_runs_in_progress',
      help: 'Runs not over yet, by state (pending, awaiting_approval, running), as stored: every replica of a shared database reports the same.',
      labelNames: ['state'],
      registers,
      async collect() {
        const read = guardProbe.runsInProgress;
        if (!read) return;
        await keepLastOnError(async () => {
          const counts = await read();
          for (const state of IN_PROGRESS_STATES) this.set({ state }, counts[state] ?? 0);
        });
      },
    }),
    stepDuration: new Histogram({
      name: 'remediator_step_duration_seconds',
      help: 'Time a step took, retries included, by step kind and outcome.',
      labelNames: ['kind', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    }),

    // approvals
    approvals: new Counter({
      name: 'remediator_approvals_total',
      help: 'Approval requests, and their outcomes (approved, rejected, expired, cancelled; refused: someone not allowed tried), by playbook.',
      labelNames: ['playbook', 'outcome'],
      registers,
    }),
    approvalsPending: new Gauge({
      name: 'remediator_approvals_pending',
      help: "Runs held for a person's approval, waiting for a decision.",
      registers,
      async collect() {
        const read = guardProbe.pendingApprovals;
        if (!read) return;
        await keepLastOnError(async () => this.set(await read()));
      },
    }),
    approvalsNextExpiry: new Gauge({
      name: 'remediator_approvals_next_expiry_timestamp_seconds',
      help: 'When the earliest open approval request expires, in seconds since the epoch; 0 when none is open.',
      registers,
      async collect() {
        const read = guardProbe.nextApprovalExpiry;
        if (!read) return;
        await keepLastOnError(async () => {
          const at = await read();
          this.set(at === null ? 0 : Date.parse(at) / 1000);
        });
      },
    }),

    // notify
    notifications: new Counter({
      name: 'remediator_notifications_total',
      help: 'Notifications sent or failed, by notifier and outcome.',
      labelNames: ['notifier', 'outcome'],
      registers,
    }),
    silences: new Counter({
      name: 'remediator_silences_total',
      help: 'Alertmanager silences of runs, by outcome: created, extended, expired, kept, planned (dry runs), failed.',
      labelNames: ['outcome'],
      registers,
    }),
    annotations: new Counter({
      name: 'remediator_annotations_total',
      help: 'Grafana annotations of runs, by outcome: created (a run started acting), updated (its end and outcome), failed.',
      labelNames: ['outcome'],
      registers,
    }),

    // config
    reloadSuccessful: new Gauge({
      name: 'remediator_config_last_reload_successful',
      help: 'Whether the last playbook (re)load succeeded (1) or was refused (0).',
      registers,
    }),
    reloadTimestamp: new Gauge({
      name: 'remediator_config_last_reload_success_timestamp_seconds',
      help: 'When the playbooks were last loaded successfully, in seconds since the epoch.',
      registers,
    }),
    playbooksLoaded: new Gauge({ name: 'remediator_playbooks_loaded', help: 'Playbooks in the active set.', registers }),
    buildInfo: new Gauge({
      name: 'remediator_build_info',
      help: 'Always 1; the version label says which remediator is running.',
      labelNames: ['version'],
      registers,
    }),
  };
  for (const status of ALERT_STATUSES) metrics.alertsReceived.inc({ status }, 0);
  for (const endpoint of AUTH_ENDPOINTS) metrics.authFailures.inc({ endpoint }, 0);
  metrics.buildInfo.set({ version: packageVersion() }, 1);
  return metrics;
}

/**
 * Registers prom-client's process and Node.js metrics under our prefix, once per registry (a
 * caller may have registered them already), without the misnamed ones.
 */
function registerProcessMetrics(registry: Registry): void {
  if (registry.getSingleMetric(`${METRIC_PREFIX}process_start_time_seconds`) === undefined) {
    collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  }
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(`${METRIC_PREFIX}${name}`);
}

/** A store that cannot answer keeps the gauge's last value; readiness reports the store. */
async function keepLastOnError(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch {
    // keep the last value
  }
}
