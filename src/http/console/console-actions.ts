import express, { type Request, type Response, type Router } from 'express';
import type { ApprovalResult } from '../../approve/approval-service.js';
import type { Identity } from '../../domain/approval.js';
import { parseDuration } from '../../domain/duration.js';
import { errorMessage, RemediatorError } from '../../domain/errors.js';
import { verifyStoreChain } from '../../record/audit-verify.js';
import type { InboundAuth } from '../auth.js';
import { principalOf } from '../auth.js';
import { httpStatus, toRemediatorError } from '../error-handler.js';
import type { ConsoleDeps } from './console-deps.js';
import { guardsView, runView, type ConsoleMemory } from './console-pages.js';
import { renderPage } from './render.js';

const NOTE_MAX = 1000;

/**
 * The console's state-changing requests: form posts (parsed, and their CSRF token checked, by the
 * console's router before they get here), through the
 * same ApprovalService and GuardSwitches as the API, under the same roles (InboundAuth.allow).
 * Success redirects (303) to the page with a fixed notice; a refusal renders the page again with
 * the service's message and its status (403, 409, …).
 */
export function consoleActions(deps: ConsoleDeps, inbound: InboundAuth, memory: ConsoleMemory): Router {
  const router = express.Router();
  const role = (r: 'view' | 'approve' | 'operate') => inbound.allow(r, 'console');
  const who = (res: Response): Identity => ({ id: principalOf(res)?.identity ?? '', via: 'console' });

  const onRun = (decide: (req: Request, res: Response, id: string) => Promise<ApprovalResult>, done: (r: ApprovalResult) => string) => {
    return async (req: Request, res: Response) => {
      const id = String(req.params['id']);
      const result = await decide(req, res, id);
      if (result.ok) {
        res.redirect(303, `/console/runs/${encodeURIComponent(id)}?done=${done(result)}`);
        return;
      }
      const status = result.code === 'unavailable' ? 503 : result.code === 'not_found' ? 404 : result.code === 'forbidden' ? 403 : 409;
      const run = result.run ?? (await deps.store.getRun(id));
      if (!run) throw new RemediatorError('not_found', result.message);
      await renderPage(deps, res, {
        title: run.playbook,
        section: 'runs',
        status,
        content: runView(deps, res, run),
        notice: { kind: 'error', text: result.message },
      });
    };
  };
  const verdict = (v: 'approve' | 'reject') =>
    onRun(
      (req, res, id) => deps.approvals.decide(id, v, who(res), note(req, 'comment'), seqOf(req)),
      () => (v === 'approve' ? 'approved' : 'rejected'),
    );
  router.post('/console/runs/:id/approve', role('approve'), verdict('approve'));
  router.post('/console/runs/:id/reject', role('approve'), verdict('reject'));
  router.post(
    '/console/runs/:id/cancel',
    role('operate'),
    onRun(
      (req, res, id) => deps.approvals.cancel(id, who(res), note(req, 'reason') ?? ''),
      (r) => (r.ok && r.run.state === 'running' ? 'cancelling' : 'cancelled'),
    ),
  );

  const onGuards = (act: (req: Request, res: Response) => Promise<string>) => async (req: Request, res: Response) => {
    let done: string;
    try {
      done = await act(req, res);
    } catch (err) {
      const e = toRemediatorError(err);
      if (httpStatus(e) >= 500) throw e;
      await renderPage(deps, res, {
        title: 'Guards',
        section: 'guards',
        status: httpStatus(e),
        content: await guardsView(deps, res, memory),
        notice: { kind: 'error', text: e.message },
      });
      return;
    }
    res.redirect(303, `/console/guards?done=${done}${done === 'reloaded' ? '#reload' : ''}`);
  };
  router.post(
    '/console/guards/pause',
    role('operate'),
    onGuards(async (req, res) => {
      const body = req.body as Record<string, unknown>;
      const forMs = typeof body['for'] === 'string' ? parseDuration(body['for'].trim()) : undefined;
      if (forMs === undefined) throw new RemediatorError('bad_request', 'for must be a duration such as 30m or 2h');
      await deps.switches.pause({ by: who(res).id, forMs, reason: note(req, 'reason') ?? '', via: 'console' });
      return 'paused';
    }),
  );
  router.post(
    '/console/guards/resume',
    role('operate'),
    onGuards(async (_req, res) => ((await deps.switches.resume({ by: who(res).id, via: 'console' })) ? 'resumed' : 'not-paused')),
  );
  router.post(
    '/console/guards/circuit/close',
    role('operate'),
    onGuards(async (req, res) =>
      (await deps.switches.closeCircuit({ by: who(res).id, via: 'console', note: note(req, 'note') ?? '' })) ? 'closed' : 'not-open',
    ),
  );
  router.post(
    '/console/guards/storms/:id/:verdict',
    role('approve'),
    onGuards(async (req, res) => {
      const v = req.params['verdict'];
      if ((v !== 'approve' && v !== 'reject') || !deps.storms) throw new RemediatorError('not_found', 'no such storm action');
      const upTo = note(req, 'upTo');
      await deps.storms.decideAll({ id: String(req.params['id']), verdict: v, who: who(res), comment: note(req, 'comment'), ...(upTo ? { upTo } : {}) });
      return v === 'approve' ? 'storm-approved' : 'storm-rejected';
    }),
  );
  router.post(
    '/console/guards/escalations/:id/clear',
    role('operate'),
    onGuards(async (req, res) => {
      if (!deps.escalations) throw new RemediatorError('not_found', 'escalations are not served here');
      const cleared = await deps.escalations.clear({ id: String(req.params['id']), by: who(res).id, via: 'console', note: note(req, 'note') ?? '' });
      return cleared ? 'escalation-cleared' : 'escalation-not-open';
    }),
  );
  router.post(
    '/console/guards/reload',
    role('operate'),
    onGuards(async (_req, res) => {
      const at = deps.clock().toISOString();
      const by = who(res).id;
      const r = await deps.reload();
      memory.lastReload = r.ok
        ? {
            at,
            by,
            ok: true,
            summary: `${r.playbooks} playbook(s) active; added ${list(r.added)}, removed ${list(r.removed)}, changed ${list(r.changed)}${heldText(r.heldRuns)}`,
            errors: [],
          }
        : { at, by, ok: false, summary: `refused: the previous set stays active (${r.errors.length} error(s))`, errors: r.errors };
      deps.logger.info(`playbook reload from the console by ${by}: ${memory.lastReload.summary}`, { by });
      return 'reloaded';
    }),
  );

  router.post('/console/audit/verify', role('view'), async (_req, res) => {
    const started = Date.now();
    const verdict = await verifyStoreChain(deps.store).catch((err: unknown) => {
      throw new RemediatorError('store_unavailable', `verify could not read the trail: ${errorMessage(err)}`, { cause: err });
    });
    memory.lastVerify = { at: deps.clock().toISOString(), by: who(res).id, verdict, tookMs: Date.now() - started };
    res.redirect(303, '/console/audit?done=verified');
  });
  return router;
}

function note(req: Request, name: string): string | null {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > NOTE_MAX) throw new RemediatorError('bad_request', `${name} must be text of at most ${NOTE_MAX} characters`);
  return value.trim() === '' ? null : value.trim();
}

function seqOf(req: Request): number | undefined {
  const value = (req.body as Record<string, unknown> | undefined)?.['seq'];
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new RemediatorError('bad_request', 'seq must be the number of the approval request you decide');
  return n;
}

function list(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.join(', ');
}

/** What a reload did to held runs, for the summary line; empty when it touched none. */
export function heldText(held: { reproposed: number; cancelled: number } | undefined): string {
  if (held === undefined || held.reproposed + held.cancelled === 0) return '';
  return `; held runs: ${held.reproposed} re-proposed under the new version, ${held.cancelled} cancelled`;
}
