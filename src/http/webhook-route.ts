import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { RemediatorError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Receiver } from '../receive/receive-batch.js';
import type { InboundAuth } from './auth.js';
import { bodyGate } from './body-gate.js';
import type { Credentials } from './credentials.js';
import { httpStatus, toRemediatorError } from './error-handler.js';

/** What the webhook route needs. */
export interface WebhookRouteDeps {
  readonly receiver: Receiver;
  readonly auth: InboundAuth;
  readonly credentials: Credentials;
  readonly maxBodyBytes: number;
  /** Bodies read and handled at once (webhook.maxConcurrentBodies); absent: no bound. */
  readonly maxConcurrentBodies?: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * POST /webhook, the HTTP side of the receive stage. Order matters: shutdown first (503, retried),
 * credentials next (nothing is read from a stranger), then the content type, then a turn among
 * the bodies read at once (body-gate.ts), then the size-limited body; the Receiver parses, checks and commits it before the 200. 4xx means "do not
 * retry" to Alertmanager, 503 means "retry": only a store failure or shutdown answers 503.
 */
export function webhookRouter(deps: WebhookRouteDeps): Router {
  const router = express.Router();
  const raw = express.raw({ type: () => true, limit: deps.maxBodyBytes });
  const stopping = (_req: Request, _res: Response, next: NextFunction) => {
    deps.receiver.refuseWhileStopping();
    next();
  };
  const authenticate = deps.auth.require(
    deps.credentials,
    'webhook',
    'missing or wrong credentials: send Authorization: Bearer <token> (or basic auth) with a configured webhook secret',
  );

  const gate = deps.maxConcurrentBodies === undefined ? pass : bodyGate(deps.maxConcurrentBodies);
  router.post('/webhook', timed(deps.metrics), stopping, authenticate, requireJson, gate, raw, async (req: Request, res: Response) => {
    const answer = await deps.receiver.receive({
      body: req.body as Buffer,
      source: { remoteAddress: req.socket.remoteAddress ?? '', userAgent: req.get('user-agent') ?? '' },
    });
    res.status(200).json(answer);
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

function timed(metrics: Metrics) {
  return (_req: Request, res: Response, next: NextFunction) => {
    const end = metrics.webhookDuration.startTimer();
    res.on('finish', () => {
      const code = String(res.statusCode);
      end({ code });
      metrics.webhookRequests.inc({ code });
    });
    next();
  };
}

function pass(_req: Request, _res: Response, next: NextFunction) {
  next();
}

function requireJson(req: Request, _res: Response, next: NextFunction) {
  const type = (req.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/json') return next();
  next(new RemediatorError('unsupported_media_type', `content type must be application/json, got ${type ? JSON.stringify(type) : 'none'}`));
}
