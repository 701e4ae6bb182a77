import { randomBytes } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { errorMessage, RemediatorError } from '../../domain/errors.js';
import type { AuditLog } from '../../domain/store.js';
import type { Logger } from '../../observability/logger.js';
import { setPrincipal, type InboundAuth } from '../auth.js';
import type { Credentials } from '../credentials.js';
import { escapeHtml } from './html.js';
import { csrfMatches, type NoSession, type Session, type SessionStore } from './sessions.js';

/** The session cookie: HttpOnly, SameSite=Strict, Secure behind https, only sent to the console. */
export const SESSION_COOKIE = 'remediator_session';
/** The sign-in form's own CSRF token (double submit), before there is a session to hold one. */
export const SIGN_IN_COOKIE = 'remediator_sign_in';
/** Sent by the console's script on refreshes it makes by itself: they do not count as activity. */
export const BACKGROUND_HEADER = 'x-console-background';
/** Where the console's script sends the CSRF token of fetch requests. */
export const CSRF_HEADER = 'x-csrf-token';

/** An authenticating proxy (oauth2-proxy and the like) whose header names the person. */
export interface ProxySettings {
  /** The request header carrying the identity, e.g. X-Forwarded-User. */
  readonly header: string;
  /** Addresses (IPs or CIDR ranges) the proxy connects from: the header counts from nowhere else. */
  readonly from: readonly string[];
}

/** What the console's authentication needs. */
export interface ConsoleAuthDeps {
  readonly auth: InboundAuth;
  /** The API tokens: signing in with one starts a session as its identity. */
  readonly credentials: Credentials;
  readonly sessions: SessionStore;
  readonly proxy: ProxySettings | null;
  /** Cookies get Secure (publicUrl is https). */
  readonly secureCookies: boolean;
  /** Origins besides the request's own host that forms may come from (publicUrl's). */
  readonly origins: readonly string[];
  readonly store: AuditLog;
  readonly logger: Logger;
}

/** The session of this request, set by `resolve`; null when signed out. */
export function sessionOf(res: Response): Session | null {
  return (res.locals['session'] as Session | undefined) ?? null;
}

/** Why a request has no session ('idle', 'expired' or 'none'). */
export function noSessionReason(res: Response): NoSession {
  return (res.locals['noSession'] as NoSession | undefined) ?? 'none';
}

/**
 * Sessions, the proxy's header and CSRF for the console. The person and their roles are resolved
 * by InboundAuth (principal), and roles are checked there too (allow), as for the API.
 */
export class ConsoleAuth {
  private readonly proxyFrom: BlockList | null;

  constructor(private readonly deps: ConsoleAuthDeps) {
    this.proxyFrom = deps.proxy ? addressList(deps.proxy.from) : null;
  }

