import type { ChainedEvent } from '../../domain/audit-chain.js';
import { toEvent, type Row } from '../rows.js';

export type { Row } from '../rows.js';

/** A stored event with its place in the chain. */
export function toChainedEvent(row: Row): ChainedEvent {
  return { ...toEvent(row), prevHash: String(row['prev_hash']), hash: String(row['hash']) };
}

/**
 * A value as a query parameter. PostgreSQL text cannot hold U+0000, which SQLite stores: it is
 * written as U+FFFD, so that a command printing binary output cannot make a write fail (JSON text
 * escapes it and is untouched). Arrays (for unnest) are cleaned element by element.
 */
export function toParam(value: unknown): unknown {
  if (typeof value === 'string') return withoutNul(value);
  if (Array.isArray(value)) return value.map((v: unknown) => (typeof v === 'string' ? withoutNul(v) : v));
  return value;
}

/** The text with U+0000 replaced (see toParam). */
export function withoutNul(s: string): string {
  return s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s;
}
