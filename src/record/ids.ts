import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A ULID-style id with a prefix ("r_01J…"): sortable by creation time, so newest-first listing and
 * cursors need no second column, and unguessable enough to appear in URLs.
 */
export function newId(prefix: string, now: Date = new Date()): string {
  let time = now.getTime();
  let head = '';
  for (let i = 0; i < 10; i++) {
    head = (CROCKFORD[time % 32] as string) + head;
    time = Math.floor(time / 32);
  }
  const bytes = randomBytes(10);
  let tail = '';
  let bits = 0;
  let acc = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      tail += CROCKFORD[(acc >> bits) & 31];
    }
  }
  return `${prefix}_${head}${tail}`;
}

/** "r_" and the time part of the ids of runs created at `iso`: every later run's id sorts after it. */
export function runIdPrefix(iso: string): string {
  return idPrefix('r', iso);
}

/** The prefix and time part of the ids made at `iso` ("b_…" for batches): every later id sorts after it. */
export function idPrefix(prefix: string, iso: string): string {
  return newId(prefix, new Date(Math.max(0, Date.parse(iso)))).slice(0, prefix.length + 11);
}
