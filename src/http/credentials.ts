import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Checks an Authorization header against every configured secret. Several secrets are accepted at
 * once so they can be rotated without downtime. Each candidate is compared through a fixed-length
 * digest with timingSafeEqual, and every candidate is always compared, so neither the length nor
 * the position of a match leaks through timing.
 */
export class Credentials<Identity extends string = string> {
  private readonly bearer: { digest: Buffer; identity: Identity }[];
  private readonly basic: { digest: Buffer; identity: Identity }[];

  constructor(entries: {
    bearer?: readonly { token: string; identity: Identity }[];
    basic?: readonly { user: string; password: string; identity: Identity }[];
  }) {
    this.bearer = (entries.bearer ?? []).map((e) => ({ digest: digest(e.token), identity: e.identity }));
    this.basic = (entries.basic ?? []).map((e) => ({ digest: digest(`${e.user}:${e.password}`), identity: e.identity }));
  }

  /** True when no secret is configured at all. */
  get empty(): boolean {
    return this.bearer.length === 0 && this.basic.length === 0;
  }

  /** The identity whose secret the header carries, or null. */
  check(header: string | undefined): Identity | null {
    if (header === undefined) return null;
    const space = header.indexOf(' ');
    if (space < 0) return null;
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    if (scheme === 'bearer') return findMatch(this.bearer, digest(value));
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      return decoded.includes(':') ? findMatch(this.basic, digest(decoded)) : null;
    }
    return null;
  }
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

function findMatch<I>(candidates: readonly { digest: Buffer; identity: I }[], presented: Buffer): I | null {
  let found: I | null = null;
  for (const c of candidates) {
    if (timingSafeEqual(c.digest, presented) && found === null) found = c.identity;
  }
  return found;
}
