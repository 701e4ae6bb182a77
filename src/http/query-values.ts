import type { Request } from 'express';
import { parseDuration } from '../domain/duration.js';
import { RemediatorError } from '../domain/errors.js';

/** A query parameter given once, as text; 400 when it is repeated or structured. */
export function queryString(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new RemediatorError('bad_request', `${name} must be given once, as text`);
  return v;
}

/** An ISO 8601 time, or a duration back from `now` ("24h"), as the ISO text events are stored with. */
export function instant(text: string | undefined, name: string, now: Date): string | undefined {
  if (text === undefined) return undefined;
  const ago = parseDuration(text);
  const ms = ago !== undefined ? now.getTime() - ago : Date.parse(text);
  if (Number.isNaN(ms)) throw new RemediatorError('bad_request', `${name} must be an ISO 8601 time (2026-11-28T03:00:00Z) or a duration back from now (24h)`);
  return new Date(ms).toISOString();
}
