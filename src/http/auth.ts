import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { errorMessage, RemediatorError } from '../domain/errors.js';
import type { AuditLog } from '../domain/store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Credentials } from './credentials.js';
import { FailureThrottle } from './failure-throttle.js';
import { hasRole, RolePolicy, type AuthSource, type Principal, type Role } from './roles.js';

/** The endpoints that authenticate callers: the `endpoint` label of refusals. */
export type AuthEndpoint = 'webhook' | 'api' | 'reload' | 'slack' | 'console';

/** What inbound authentication needs. */
export interface InboundAuthDeps {
  readonly store: AuditLog;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: () => Date;
  /** Who holds which role (absent: every API token identity holds every role, as before roles). */
  readonly roles?: RolePolicy;
}

/**
 * The one place a caller is authenticated and authorised, for every endpoint: a bearer token or
 * basic auth against configured secrets (Credentials), a console session (which resolves its
 * person here too, `principal`), or a Slack signature checked by its route. A refusal is counted,
 * logged and recorded as one `auth.failed` event shape whatever the endpoint, never with the
 * header itself. The trail gets at most one record per endpoint and source per minute, carrying
 * how many refusals went unrecorded before it, so a stranger cannot grow it at will. Roles are
 * checked by `allow`, for the API and the console alike: a refusal is a 403 naming the missing
 * role and an `auth.forbidden` event (not throttled: only authenticated people get that far).
 */
export class InboundAuth {
  private readonly throttle = new FailureThrottle(60_000);
  private readonly roles: RolePolicy;

  constructor(private readonly deps: InboundAuthDeps) {
    this.roles = deps.roles ?? new RolePolicy();
  }

  /** The person an identity is, with the roles the configuration gives it for that source. */
  principal(identity: string, source: AuthSource): Principal {
    return this.roles.principal(identity, source);
  }

  /**
   * Middleware after authentication: the request's person must hold `role`, or the request is
   * refused with a 403 that names the role, recorded as `auth.forbidden`.
   */
  allow(role: Role, endpoint: AuthEndpoint): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const p = principalOf(res);
      if (hasRole(p, role)) {
        next();
        return;
      }
      next(this.forbidden(req, p, role, endpoint));
    };
  }

  /** Records a request refused for a missing role; returns the 403 to answer with. */
  forbidden(req: Request, p: Principal | null, role: Role, endpoint: AuthEndpoint): RemediatorError {
    const { metrics, logger, store } = this.deps;
    const who = p?.identity ?? '(nobody)';
    const held = p && p.roles.length > 0 ? p.roles.join(', ') : 'none';
    metrics.authFailures.inc({ endpoint });
    logger.warn(`${endpoint} refused ${req.method} ${req.path} to ${who}: missing role ${role}`, { endpoint, identity: who, role });
    const data = {
      endpoint,
      identity: who,
      source: p?.source ?? null,
      role,
      held: p?.roles ?? [],
      method: req.method,
      path: req.path,
      remoteAddress: req.socket.remoteAddress ?? '',
    };
    void store.appendEvents([{ kind: 'auth.forbidden', data }]).catch((err: unknown) => {
      logger.error(`recording a forbidden ${endpoint} request failed: ${errorMessage(err)}`);
    });
    return new RemediatorError('forbidden', `${who} lacks the role "${role}" needed for ${req.method} ${req.path} (holds: ${held}); grant it in auth.roles`);
  }

  /**
   * Middleware: the request's Authorization header must carry one of `credentials`' secrets; the
   * identity it maps to is kept for the route (identityOf). `hint` says how to authenticate.
   */
  require(credentials: Credentials, endpoint: AuthEndpoint, hint: string): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const identity = credentials.check(req.get('authorization'));
      if (identity !== null) {
        setPrincipal(res, this.principal(identity, 'token'));
        next();
        return;
      }
      this.refused(req, endpoint, 'missing or wrong credentials');
      next(new RemediatorError('unauthorized', hint));
    };
  }

  /**
   * Counts, logs and records (throttled) one refused request. Never throws, never waits. `topic`
   * keeps kinds of refusal of one endpoint apart in the throttle (the console's sign-in, CSRF and
   * proxy-header refusals), so one kind never hides the first record of another.
   */
  refused(req: Request, endpoint: AuthEndpoint, reason: string, topic = ''): void {
    const { metrics, logger, store, clock } = this.deps;
    const remoteAddress = req.socket.remoteAddress ?? '';
    // Only whether a header was sent: never the header itself.
    const hadAuthorization = req.get('authorization') !== undefined;
    metrics.authFailures.inc({ endpoint });
    logger.warn(`${endpoint} refused: ${reason}`, { endpoint, remoteAddress, hadAuthorization });
    const admitted = this.throttle.admit(`${endpoint} ${topic} ${remoteAddress}`, clock().getTime());
    if (admitted === null) return;
    const data = { endpoint, remoteAddress, reason, hadAuthorization, earlierUnrecorded: admitted.unrecorded };
    void store.appendEvents([{ kind: 'auth.failed', data }]).catch((err: unknown) => {
      logger.error(`recording a refused ${endpoint} request failed: ${errorMessage(err)}`);
    });
  }
}

/** The identity a request authenticated as (set by InboundAuth.require or the console's session). */
export function identityOf(res: Response): string {
  return String(res.locals['identity'] ?? '');
}

/** The person a request authenticated as, with their roles; null before authentication. */
export function principalOf(res: Response): Principal | null {
  return (res.locals['principal'] as Principal | undefined) ?? null;
}

/** Keeps the authenticated person for the routes (and identityOf). */
export function setPrincipal(res: Response, p: Principal): void {
  res.locals['principal'] = p;
  res.locals['identity'] = p.identity;
}
