import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../roles.js';

/** One signed-in person's session, kept on the server: the cookie carries only its random id. */
export interface Session {
  readonly principal: Principal;
  /** The token every state-changing console request must carry (a form field or a header). */
  readonly csrf: string;
  readonly createdAt: number;
  lastSeenAt: number;
  /** Signed out (or replaced): a stream holding it ends. */
  ended: boolean;
}

/** Why there is no session for a cookie: none at all, or one that ran out. */
export type NoSession = 'none' | 'idle' | 'expired';

/** What the store needs: the clock (injected, so expiry is tested without waiting) and the limits. */
export interface SessionSettings {
  readonly clock: () => Date;
  /** A session unused for this long ends. */
  readonly idleMs: number;
  /** A session ends this long after sign-in, however busy. */
  readonly maxMs: number;
  /** Sessions kept at most; the least recently used go first. */
  readonly limit?: number;
}

/**
 * Server-side sessions, in memory: a restart signs everyone out, and several replicas behind one
 * address need sticky sessions (or the authenticating proxy, whose header re-creates a session on
 * whichever replica answers). Ids are 32 random bytes; the map is keyed by their sha256, so the
 * ids themselves are nowhere in memory but in the cookie jar of their owner. Expiry is checked on
 * every read; a sweep on every creation keeps the map bounded.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly settings: SessionSettings) {}

  /** Starts a session; returns the id for the cookie. */
  create(principal: Principal): { id: string; session: Session } {
    this.sweep();
    const id = randomBytes(32).toString('base64url');
    const now = this.now();
    const session: Session = { principal, csrf: randomBytes(32).toString('base64url'), createdAt: now, lastSeenAt: now, ended: false };
    this.sessions.set(key(id), session);
    const limit = this.settings.limit ?? 10_000;
    while (this.sessions.size > limit) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    return { id, session };
  }

  /**
   * The live session of a cookie, or why there is none. `touch` counts the request as activity
   * (a person's page load or action); background refreshes pass false, so an open tab nobody looks
   * at still ends when idle.
   */
  get(id: string | undefined, touch: boolean): Session | NoSession {
    if (id === undefined || id === '') return 'none';
    const k = key(id);
    const s = this.sessions.get(k);
    if (s === undefined) return 'none';
    const now = this.now();
    const ended = this.ended(s, now);
    if (ended !== null) {
      this.sessions.delete(k);
      return ended;
    }
    if (touch) {
      s.lastSeenAt = now;
      // Re-inserted: the map's order is least recently used first, for the limit.
      this.sessions.delete(k);
      this.sessions.set(k, s);
    }
    return s;
  }

  /** Whether the session is still live now (for the live stream, which holds one for long). */
  live(s: Session): boolean {
    return !s.ended && this.ended(s, this.now()) === null;
  }

  /** Ends a session (sign-out). */
  destroy(id: string | undefined): Session | null {
    if (id === undefined) return null;
    const k = key(id);
    const s = this.sessions.get(k) ?? null;
    this.sessions.delete(k);
    if (s) s.ended = true;
    return s;
  }

  /** Sessions kept now (for tests and the log). */
  get size(): number {
    return this.sessions.size;
  }

  private ended(s: Session, now: number): 'idle' | 'expired' | null {
    if (now - s.createdAt >= this.settings.maxMs) return 'expired';
    if (now - s.lastSeenAt >= this.settings.idleMs) return 'idle';
    return null;
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, s] of this.sessions) if (this.ended(s, now) !== null) this.sessions.delete(k);
  }

  private now(): number {
    return this.settings.clock().getTime();
  }
}

/** True when `presented` is the session's CSRF token; compared in constant time. */
export function csrfMatches(session: Session, presented: unknown): boolean {
  if (typeof presented !== 'string' || presented === '') return false;
  return timingSafeEqual(digest(session.csrf), digest(presented));
}

function key(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('base64url');
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
