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
  readonly playbooksLoaded: Gauge;
}

/** Creates and registers every metric. */
export function createMetrics(registry: Registry): Metrics {
  const registers = [registry];
  return {
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
    batchesPending: new Gauge({ name: 'remediator_batches_pending', help: 'Webhook batches stored and not yet processed.', registers }),
    playbooksLoaded: new Gauge({ name: 'remediator_playbooks_loaded', help: 'Playbooks in the active set.', registers }),
  };
}
