import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { Verdict } from '../domain/approval.js';
import { RemediatorError } from '../domain/errors.js';
import type { Storms } from '../guards/storms.js';
import { identityOf } from './auth.js';
import { queryString } from './query-values.js';
import { channelOf, objectBody } from './request-body.js';

const COMMENT_MAX = 500;

/**
 * GET /api/storms (the open one; ?all=true the last ones too), GET /api/storms/:id (with its
 * runs), POST /api/storms/:id/approve and /reject {"comment": "…", "upTo": "…"} (role approve):
 * every run of the storm held by it (created by `upTo`, when given) is decided, each recorded with
 * who decided.
 */
export function stormRouter(deps: { storms: Storms; auth: RequestHandler; approver: RequestHandler }): Router {
  const router = express.Router();
  const json = express.json({ limit: '16kb' });

  router.get('/api/storms', deps.auth, async (req, res) => {
    const all = queryString(req, 'all');
    if (all !== undefined && all !== 'true' && all !== 'false') throw new RemediatorError('bad_request', 'all must be true or false');
    res.json({ storms: await deps.storms.list({ all: all === 'true', limit: 200 }) });
  });

  router.get('/api/storms/:id', deps.auth, async (req, res) => {
    res.json(await deps.storms.get(req.params['id'] as string));
  });

  const verdict = (v: Verdict) => async (req: Request, res: Response) => {
    const comment = req.body === undefined ? undefined : objectBody(req, '{"comment": "…"} or no body')['comment'];
    if (comment !== undefined && comment !== null && (typeof comment !== 'string' || comment.length > COMMENT_MAX)) {
      throw new RemediatorError('bad_request', `"comment" must be text of at most ${COMMENT_MAX} characters`);
    }
    const text = typeof comment === 'string' && comment.trim() !== '' ? comment.trim() : null;
    const upTo = req.body === undefined ? undefined : objectBody(req, '{"comment": "…", "upTo": "…"} or no body')['upTo'];
    if (upTo !== undefined && (typeof upTo !== 'string' || Number.isNaN(Date.parse(upTo)))) {
      throw new RemediatorError('bad_request', '"upTo" must be a time (the newest held run you saw was created at it): runs created later are not decided');
    }
    const result = await deps.storms.decideAll({
      id: req.params['id'] as string,
      verdict: v,
      who: { id: identityOf(res), via: channelOf(req) },
      comment: text,
      ...(upTo !== undefined ? { upTo } : {}),
    });
    res.json({ storm: result.storm, decided: result.decided, refused: result.refused });
  };
  router.post('/api/storms/:id/approve', deps.auth, deps.approver, json, verdict('approve'));
  router.post('/api/storms/:id/reject', deps.auth, deps.approver, json, verdict('reject'));
  return router;
}
