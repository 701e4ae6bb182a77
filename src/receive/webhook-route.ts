import express, { type Request, type Response, type NextFunction, type Router } from 'express';
import { RemediatorError } from '../domain/errors.js';
import type { Store } from '../domain/store.js';
import type { Credentials } from '../http/credentials.js';
import { httpStatus, toRemediatorError } from '../http/error-handler.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { FailureThrottle } from './failure-throttle.js';
import { parseWebhookPayload } from './webhook-schema.js';

/** What the webhook route needs. */
export interface WebhookDeps {
  readonly store: Store;
  readonly credentials: Credentials;
  readonly maxBodyBytes: number;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Called after a batch is stored and answered. */
  readonly onStored: (batchId: string) => void;
  /** While true, webhooks are answered 503 so Alertmanager delivers them again later. */
  readonly isShuttingDown?: () => boolean;
}

/**
 * POST /webhook. Order matters: credentials first (nothing is read from a stranger), then the
 * content type, then the size-limited body, then the schema; the batch is committed to the store
 * before the 200, and the work starts after it. 4xx means "do not retry" to Alertmanager, 503
 * means "retry": only a store failure answers 503.
 */
export function webhookRouter(deps: WebhookDeps): Router {
  const router = express.Router();
  const raw = express.raw({ type: () => true, limit: deps.maxBodyBytes });

  router.post('/webhook', timed(deps), refuseWhileStopping(deps), authenticate(deps), requireJson, raw, async (req: Request, res: Response) => {
    const body = req.body as Buffer;
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new RemediatorError('bad_request', `body is not JSON: ${(err as Error).message}`);
    }
    const parsed = parseWebhookPayload(json);
    if (!parsed.ok) throw new RemediatorError('bad_request', parsed.reason);
    const { payload, alerts } = parsed;
    const id = await deps.store.saveBatch({
      receivedAt: deps.clock(),
      receiver: payload.receiver,
      status: payload.status,
      groupKey: payload.groupKey,
      alertCount: alerts.length,
      payload: json,
      source: { remoteAddress: req.socket.remoteAddress ?? '', userAgent: req.get('user-agent') ?? '' },
    });
    for (const alert of alerts) deps.metrics.alertsReceived.inc({ status: alert.status });
    deps.logger.info(`batch ${id} stored: ${alerts.length} alert(s) from ${payload.receiver || 'unknown receiver'}`, {
      batchId: id,
      groupKey: payload.groupKey,
      truncatedAlerts: payload.truncatedAlerts,
    });
    res.status(200).json({ status: 'stored', batch: id, alerts: alerts.length });
    deps.onStored(id);
  });
  // A refused delivery is an alert Alertmanager will not send again: say so in our own log too.
  router.use('/webhook', (err: unknown, req: Request, _res: Response, next: NextFunction) => {
    const e = toRemediatorError(err);
    if (e.code !== 'unauthorized' && httpStatus(e) < 500) {
      deps.logger.warn(`webhook refused (${httpStatus(e)}): ${e.message}`, {
        code: e.code,
        remoteAddress: req.socket.remoteAddress ?? '',
        userAgent: req.get('user-agent') ?? '',
      });
    }
    next(e);
  });
  return router;
}

function timed(deps: WebhookDeps) {
  return (_req: Request, res: Response, next: NextFunction) => {
    const end = deps.metrics.webhookDuration.startTimer();
    res.on('finish', () => {
      const code = String(res.statusCode);
      end({ code });
      deps.metrics.webhookRequests.inc({ code });
    });
    next();
  };
}

function refuseWhileStopping(deps: WebhookDeps) {
  return (_req: Request, _res: Response, next: NextFunction) => {
    if (deps.isShuttingDown?.()) {
      next(new RemediatorError('store_unavailable', 'remediator is shutting down: deliver this again later', { retryable: true }));
      return;
    }
    next();
  };
}

function authenticate(deps: WebhookDeps) {
  // Every refusal is counted and logged; the audit trail gets one record per source per minute.
  const throttle = new FailureThrottle(60_000);
  return (req: Request, _res: Response, next: NextFunction) => {
    if (deps.credentials.check(req.get('authorization')) !== null) return next();
    deps.metrics.authFailures.inc({ endpoint: 'webhook' });
    const remote = req.socket.remoteAddress ?? '';
    // The header itself is never logged or stored: only whether one was sent.
    deps.logger.warn('webhook refused: missing or wrong credentials', { remoteAddress: remote, hadAuthorization: req.get('authorization') !== undefined });
    const admitted = throttle.admit(remote, deps.clock().getTime());
    if (admitted) {
      const data = {
        endpoint: 'webhook',
        remoteAddress: remote,
        hadAuthorization: req.get('authorization') !== undefined,
        earlierUnrecorded: admitted.unrecorded,
      };
      void deps.store.appendEvents([{ kind: 'auth.failed', data }]).catch((err: unknown) => {
        deps.logger.error(`recording a refused webhook failed: ${(err as Error).message}`);
      });
    }
    next(
      new RemediatorError('unauthorized', 'missing or wrong credentials: send Authorization: Bearer <token> (or basic auth) with a configured webhook secret'),
    );
  };
}

function requireJson(req: Request, _res: Response, next: NextFunction) {
  const type = (req.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/json') return next();
  next(new RemediatorError('unsupported_media_type', `content type must be application/json, got ${type ? JSON.stringify(type) : 'none'}`));
}
