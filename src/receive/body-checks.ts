import { isUtf8 } from 'node:buffer';

/**
 * Checks on a webhook body's bytes before it is parsed: each one a 400 with where and why, for
 * that request alone, never a 503 (Alertmanager would retry a 503 forever) and never a lossy
 * store (an invalid byte replaced by U+FFFD is an alert changed on the way in).
 */

/**
 * How deep JSON may nest. Alertmanager's payload nests four levels (body, alerts, alert, labels);
 * the margin is for fields a later version may add. Deeper input is refused before it is parsed,
 * so nothing downstream (the store's JSON.stringify, the schema check) ever meets it.
 */
export const MAX_JSON_DEPTH = 32;

/** Why the body is not valid UTF-8 (naming the first bad byte's offset), or null. */
export function utf8Problem(body: Buffer): string | null {
  if (isUtf8(body)) return null;
  const at = firstInvalidUtf8(body);
  const shown = [...body.subarray(at, at + 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return `body is not valid UTF-8: byte offset ${at} (bytes ${shown}) does not start a valid UTF-8 sequence; send the JSON encoded as UTF-8`;
}

/** The offset of the first byte that does not begin a well-formed UTF-8 sequence (RFC 3629), or -1. */
export function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i] as number;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let max = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) [need, min] = [1, 0x80];
    else if (c === 0xe0) [need, min] = [2, 0xa0];
    else if (c >= 0xe1 && c <= 0xef) [need, min, max] = [2, 0x80, c === 0xed ? 0x9f : 0xbf];
    else if (c === 0xf0) [need, min] = [3, 0x90];
    else if (c >= 0xf1 && c <= 0xf3) [need, min] = [3, 0x80];
    else if (c === 0xf4) [need, min, max] = [3, 0x80, 0x8f];
    else return i;
    // The second byte has the narrowed range (no overlongs, no surrogates, nothing past U+10FFFF).
    const second = b[i + 1];
    if (second === undefined || second < min || second > max) return i;
    for (let k = 2; k <= need; k++) {
      const next = b[i + k];
      if (next === undefined || next < 0x80 || next > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

/**
 * Why the JSON text nests deeper than `max` (naming the byte offset where it does), or null. A
 * scan of the bytes, strings skipped, before anything is parsed; malformed JSON is left to the
 * parser, which says what is wrong with it.
 */
export function depthProblem(body: Buffer, max = MAX_JSON_DEPTH): string | null {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) {
        return `body nests deeper than ${max} levels (at byte offset ${i}): an Alertmanager webhook payload nests 4; remove the deeply nested value`;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return null;
}
