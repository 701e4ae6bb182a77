import type { Request } from 'express';
import { RemediatorError } from '../domain/errors.js';

/** The User-Agent prefix of `remediator` CLI requests, so events say which channel a change came through. */
export const CLI_USER_AGENT = 'remediator-cli';

/** The JSON object a route expects, or a 400 that shows its shape. */
export function objectBody(req: Request, shape: string): Record<string, unknown> {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RemediatorError('bad_request', `send a JSON object (Content-Type: application/json): ${shape}`);
  }
  return body as Record<string, unknown>;
}

/** Through which channel an authenticated request came: the CLI says so in its User-Agent. */
export function channelOf(req: Request): 'cli' | 'api' {
  return (req.get('user-agent') ?? '').startsWith(CLI_USER_AGENT) ? 'cli' : 'api';
}
