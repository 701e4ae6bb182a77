import express, { type RequestHandler, type Router } from 'express';
import { RemediatorError } from '../domain/errors.js';
import type { Escalations } from '../guards/escalations.js';
import { identityOf } from './auth.js';
import { queryString } from './query-values.js';
import { channelOf as via, objectBody } from './request-body.js';

const NOTE_MAX = 500;

/**
 * GET /api/escalations (open ones; ?all=true the last ones too), GET /api/escalations/:id,
 * POST /api/escalations/:id/clear {"note": "…"} (role operate): the clearing records who and why.
 */
export function escalationRouter(deps: { escalations: Escalations; auth: RequestHandler; operator: RequestHandler }): Router {
  const router = express.Router();
  const json = express.json({ limit: '16kb' });

  router.get('/api/escalations', deps.auth, async (req, res) => {
    const all = queryString(req, 'all');
    if (all !== undefined && all !== 'true' && all !== 'false') throw new RemediatorError('bad_request', 'all must be true or false');
    res.json({ escalations: await deps.escalations.list({ all: all === 'true', limit: 200 }) });
  });

  router.get('/api/escalations/:id', deps.auth, async (req, res) => {
    res.json(await deps.escalations.get(req.params['id'] as string));
  });

  router.post('/api/escalations/:id/clear', deps.auth, deps.operator, json, async (req, res) => {
    const note = req.body === undefined ? undefined : objectBody(req, '{"note": "…"} or no body')['note'];
    if (note !== undefined && (typeof note !== 'string' || note.length > NOTE_MAX)) {
      throw new RemediatorError('bad_request', `"note" must be text of at most ${NOTE_MAX} characters`);
    }
    const id = req.params['id'] as string;
    const cleared = await deps.escalations.clear({ id, by: identityOf(res), via: via(req), note: note ?? '' });
    res.json({ cleared: cleared !== null, escalation: cleared ?? (await deps.escalations.get(id)) });
  });
  return router;
}
