import express, { type RequestHandler, type Router } from 'express';
import { parseDuration } from '../domain/duration.js';
import { RemediatorError } from '../domain/errors.js';
import type { Escalations } from '../guards/escalations.js';
import type { GuardSwitches } from '../guards/guard-switches.js';
import { escalationRouter } from './escalation-routes.js';
import type { Storms } from '../guards/storms.js';
import { stormRouter } from './storm-routes.js';
import { identityOf } from './auth.js';
import { channelOf as via, objectBody } from './request-body.js';
import type { Role } from './roles.js';

/** What the pause and circuit routes need. */
export interface GuardRouteDeps {
  readonly switches: GuardSwitches;
  /** Escalations: listed, and cleared by a person (absent: not served). */
  readonly escalations?: Escalations;
  /** Storms: listed, and their held runs decided together (absent: not served). */
  readonly storms?: Storms;
  /** Authenticates API callers (InboundAuth.require with the API tokens). */
  readonly authenticate: RequestHandler;
  /** Requires a role of the authenticated caller (InboundAuth.allow). */
  readonly authorize: (role: Role) => RequestHandler;
}

const NOTE_MAX = 500;

/**
 * GET/POST /api/pause, POST /api/resume, GET /api/circuit, POST /api/circuit/close. Every route
 * needs an API token, changes the role operate; they record the token's identity and the channel
 * (api or cli).
 */
export function guardRouter(deps: GuardRouteDeps): Router {
  const router = express.Router();
  const auth = deps.authenticate;
  const json = express.json({ limit: '16kb' });
  const operator = deps.authorize('operate');

  router.get('/api/pause', auth, async (_req, res) => {
    const s = await deps.switches.status();
    res.json({ now: s.now, paused: s.paused, pause: s.pause });
  });

  router.post('/api/pause', auth, operator, json, async (req, res) => {
    const body = objectBody(req, '{"for": "2h", "reason": "…"}');
    const forText = body['for'];
    const reason = body['reason'];
    if (typeof forText !== 'string' || parseDuration(forText) === undefined) {
      throw new RemediatorError('bad_request', '"for" must be a duration such as 30m or 2h');
    }
    if (typeof reason !== 'string' || reason.trim() === '') throw new RemediatorError('bad_request', '"reason" must say why remediation is paused');
    if (reason.length > NOTE_MAX) throw new RemediatorError('bad_request', `"reason" must be at most ${NOTE_MAX} characters`);
    const pause = await deps.switches.pause({ by: identityOf(res), forMs: parseDuration(forText) ?? 0, reason, via: via(req) });
    res.json({ paused: true, pause });
  });

  router.post('/api/resume', auth, operator, async (req, res) => {
    const lifted = await deps.switches.resume({ by: identityOf(res), via: via(req) });
    res.json({ resumed: lifted !== null, pause: lifted ?? (await deps.switches.status()).pause });
  });

  router.get('/api/circuit', auth, async (_req, res) => {
    const s = await deps.switches.status();
    res.json({ now: s.now, open: s.circuitOpen, circuit: s.circuit, budget: s.budget });
  });

  router.post('/api/circuit/close', auth, operator, json, async (req, res) => {
    const note = req.body === undefined ? undefined : objectBody(req, '{"note": "…"} or no body')['note'];
    if (note !== undefined && (typeof note !== 'string' || note.length > NOTE_MAX)) {
      throw new RemediatorError('bad_request', `"note" must be text of at most ${NOTE_MAX} characters`);
    }
    const closed = await deps.switches.closeCircuit({ by: identityOf(res), via: via(req), note: note ?? '' });
    res.json({ closed: closed !== null, circuit: closed ?? (await deps.switches.status()).circuit });
  });
  if (deps.escalations) router.use(escalationRouter({ escalations: deps.escalations, auth, operator }));
  if (deps.storms) router.use(stormRouter({ storms: deps.storms, auth, approver: deps.authorize('approve') }));
  return router;
}
