/**
 * The one error type of the project. `code` is stable (tests and clients switch on it),
 * `retryable` tells the caller whether the same request could succeed later (it decides 4xx vs 5xx
 * on the webhook, which in turn decides whether Alertmanager retries).
 */
export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'not_found'
  | 'conflict'
  | 'store_unavailable'
  | 'invalid_config'
  | 'invalid_playbook'
  | 'invalid_param'
  | 'template_error'
  | 'audit_broken'
  | 'overloaded'
  | 'internal';

/** An error with a stable code, a retry hint and an optional cause. */
export class RemediatorError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RemediatorError';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** Narrows an unknown thrown value to our error type. */
export function isRemediatorError(err: unknown): err is RemediatorError {
  return err instanceof RemediatorError;
}

/** A message for anything thrown, for logs and stored reasons. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
