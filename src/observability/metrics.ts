import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The daemon's metrics, registered on an injected registry (never prom-client's global one). */
export interface Metrics {
  readonly registry: Registry;
  readonly alertsReceived: Counter<'status'>;
  readonly webhookRequests: Counter<'code'>;
  readonly webhookDuration: Histogram<'code'>;
  readonly authFailures: Counter<'endpoint'>;
  readonly runs: Counter<'playbook' | 'outcome' | 'mode'>;
  readonly suppressed: Counter<'playbook' | 'reason'>;
  readonly batchesPending: Gauge;
  readonly stepDuration: Histogram<'kind' | 'outcome'>;
  readonly notifications: Counter<'notifier' | 'outcome'>;
  /** Approval requests and what became of them: requested, approved, rejected, expired, cancelled, refused. */
  readonly approvals: Counter<'playbook' | 'outcome'>;
  /** Approval requests waiting for a decision (read from the store when scraped). */
  readonly approvalsPending: Gauge;
  readonly playbooksLoaded: Gauge;
  readonly reloadSuccessful: Gauge;
  readonly reloadTimestamp: Gauge;
  /** 1 while the circuit is open (read from the store when scraped). */
  readonly circuitOpen: Gauge;
  /** 1 while a pause is in force (read from the store when scraped, so an expired pause reads 0). */
  readonly paused: Gauge;
  /** Where the two gauges above read from; set once the store is open. */
  readonly guardProbe: GuardProbe;
}

/** Reads the stored pause and circuit for the gauges. */
export interface GuardProbe {
  read: (() => Promise<{ readonly paused: boolean; readonly circuitOpen: boolean }>) | null;
  /** Open approval requests. */
  pendingApprovals?: (() => Promise<number>) | null;
}

/** Creates and registers every metric. */
export function createMetrics(registry: Registry): Metrics {
  const registers = [registry];
  const guardProbe: GuardProbe = { read: null };
  const readGuards = async (gauge: Gauge, pick: (s: { paused: boolean; circuitOpen: boolean }) => boolean) => {
    if (guardProbe.read === null) return;
    try {
      gauge.set(pick(await guardProbe.read()) ? 1 : 0);
    } catch {
      // A store that cannot answer keeps the last value; readiness reports the store.
    }
  };
  return {
    guardProbe,
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
    approvalsPending: new Gauge({
      name: 'remediator_approvals_pending',
      help: 'Runs held for a person\'s approval, waiting for a decision.',
      registers,
      async collect() {
        if (!guardProbe.pendingApprovals) return;
        try {
          this.set(await guardProbe.pendingApprovals());
        } catch {
          // As above: keep the last value.
        }
      },
    }),
    approvals: new Counter({
      name: 'remediator_approvals_total',
      help: 'Approval requests, and their outcomes (approved, rejected, expired, cancelled; refused: someone not allowed tried), by playbook.',
      labelNames: ['playbook', 'outcome'],
      registers,
    }),
    registry,
    alertsReceived: new Counter({ name: 'remediator_alerts_received_total', help: 'Alerts received in webhook batches, by alert status.', labelNames: ['status'], registers }),
    webhookRequests: new Counter({ name: 'remediator_webhook_requests_total', help: 'Webhook requests answered, by HTTP status code.', labelNames: ['code'], registers }),
    webhookDuration: new Histogram({
      name: 'remediator_webhook_request_duration_seconds',
      help: 'Time to answer a webhook request, including the durable write.',
      labelNames: ['code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    authFailures: new Counter({ name: 'remediator_auth_failures_total', help: 'Requests refused for missing or wrong credentials, by endpoint.', labelNames: ['endpoint'], registers }),
    runs: new Counter({ name: 'remediator_runs_total', help: 'Runs finished, by playbook, outcome and mode.', labelNames: ['playbook', 'outcome', 'mode'], registers }),
    suppressed: new Counter({ name: 'remediator_runs_suppressed_total', help: 'Matched alerts that started no run, by playbook and reason.', labelNames: ['playbook', 'reason'], registers }),
    stepDuration: new Histogram({
      name: 'remediator_step_duration_seconds',
      help: 'Time a step took, retries included, by step kind and outcome.',
      labelNames: ['kind', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    }),
    notifications: new Counter({ name: 'remediator_notifications_total', help: 'Notifications sent or failed, by notifier.', labelNames: ['notifier', 'outcome'], registers }),
    batchesPending: new Gauge({ name: 'remediator_batches_pending', help: 'Webhook batches stored and not yet processed.', registers }),
    reloadSuccessful: new Gauge({ name: 'remediator_config_last_reload_successful', help: 'Whether the last playbook (re)load succeeded (1) or was refused (0).', registers }),
    reloadTimestamp: new Gauge({ name: 'remediator_config_last_reload_success_timestamp_seconds', help: 'When the playbooks were last loaded successfully.', registers }),
    playbooksLoaded: new Gauge({ name: 'remediator_playbooks_loaded', help: 'Playbooks in the active set.', registers }),
  };
}
