import express, { type Express } from 'express';
import { RemediatorError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import { webhookRouter, type WebhookDeps } from '../receive/webhook-route.js';
import { apiRouter, type ApiDeps } from './api-routes.js';
import { errorHandler } from './error-handler.js';
import { guardRouter, type GuardRouteDeps } from './guard-routes.js';
import { healthRouter } from './health-routes.js';
import { runRouter, type RunRouteDeps } from './run-routes.js';
import { slackRouter, type SlackRouteDeps } from './slack-routes.js';

/** Everything the HTTP surface needs. */
export interface AppDeps {
  readonly webhook: WebhookDeps;
  readonly api: ApiDeps;
  /** Pause and circuit routes (absent: not served). */
  readonly guards?: GuardRouteDeps;
  /** Approve, reject and cancel (absent: not served). */
  readonly runs?: RunRouteDeps;
  /** Slack's approve and reject buttons (absent: not served). */
  readonly slack?: SlackRouteDeps;
  readonly logger: Logger;
}

/** Builds the express app: webhook, API, health and metrics, one error handler. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(webhookRouter(deps.webhook));
  app.use(healthRouter({ store: deps.api.store, metrics: deps.api.metrics, playbooks: deps.api.playbooks }));
  app.use(apiRouter(deps.api));
  if (deps.guards) app.use(guardRouter(deps.guards));
  if (deps.runs) app.use(runRouter(deps.runs));
  if (deps.slack) app.use(slackRouter(deps.slack));
  app.use((req, _res, next) => next(new RemediatorError('not_found', `no route for ${req.method} ${req.path}`)));
  app.use(errorHandler(deps.logger));
  return app;
}
