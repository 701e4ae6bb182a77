import { RemediatorError } from '../domain/errors.js';
import type { BatchStore } from '../domain/store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { depthProblem, utf8Problem } from './body-checks.js';
import { parseWebhookPayload } from './webhook-schema.js';

/** A webhook body as it arrived, and facts about its sender (never credentials). */
export interface Delivery {
  readonly body: Buffer;
  readonly source: { readonly remoteAddress: string; readonly userAgent: string };
}

/** What receiving needs. */
export interface ReceiveDeps {
  readonly store: BatchStore;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Called once the batch is stored: the next stage picks it up (after the answer is written). */
  readonly onStored: (batchId: string) => void;
  /** While true, deliveries are refused as retryable, so Alertmanager delivers them again later. */
  readonly isShuttingDown?: () => boolean;
}

/** What became of a stored delivery: the answer's body. */
export interface Received {
  readonly status: 'stored';
  readonly batch: string;
  readonly alerts: number;
}

/**
 * The receive stage, transport aside: body bytes in, checked (UTF-8, nesting depth:
 * body-checks.ts), parsed, checked against Alertmanager's payload schema, committed durably, then
 * the next stage kicked. Malformed input is a `bad_request` (never retried); only a store failure
 * or shutdown is retryable. The kick is cheap: the worker starts on the next turn of the event
 * loop, after the caller has answered.
 */
export class Receiver {
  constructor(private readonly deps: ReceiveDeps) {}

  /** True while deliveries are being refused because the daemon is stopping. */
  get stopping(): boolean {
    return this.deps.isShuttingDown?.() ?? false;
  }

  /** Refuses a delivery that arrives while the daemon stops (before anything else is read). */
  refuseWhileStopping(): void {
    if (this.stopping) throw new RemediatorError('store_unavailable', 'remediator is shutting down: deliver this again later', { retryable: true });
  }

  async receive(delivery: Delivery): Promise<Received> {
    const { store, clock, metrics, logger } = this.deps;
    this.refuseWhileStopping();
    // Bytes first: invalid UTF-8 would be stored lossily, and nesting past any payload's is refused
    // before the parser or the store meets it.
    const problem = utf8Problem(delivery.body) ?? depthProblem(delivery.body);
    if (problem !== null) throw new RemediatorError('bad_request', problem);
    let json: unknown;
    try {
      json = JSON.parse(delivery.body.toString('utf8'));
    } catch (err) {
      throw new RemediatorError('bad_request', `body is not JSON: ${(err as Error).message}`);
    }
    const parsed = parseWebhookPayload(json);
    if (!parsed.ok) throw new RemediatorError('bad_request', parsed.reason);
    const { payload, alerts } = parsed;
    const id = await store.saveBatch({
      receivedAt: clock(),
      receiver: payload.receiver,
      status: payload.status,
      groupKey: payload.groupKey,
      alertCount: alerts.length,
      payload: json,
      source: { ...delivery.source },
    });
    for (const alert of alerts) metrics.alertsReceived.inc({ status: alert.status });
    logger.info(`batch ${id} stored: ${alerts.length} alert(s) from ${payload.receiver || 'unknown receiver'}`, {
      batchId: id,
      groupKey: payload.groupKey,
      truncatedAlerts: payload.truncatedAlerts,
    });
    this.deps.onStored(id);
    return { status: 'stored', batch: id, alerts: alerts.length };
  }
}
