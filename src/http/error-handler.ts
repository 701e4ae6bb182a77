import type { ErrorRequestHandler } from 'express';
import { RemediatorError, type ErrorCode } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  store_unavailable: 503,
  overloaded: 503,
  invalid_config: 500,
  audit_broken: 500,
  invalid_playbook: 500,
  invalid_param: 400,
  template_error: 500,
  internal: 500,
};

/** The HTTP status for an error code: the one place that maps them. */
export function httpStatus(err: RemediatorError): number {
  return STATUS[err.code];
}

/** Normalises anything thrown (ours, body-parser's, a bug) into a RemediatorError. */
export function toRemediatorError(err: unknown): RemediatorError {
  if (err instanceof RemediatorError) return err;
  const e = err as { type?: string; status?: number; message?: string; limit?: number };
  if (e.type === 'entity.too.large') {
    return new RemediatorError(
      'payload_too_large',
      `body is larger than the limit of ${e.limit ?? '?'} bytes: raise webhook.maxBodyBytes (REMEDIATOR_WEBHOOK_MAX_BODY_BYTES), or set max_alerts in Alertmanager's webhook_config`,
      { cause: err },
    );
  }
  if (e.type === 'request.aborted') return new RemediatorError('bad_request', 'the request was aborted before its body arrived', { cause: err });
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return new RemediatorError('bad_request', e.message ?? 'bad request', { cause: err });
  return new RemediatorError('internal', 'internal error', { cause: err });
}

/** Answers errors as JSON `{error: {code, message}}` and logs the ones that are ours to fix. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const e = toRemediatorError(err);
    const status = httpStatus(e);
    if (status >= 500) logger.error(`${req.method} ${req.path}: ${e.message}`, { code: e.code, cause: e.cause instanceof Error ? e.cause.message : undefined });
    if (res.headersSent) return;
    if (e.retryable) res.setHeader('Retry-After', '5');
    res.status(status).json({ error: { code: e.code, message: e.message } });
  };
}
