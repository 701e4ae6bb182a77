import express, { type Express, type Router } from 'express';
import { RemediatorError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { apiRouter, type ApiDeps } from './api-routes.js';
import type { InboundAuth } from './auth.js';
import type { Credentials } from './credentials.js';
import { errorHandler } from './error-handler.js';
import { guardRouter, type GuardRouteDeps } from './guard-routes.js';
import { healthRouter } from './health-routes.js';
import type { StoreHealth } from '../record/store-health.js';
import type { Role } from './roles.js';
import { runRouter, type RunRouteDeps } from './run-routes.js';
import { slackRouter, type SlackRouteDeps } from './slack-routes.js';
import { webhookRouter, type WebhookRouteDeps } from './webhook-route.js';

/** How an API caller authenticates, for every 401 of the API. */
const API_HINT = 'missing or wrong API token: send Authorization: Bearer <token> with a token from REMEDIATOR_API_TOKENS';

/** Everything the HTTP surface needs: each adapter's own parts, and what they share. */
export interface AppDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Authenticates every endpoint and records its refusals. */
  readonly auth: InboundAuth;
  /** What readiness knows of the store's recent writes (absent: the probe alone). */
  readonly storeHealth?: StoreHealth;
  readonly webhook: Omit<WebhookRouteDeps, 'auth' | 'logger' | 'metrics'>;
  /** The API tokens (REMEDIATOR_API_TOKENS): their identities are who acts. */
  readonly apiCredentials: Credentials;
  readonly api: Omit<ApiDeps, 'authenticate' | 'authenticateReload' | 'authorize'>;
  /** Pause and circuit routes (absent: not served). */
  readonly guards?: Omit<GuardRouteDeps, 'authenticate' | 'authorize'>;
  /** Approve, reject and cancel (absent: not served). */
  readonly runs?: Omit<RunRouteDeps, 'authenticate' | 'authorize'>;
  /** Slack's approve and reject buttons (absent: not served). */
  readonly slack?: Omit<SlackRouteDeps, 'auth' | 'logger'>;
  /** The web console and the root's redirect to it (src/http/console/; absent: not served). */
  readonly console?: Router;
}

/**
 * Builds the express app: the transport adapters (webhook, API, Slack, console, health and metrics) over
 * the stages, one authentication for all of them, one error handler.
 */
export function createApp(deps: AppDeps): Express {
  const { auth, logger, metrics } = deps;
  const authenticate = auth.require(deps.apiCredentials, 'api', API_HINT);
  const authorize = (role: Role) => auth.allow(role, 'api');
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(webhookRouter({ ...deps.webhook, auth, logger, metrics }));
  app.use(healthRouter({ store: deps.api.store, metrics, playbooks: deps.api.playbooks, ...(deps.storeHealth ? { storeHealth: deps.storeHealth } : {}) }));
  app.use(apiRouter({ ...deps.api, authenticate, authorize, authenticateReload: auth.require(deps.apiCredentials, 'reload', API_HINT) }));
  if (deps.guards) app.use(guardRouter({ ...deps.guards, authenticate, authorize }));
  if (deps.runs) app.use(runRouter({ ...deps.runs, authenticate, authorize }));
  if (deps.slack) app.use(slackRouter({ ...deps.slack, auth, logger }));
  if (deps.console) app.use(deps.console);
  app.use((req, _res, next) => next(new RemediatorError('not_found', `no route for ${req.method} ${req.path}`)));
  app.use(errorHandler(logger));
  return app;
}