  /**
   * Middleware: finds the request's session from its cookie, or from the proxy's header when the
   * request comes from a configured proxy address (a session is started for it, so the console's
   * forms and stream work the same way). The header from anywhere else is ignored and recorded.
   */
  readonly resolve: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    const cookieId = cookie(req, SESSION_COOKIE);
    const found = this.deps.sessions.get(cookieId, req.get(BACKGROUND_HEADER) === undefined && !isStream(req));
    let session = typeof found === 'string' ? null : found;
    if (typeof found === 'string') res.locals['noSession'] = found;
    const vouched = this.proxyIdentity(req);
    if (vouched !== null && (session === null || session.principal.source !== 'proxy' || session.principal.identity !== vouched)) {
      // A different person behind the same browser, or a token session while the proxy vouches
      // for someone: the proxy's word wins, in a fresh session.
      if (cookieId !== undefined) this.deps.sessions.destroy(cookieId);
      session = this.start(req, res, this.deps.auth.principal(vouched, 'proxy'));
    }
    if (session !== null) {
      res.locals['session'] = session;
      setPrincipal(res, session.principal);
    }
    next();
  };

  /**
   * Middleware: a page needs a session. A page load without one goes to the sign-in page (saying
   * why: signed out, idle or expired), anything else is a 401.
   */
  readonly required: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    if (sessionOf(res) !== null) return next();
    const why = noSessionReason(res);
    if (req.method === 'GET' && req.get(BACKGROUND_HEADER) === undefined && !isStream(req)) {
      if (req.get('sec-fetch-site') === 'cross-site' && req.query['bounced'] === undefined) {
        // A link from elsewhere (a Slack message): the browser withholds a SameSite=Strict cookie
        // on a cross-site navigation. Going again from our own page sends it (the retry is
        // same-origin); `bounced` keeps a browser without a session from looping.
        const again = `${req.originalUrl}${req.originalUrl.includes('?') ? '&' : '?'}bounced=1`;
        res.status(200).type('html').send(bouncePage(again));
        return;
      }
      const nextPath = req.originalUrl.startsWith('/console/') ? req.originalUrl : '/console/runs';
      res.redirect(303, `/console/sign-in?${new URLSearchParams({ next: nextPath, ...(why === 'none' ? {} : { why }) }).toString()}`);
      return;
    }
    next(new RemediatorError('unauthorized', why === 'none' ? 'sign in to the console first' : `your console session ended (${why}): sign in again`));
  };

  /**
   * Middleware for every state-changing request: it must come from a page of this console (its
   * Origin, when sent, is ours; Sec-Fetch-Site is same-origin) and carry the session's CSRF
   * token. A refusal is a 403, counted and recorded like any refused request.
   */
  readonly csrf: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    const session = sessionOf(res);
    const body = req.body as Record<string, unknown> | undefined;
    const presented = req.get(CSRF_HEADER) ?? body?.['_csrf'];
    // Without a session (it ended) a same-site request is simply not signed in: `required` says so.
    const problem = this.crossSite(req) ?? (session === null || csrfMatches(session, presented) ? null : 'the CSRF token is missing or wrong');
    if (problem === null) return next();
    this.deps.auth.refused(req, 'console', `CSRF: ${problem}`, 'csrf');
    next(new RemediatorError('forbidden', `refused: ${problem}. Console forms only work from the console's own pages: reload the page and try again`));
  };

  /** Signs in with an API token: the session cookie is set, and the start recorded. */
  signIn(req: Request, res: Response, token: string): Session | null {
    const identity = this.deps.credentials.check(`Bearer ${token.trim()}`);
    if (identity === null) {
      this.deps.auth.refused(req, 'console', 'sign-in with a wrong API token', 'sign-in');
      return null;
    }
    this.deps.sessions.destroy(cookie(req, SESSION_COOKIE));
    return this.start(req, res, this.deps.auth.principal(identity, 'token'));
  }

  /** Ends the request's session, clears its cookie and records it. */
  signOut(req: Request, res: Response): void {
    const ended = this.deps.sessions.destroy(cookie(req, SESSION_COOKIE));
    res.append('Set-Cookie', this.cookie(SESSION_COOKIE, '', '/console', 0));
    if (ended) this.record('session.ended', req, { identity: ended.principal.identity, source: ended.principal.source, reason: 'signed out' });
  }

  /** A fresh sign-in form token, set as a cookie and returned for the form. */
  signInToken(res: Response): string {
    const token = randomBytes(24).toString('base64url');
    res.append('Set-Cookie', this.cookie(SIGN_IN_COOKIE, token, '/console/sign-in', 600));
    return token;
  }

  /** True when the sign-in form came from our page: same origin, and its token matches the cookie. */
  signInFormValid(req: Request, presented: unknown): string | null {
    const crossSite = this.crossSite(req);
    if (crossSite !== null) return crossSite;
    const expected = cookie(req, SIGN_IN_COOKIE);
    if (expected === undefined || typeof presented !== 'string' || presented !== expected) return 'the sign-in form token is missing or wrong';
    return null;
  }

  /** True when a proxy is configured (the sign-in page says so). */
  get proxyHeader(): string | null {
    return this.deps.proxy?.header ?? null;
  }

  private start(req: Request, res: Response, principal: Session['principal']): Session {
    const { id, session } = this.deps.sessions.create(principal);
    res.append('Set-Cookie', this.cookie(SESSION_COOKIE, id, '/console', null));
    this.record('session.started', req, { identity: principal.identity, source: principal.source, roles: principal.roles });
    this.deps.logger.info(`console session started for ${principal.identity} (${principal.source}: ${principal.roles.join(', ') || 'no roles'})`, {
      identity: principal.identity,
    });
    return session;
  }

  private proxyIdentity(req: Request): string | null {
    const proxy = this.deps.proxy;
    if (proxy === null || this.proxyFrom === null) return null;
    const value = req.get(proxy.header);
    if (value === undefined || value.trim() === '') return null;
    const address = normalizeAddress(req.socket.remoteAddress ?? '');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (address === '' || !this.proxyFrom.check(address, family)) {
      this.deps.auth.refused(
        req,
        'console',
        `${proxy.header} header from ${address || 'an unknown address'}, which is not in auth.proxy.from: ignored`,
        'proxy',
      );
      return null;
    }
    return value.trim().slice(0, 200);
  }

  /** Why a state-changing request is not from our own pages, or null. */
  private crossSite(req: Request): string | null {
    const site = req.get('sec-fetch-site');
    if (site !== undefined && site !== 'same-origin') return `the request came from another site (Sec-Fetch-Site: ${site})`;
    const origin = req.get('origin');
    if (origin === undefined) return null;
    const host = req.get('host');
    const ours = URL.canParse(origin) && (new URL(origin).host === host || this.deps.origins.includes(new URL(origin).origin));
    return ours ? null : `the request came from another origin (${origin})`;
  }

  private cookie(name: string, value: string, path: string, maxAgeSeconds: number | null): string {
    return [
      `${name}=${value}`,
      `Path=${path}`,
      'HttpOnly',
      'SameSite=Strict',
      ...(this.deps.secureCookies ? ['Secure'] : []),
      ...(maxAgeSeconds === null ? [] : [`Max-Age=${maxAgeSeconds}`]),
    ].join('; ');
  }

  private record(kind: 'session.started' | 'session.ended', req: Request, data: Record<string, unknown>): void {
    void this.deps.store.appendEvents([{ kind, data: { ...data, remoteAddress: req.socket.remoteAddress ?? '' } }]).catch((err: unknown) => {
      this.deps.logger.error(`recording ${kind} failed: ${errorMessage(err)}`);
    });
  }
}

/** A page that only sends the browser to `url` again, from our own origin (no script: a meta refresh). */
function bouncePage(url: string): string {
  const href = escapeHtml(url);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${href}"><title>remediator</title></head><body><p><a href="${href}">Continue to the console</a></p></body></html>`;
}

/** A cookie's value from the request's Cookie header. */
export function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function isStream(req: Request): boolean {
  return (req.get('accept') ?? '').includes('text/event-stream');
}

/** IPv4 clients of a dual-stack socket show as ::ffff:a.b.c.d; the configuration writes a.b.c.d. */
function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** The configured proxy addresses (IPs, or CIDR ranges such as 10.0.0.0/8), as a BlockList. */
export function addressList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/') as [string, string | undefined];
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (isIP(address) === 0) throw new RemediatorError('invalid_config', `auth.proxy.from: ${entry} is not an IP address or CIDR range`);
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}
