import express, { type RequestHandler, type Router } from 'express';
import { RemediatorError } from '../domain/errors.js';
import { decodeEventCursor, encodeEventCursor } from '../record/cursor.js';
import type { Playbook } from '../domain/playbook.js';
import type { RunState } from '../domain/run.js';
import type { AuditLog, RunStore, StoreLifecycle } from '../domain/store.js';
import type { PlaybookSet } from '../playbook/playbook-set.js';
import type { ReloadResult } from '../playbook/reload-playbooks.js';
import { instant as instantAt, queryString } from './query-values.js';
import type { Role } from './roles.js';

const STATES: readonly RunState[] = ['pending', 'awaiting_approval', 'running', 'succeeded', 'failed', 'cancelled', 'rejected', 'expired', 'interrupted'];

/** What the read API needs. */
export interface ApiDeps {
  readonly store: RunStore & AuditLog & StoreLifecycle;
  readonly playbooks: PlaybookSet;
  /** Authenticates API callers (InboundAuth.require with the API tokens). */
  readonly authenticate: RequestHandler;
  /** Authenticates POST /-/reload callers: the same tokens, counted apart. */
  readonly authenticateReload: RequestHandler;
  /** Requires a role of the authenticated caller (InboundAuth.allow). */
  readonly authorize: (role: Role) => RequestHandler;
  /** Reloads the playbooks (POST /-/reload). */
  readonly reload?: () => Promise<ReloadResult>;
}

/** GET /api/runs, GET /api/runs/:id, GET /api/playbooks. */
export function apiRouter(deps: ApiDeps): Router {
  const router = express.Router();
  router.use('/api', deps.authenticate, deps.authorize('view'));

  router.post('/-/reload', deps.authenticateReload, deps.authorize('operate'), async (_req, res) => {
    if (!deps.reload) throw new RemediatorError('not_found', 'reload is not available');
    const result = await deps.reload();
    res.status(result.ok ? 200 : 422).json(result);
  });

  router.get('/api/runs', async (req, res) => {
    const state = queryString(req, 'status') ?? queryString(req, 'state');
    if (state !== undefined && !STATES.includes(state as RunState)) {
      throw new RemediatorError('bad_request', `status must be one of ${STATES.join(', ')}`);
    }
    const limitText = queryString(req, 'limit') ?? '50';
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new RemediatorError('bad_request', 'limit must be an integer from 1 to 500');
    const playbook = queryString(req, 'playbook');
    const cursor = queryString(req, 'cursor');
    const mode = queryString(req, 'mode');
    if (mode !== undefined && mode !== 'dry' && mode !== 'live') throw new RemediatorError('bad_request', 'mode must be dry or live');
    const text = queryString(req, 'q')?.trim().slice(0, 200);
    const page = await deps.store.listRuns({
      limit,
      ...(state ? { state: state as RunState } : {}),
      ...(playbook ? { playbook } : {}),
      ...(mode ? { dryRun: mode === 'dry' } : {}),
      ...(text ? { text } : {}),
      ...(cursor ? { cursor } : {}),
    });
    res.json({ runs: page.runs, next: page.next, ...(page.partial ? { partial: true } : {}) });
  });

  router.get('/api/runs/:id', async (req, res) => {
    const run = await deps.store.getRun(req.params['id']);
    if (!run) throw new RemediatorError('not_found', `no run with id ${req.params['id']}`);
    res.json(run);
  });

  router.get('/api/audit', async (req, res) => {
    const limit = Number(queryString(req, 'limit') ?? '100');
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new RemediatorError('bad_request', 'limit must be an integer from 1 to 1000');
    const cursor = queryString(req, 'cursor');
    const now = new Date();
    const instant = (text: string | undefined, name: string) => instantAt(text, name, now);
    const filters = {
      runId: queryString(req, 'run'),
      playbook: queryString(req, 'playbook'),
      kind: queryString(req, 'kind'),
      since: instant(queryString(req, 'since'), 'since'),
      until: instant(queryString(req, 'until'), 'until'),
      afterId: cursor === undefined ? undefined : decodeEventCursor(cursor),
    };
    const query = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined));
    const events = await deps.store.listEvents({ ...query, limit: limit + 1 });
    const page = events.slice(0, limit);
    const last = page[page.length - 1];
    res.json({ events: page, next: events.length > limit && last ? encodeEventCursor(last.id) : null });
  });

  router.get('/api/playbooks', (_req, res) => {
    res.json({ loadedAt: deps.playbooks.loadedAt.toISOString(), playbooks: deps.playbooks.all.map(summary) });
  });
  return router;
}

function summary(p: Playbook) {
  return {
    name: p.name,
    description: p.description,
    owner: p.owner,
    file: p.file,
    hash: p.hash,
    mode: p.mode,
    match: { alertnames: p.match.alertnames, matchers: p.match.matchers.map(String), status: p.match.status },
    params: p.params.map((x) => ({ name: x.name, from: `${x.source}.${x.key}`, type: x.type })),
    steps: p.steps.map((s) => ({ name: s.name, kind: s.kind, readOnly: s.readOnly })),
  };
}
