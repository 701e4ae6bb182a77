import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { errorMessage, RemediatorError } from '../domain/errors.js';
import type { AuditLog } from '../domain/store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Credentials } from './credentials.js';
import { FailureThrottle } from './failure-throttle.js';

/** The endpoints that authenticate callers: the `endpoint` label of refusals. */
export type AuthEndpoint = 'webhook' | 'api' | 'reload' | 'slack';

/** What inbound authentication needs. */
export interface InboundAuthDeps {
  readonly store: AuditLog;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: () => Date;
}

/**
 * The one place a caller is authenticated, for every endpoint: a bearer token or basic auth
 * against configured secrets (Credentials), or a Slack signature checked by its route. A refusal
 * is counted, logged and recorded as one `auth.failed` event shape whatever the endpoint, never
 * with the header itself. The trail gets at most one record per endpoint and source per minute,
 * carrying how many refusals went unrecorded before it, so a stranger cannot grow it at will.
 */
export class InboundAuth {
  private readonly throttle = new FailureThrottle(60_000);

  constructor(private readonly deps: InboundAuthDeps) {}

  /**
   * Middleware: the request's Authorization header must carry one of `credentials`' secrets; the
   * identity it maps to is kept for the route (identityOf). `hint` says how to authenticate.
   */
  require(credentials: Credentials, endpoint: AuthEndpoint, hint: string): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const identity = credentials.check(req.get('authorization'));
      if (identity !== null) {
        res.locals['identity'] = identity;
        next();
        return;
      }
      this.refused(req, endpoint, 'missing or wrong credentials');
      next(new RemediatorError('unauthorized', hint));
    };
  }

  /** Counts, logs and records (throttled) one refused request. Never throws, never waits. */
  refused(req: Request, endpoint: AuthEndpoint, reason: string): void {
    const { metrics, logger, store, clock } = this.deps;
    const remoteAddress = req.socket.remoteAddress ?? '';
    // Only whether a header was sent: never the header itself.
    const hadAuthorization = req.get('authorization') !== undefined;
    metrics.authFailures.inc({ endpoint });
    logger.warn(`${endpoint} refused: ${reason}`, { endpoint, remoteAddress, hadAuthorization });
    const admitted = this.throttle.admit(`${endpoint} ${remoteAddress}`, clock().getTime());
    if (admitted === null) return;
    const data = { endpoint, remoteAddress, reason, hadAuthorization, earlierUnrecorded: admitted.unrecorded };
    void store.appendEvents([{ kind: 'auth.failed', data }]).catch((err: unknown) => {
      logger.error(`recording a refused ${endpoint} request failed: ${errorMessage(err)}`);
    });
  }
}

/** The identity a request authenticated as (set by InboundAuth.require). */
export function identityOf(res: Response): string {
  return String(res.locals['identity'] ?? '');
}
