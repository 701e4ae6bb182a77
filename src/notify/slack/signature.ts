import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a request's timestamp may be from our clock, by default: Slack's own recommendation. */
const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * Accepted signatures kept to refuse replays. Only requests signed with one of our secrets get
 * here, so the cap is reached by real traffic alone (over ~30 requests a second for 5 minutes);
 * past it the oldest entries go first, and they are the ones closest to going stale anyway.
 */
const MAX_REMEMBERED = 10_000;

/** The result of checking one request. */
export type SignatureCheck = { ok: true; staleAtMs: number } | { ok: false; reason: string };

/** Slack's signature of a request body: `v0=` and the hex HMAC-SHA256 of `v0:<timestamp>:<body>`. */
export function signSlackRequest(secret: string, timestampSeconds: number, rawBody: string | Buffer): string {
  return sign(secret, String(timestampSeconds), rawBody);
}

// The timestamp is signed as the header's text, so verification signs the header itself, not a
// number parsed from it and printed again.
function sign(secret: string, timestamp: string, rawBody: string | Buffer): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`;
}

/**
 * Checks that a request comes from Slack: signed with one of our signing secrets (several, so a
 * secret can be rotated without a window of refused requests), recent, and not seen before. Runs
 * on the raw bytes, before anything parses the body.
 */
export class SlackSignatureVerifier {
  private readonly secrets: readonly string[];
  private readonly now: () => number;
  private readonly toleranceSeconds: number;
  /** Signature → when its request becomes stale (ms); a signature in here was accepted once. */
  private readonly seen = new Map<string, number>();

  constructor(options: { secrets: readonly string[]; now?: () => number; toleranceSeconds?: number }) {
    if (options.secrets.length === 0 || options.secrets.some((s) => s.length === 0)) {
      throw new Error(
        'Slack signing secrets must be a non-empty list of non-empty secrets: copy the Signing Secret from the Slack app\'s "Basic Information" page',
      );
    }
    this.secrets = [...options.secrets];
    this.now = options.now ?? Date.now;
    this.toleranceSeconds = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  }

  /** Accepts the request, or says in one sentence why not. */
  verify(req: { timestamp: string | undefined; signature: string | undefined; rawBody: Buffer }): SignatureCheck {
    const { timestamp, signature } = req;
    if (timestamp === undefined || timestamp === '') return refuse('The X-Slack-Request-Timestamp header is missing.');
    if (signature === undefined || signature === '') return refuse('The X-Slack-Signature header is missing.');
    if (!/^\d{1,12}$/.test(timestamp)) return refuse('The X-Slack-Request-Timestamp header is not a whole number of seconds.');

    const nowMs = this.now();
    const ageSeconds = nowMs / 1000 - Number(timestamp);
    if (ageSeconds > this.toleranceSeconds) {
      return refuse(
        `The request timestamp is ${Math.round(ageSeconds)}s old, more than the ${this.toleranceSeconds}s allowed: a stale or replayed request, or a clock that is wrong.`,
      );
    }
    if (-ageSeconds > this.toleranceSeconds) {
      return refuse(`The request timestamp is ${Math.round(-ageSeconds)}s in the future, more than the ${this.toleranceSeconds}s allowed: check the clocks.`);
    }

    if (!this.matchesASecret(timestamp, signature, req.rawBody)) {
      return refuse('The X-Slack-Signature does not match the body signed with any configured signing secret.');
    }

    // Only a valid signature is remembered, so nobody can fill the map with garbage.
    this.prune(nowMs);
    if (this.seen.has(signature)) return refuse('This request was already accepted once: a replay.');
    if (this.seen.size >= MAX_REMEMBERED) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    const staleAtMs = (Number(timestamp) + this.toleranceSeconds) * 1000;
    this.seen.set(signature, staleAtMs);
    // This process's memory; the caller also records it in the store (ReplayStore) until then,
    // so a replay after a restart or to another replica is refused as well.
    return { ok: true, staleAtMs };
  }

  // Every secret is compared, equal-length buffers every time, so neither which secret matched nor
  // how much of the signature was right shows in the time taken.
  private matchesASecret(timestamp: string, signature: string, rawBody: Buffer): boolean {
    const given = Buffer.from(signature, 'utf8');
    let matched = false;
    for (const secret of this.secrets) {
      const expected = Buffer.from(sign(secret, timestamp, rawBody), 'utf8');
      const candidate = Buffer.alloc(expected.length);
      given.copy(candidate, 0, 0, expected.length);
      const equal = timingSafeEqual(candidate, expected) && given.length === expected.length;
      matched = equal || matched;
    }
    return matched;
  }

  // Entries are stored in acceptance order, and stale times grow with it almost always; stopping
  // at the first live one keeps pruning cheap, and a rare out-of-order entry just waits its turn.
  private prune(nowMs: number): void {
    for (const [signature, staleAtMs] of this.seen) {
      if (staleAtMs > nowMs) break;
      this.seen.delete(signature);
    }
  }
}

function refuse(reason: string): SignatureCheck {
  return { ok: false, reason };
}
