import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { RemediatorError } from '../../domain/errors.js';
import { storeChainEntries } from '../../record/audit-verify.js';
import { writeJsonLines } from '../../record/audit-export.js';
import { httpStatus, toRemediatorError } from '../error-handler.js';
import { instant, queryString } from '../query-values.js';
import { ConsoleAuth, sessionOf } from './console-auth.js';
import { consoleActions } from './console-actions.js';
import type { ConsoleDeps } from './console-deps.js';
import { consolePages, type ConsoleMemory } from './console-pages.js';
import { LiveStream } from './live-stream.js';
import { errorPage, signInPage } from './pages/sign-in-page.js';
import { sendHtml } from './render.js';
import { SessionStore } from './sessions.js';

/**
 * The policy every console response carries: our own script and stylesheet only, no inline script
 * or style, no frames, forms only to ourselves. Nothing is loaded from elsewhere, so the console
 * works on an air-gapped network and an alert's text cannot bring in anything.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const ASSETS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'assets');
const ASSET_TYPES: Readonly<Record<string, string>> = { 'console.js': 'text/javascript; charset=utf-8', 'console.css': 'text/css; charset=utf-8' };

/** The console as mounted by the app, and what the daemon stops when it closes. */
export interface Console {
  readonly router: Router;
  readonly sessions: SessionStore;
  close(): void;
}

/**
 * The web console, one more adapter over the stages: server-rendered pages under /console, one
 * small script and one stylesheet of our own (no build step), sessions, CSRF, and a live stream.
 */
export function createConsole(deps: ConsoleDeps): Console {
  const sessions = new SessionStore({ clock: deps.clock, idleMs: deps.session.idleMs, maxMs: deps.session.maxMs });
  const origins = deps.publicUrl ? [new URL(deps.publicUrl).origin] : [];
  const auth = new ConsoleAuth({
    auth: deps.auth,
    credentials: deps.credentials,
    sessions,
    proxy: deps.proxy,
    secureCookies: deps.publicUrl?.startsWith('https:') === true,
    origins,
    store: deps.store,
    logger: deps.logger,
  });
  const stream = new LiveStream({ sessions, shared: !deps.store.exclusive });
  deps.watchRuns(stream.runChanged);
  const memory: ConsoleMemory = { lastReload: null, lastVerify: null };
  const assets = new Map(Object.keys(ASSET_TYPES).map((name) => [name, readFileSync(path.join(ASSETS_DIR, name))]));
  const form = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 10 });

  const router = express.Router();
  router.get('/', (_req, res) => res.redirect(302, '/console/runs'));
  router.use('/console', headers);
  router.get(['/console', '/console/'], (_req, res) => res.redirect(302, '/console/runs'));
  router.get('/console/assets/:name', (req, res, next) => {
    const name = String(req.params['name']);
    const body = assets.get(name);
    if (!body) return next(new RemediatorError('not_found', `no asset ${name}`));
    res
      .set('Cache-Control', 'no-cache')
      .type(ASSET_TYPES[name] as string)
      .send(body);
  });
  router.use('/console', auth.resolve);

  router.get('/console/sign-in', (req, res) => {
    if (sessionOf(res) !== null) return res.redirect(303, safeNext(queryString(req, 'next')));
    const why = queryString(req, 'why');
    const known = why === 'idle' || why === 'expired' || why === 'signed-out' ? why : undefined;
    sendHtml(
      res,
      200,
      signInPage({ token: auth.signInToken(res), next: safeNext(queryString(req, 'next')), proxyHeader: auth.proxyHeader, ...(known ? { why: known } : {}) }),
    );
  });
  router.post('/console/sign-in', form, (req, res) => {
    const body = req.body as Record<string, unknown>;
    const next = safeNext(typeof body['next'] === 'string' ? body['next'] : undefined);
    const problem = auth.signInFormValid(req, body['_csrf']);
    if (problem !== null) {
      deps.auth.refused(req, 'console', `CSRF: sign-in form: ${problem}`, 'csrf');
      sendHtml(res, 403, signInPage({ token: auth.signInToken(res), next, proxyHeader: auth.proxyHeader, why: 'form' }));
      return;
    }
    const session = typeof body['token'] === 'string' && body['token'] !== '' ? auth.signIn(req, res, body['token']) : null;
    if (session === null) {
      sendHtml(res, 401, signInPage({ token: auth.signInToken(res), next, proxyHeader: auth.proxyHeader, why: 'wrong-token' }));
      return;
    }
    res.redirect(303, next);
  });
  // Every other state-changing request: its form parsed, then CSRF checked before anything else
  // (a cross-site post carries no session cookie, yet is refused as what it is, and recorded).
  router.post(/^\/console\/(?!sign-in$)/, form, auth.csrf);
  router.post('/console/sign-out', auth.required, (req, res) => {
    auth.signOut(req, res);
    res.redirect(303, '/console/sign-in?why=signed-out');
  });

  router.use('/console', auth.required);
  router.get('/console/events', deps.auth.allow('view', 'console'), (req, res) =>
    stream.open(req, res, sessionOf(res) as NonNullable<ReturnType<typeof sessionOf>>),
  );
  router.get('/console/audit/export', deps.auth.allow('view', 'console'), async (req, res) => {
    const now = deps.clock();
    const since = instant(queryString(req, 'since') || undefined, 'since', now);
    const until = instant(queryString(req, 'until') || undefined, 'until', now);
    const head = await deps.store.auditHead();
    const [first] = since ? await deps.store.listEvents({ since, limit: 1 }) : [];
    const after = since ? (first ? first.id - 1 : (head?.lastId ?? 0)) : (head?.baseId ?? 0);
    res.set({ 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Content-Disposition': 'attachment; filename="remediator-audit.jsonl"' });
    await writeJsonLines(storeChainEntries(deps.store, after, head?.lastId ?? 0), res, (e) => until !== undefined && e.at >= until);
    res.end();
  });
  router.use('/console', deps.auth.allow('view', 'console'));
  router.use(consolePages(deps, memory));
  router.use(consoleActions(deps, deps.auth, memory));
  router.use('/console', (req, _res, next) => next(new RemediatorError('not_found', `no console page ${req.path}`)));
  router.use('/console', (err: unknown, req: Request, res: Response, next: NextFunction) => {
    const e = toRemediatorError(err);
    const status = httpStatus(e);
    if (res.headersSent || !(req.get('accept') ?? '').includes('text/html')) return next(e);
    if (status >= 500) deps.logger.error(`console ${req.method} ${req.path}: ${e.message}`, { code: e.code });
    sendHtml(res, status, errorPage(status, e.message));
  });
  return { router, sessions, close: () => stream.close() };
}

/** Security headers on every console response. */
function headers(_req: Request, res: Response, next: NextFunction): void {
  res.set({
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    // Not no-referrer: Chromium then sends "Origin: null" on our own form posts, which CSRF refuses.
    'Referrer-Policy': 'same-origin',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-store',
  });
  next();
}

/** Where to go after signing in: a console path of ours, never another site. */
function safeNext(next: string | undefined): string {
  return next !== undefined && /^\/console\/[^/\\]/.test(next) && !next.startsWith('/console/sign-') ? next : '/console/runs';
}
