import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { ApprovalResult, ApprovalService } from '../approve/approval-service.js';
import type { Verdict } from '../domain/approval.js';
import { RemediatorError } from '../domain/errors.js';
import { identityOf } from './auth.js';
import { channelOf, objectBody } from './request-body.js';
import type { Role } from './roles.js';

/** What the approve, reject and cancel routes need. */
export interface RunRouteDeps {
  readonly approvals: ApprovalService;
  /** Authenticates API callers (InboundAuth.require with the API tokens). */
  readonly authenticate: RequestHandler;
  /** Requires a role of the authenticated caller (InboundAuth.allow). */
  readonly authorize: (role: Role) => RequestHandler;
}

const COMMENT_MAX = 1000;

/**
 * POST /api/runs/:id/approve, /reject and /cancel. The bearer token's identity is who decided;
 * the body may carry a comment and the `seq` of the request decided (approve, reject) or a reason
 * (cancel). Approving and rejecting need the role approve, cancelling the role operate. Answers
 * 200 with the run as it is now; 403 for someone without the role or whom the playbook does not allow; 409, saying what happened instead,
 * when the run is no longer held (already decided, expired, cancelled by a resolve).
 */
export function runRouter(deps: RunRouteDeps): Router {
  const router = express.Router();
  const auth = deps.authenticate;
  const json = express.json({ limit: '16kb' });

  const verdictRoute = (verdict: Verdict) => async (req: Request, res: Response) => {
    const comment = note(req, 'comment');
    const seq: unknown = req.body === undefined ? undefined : objectBody(req, '{"comment": "…", "seq": 1}')['seq'];
    if (seq !== undefined && (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 1))
      throw new RemediatorError('bad_request', '"seq" must be the number of the approval request you decide (1, 2, …)');
    const result = await deps.approvals.decide(String(req.params['id']), verdict, { id: identityOf(res), via: channelOf(req) }, comment, seq);
    answer(res, result);
  };
  const approver = deps.authorize('approve');
  router.post('/api/runs/:id/approve', auth, approver, json, verdictRoute('approve'));
  router.post('/api/runs/:id/reject', auth, approver, json, verdictRoute('reject'));
  router.post('/api/runs/:id/cancel', auth, deps.authorize('operate'), json, async (req, res) => {
    const reason = note(req, 'reason');
    const result = await deps.approvals.cancel(String(req.params['id']), { id: identityOf(res), via: channelOf(req) }, reason ?? '');
    answer(res, result);
  });
  return router;
}

function note(req: Request, name: string): string | null {
  if (req.body === undefined) return null;
  const value = objectBody(req, `{"${name}": "…"} or no body`)[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > COMMENT_MAX)
    throw new RemediatorError('bad_request', `"${name}" must be text of at most ${COMMENT_MAX} characters`);
  return value.trim() === '' ? null : value.trim();
}

function answer(res: Response, result: ApprovalResult): void {
  if (result.ok) {
    res.json({ message: result.message, run: result.run });
    return;
  }
  if (result.code === 'unavailable') throw new RemediatorError('store_unavailable', result.message, { retryable: true });
  throw new RemediatorError(result.code, result.message);
}
