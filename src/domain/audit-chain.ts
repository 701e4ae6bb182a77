import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { AuditEvent } from './run.js';

/**
 * Glossary
 * - chain: every event carries `prevHash`, the hash of the event before it, and `hash`, a sha256
 *   over its own content and `prevHash`. Changing an event breaks its own hash; removing or moving
 *   one breaks the link of the event after it.
 * - genesis: the `prevHash` of the first event ever recorded: 64 zeros.
 * - head: the anchor kept beside the events and written in the same transaction as every append:
 *   the id and hash of the last event, and where the chain starts (its base). Cutting events off
 *   the end leaves a chain that is valid but shorter; only the head can tell.
 * - base: the id before the first event and the hash that event must link to: 0 and genesis, or,
 *   once retention removes old events, the id and hash of the last one removed.
 * - anchor: what a walk trusts to start from: the head's base for a database, the first line's
 *   `prevHash` for an exported file (a filtered export starts mid-chain).
 */

/** The prevHash of the first event ever recorded. */
export const GENESIS_HASH = '0'.repeat(64);

/** An event with its place in the chain. */
export interface ChainedEvent extends AuditEvent {
  readonly prevHash: string;
  readonly hash: string;
}

/** The anchor stored beside the events (see the glossary). */
export interface AuditHead {
  readonly baseId: number;
  readonly baseHash: string;
  /** The last event appended; baseId when none has been. */
  readonly lastId: number;
  /** Its hash; baseHash when none has been. */
  readonly lastHash: string;
}

/**
 * An event as a walk checks it: the fields that are hashed, with `data` as JSON text (the text
 * stored in the database, or an exported line's data written back canonically), so that a walk
 * over the database need not parse what it only hashes. `line` is set when it comes from a file.
 */
export type ChainEntry = Omit<ChainedEvent, 'data'> & { readonly dataJson: string; readonly line?: number };

/**
 * The exact text an event's hash covers: the canonical JSON of
 * {id, at, kind, runId, batchId, playbook, fingerprint, data, prevHash}, built directly (keys
 * already in sorted order) with `canonicalData` spliced in, so the data is encoded once, not twice.
 * The id is included: an event's position is part of what it says, so renumbering events to hide
 * a removal changes every hash from there on.
 */
export function chainText(e: Omit<ChainedEvent, 'data' | 'hash'>, canonicalData: string): string {
  const s = JSON.stringify;
  return (
    `{"at":${s(e.at)},"batchId":${s(e.batchId)},"data":${canonicalData},"fingerprint":${s(e.fingerprint)},"id":${s(e.id)},` +
    `"kind":${s(e.kind)},"playbook":${s(e.playbook)},"prevHash":${s(e.prevHash)},"runId":${s(e.runId)}}`
  );
}

/** sha256, hex. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The hash of an event whose data is given canonically (as the store writes it). */
export function hashCanonical(e: Omit<ChainedEvent, 'data' | 'hash'>, canonicalData: string): string {
  return sha256Hex(chainText(e, canonicalData));
}

/** The hash an event must carry. */
export function eventHash(e: Omit<ChainedEvent, 'hash'>): string {
  return hashCanonical(e, canonicalJson(e.data));
}

/**
 * Whether an entry's content matches its hash. The stored text is canonical for every event this
 * version wrote, so hashing it as it is settles almost every event without parsing it; events
 * chained by the migration from older versions were stored with their keys in insertion order,
 * and are parsed and written canonically before hashing. Sound either way: a match of the
 * unparsed text means that text is exactly the canonical one that was hashed.
 */
export function hashMatches(e: ChainEntry): boolean {
  if (hashCanonical(e, e.dataJson) === e.hash) return true;
  let canonical: string;
  try {
    canonical = canonicalJson(JSON.parse(e.dataJson));
  } catch {
    return false;
  }
  return canonical !== e.dataJson && hashCanonical(e, canonical) === e.hash;
}

/** The first thing wrong with a chain. */
export interface ChainProblem {
  readonly kind: 'altered' | 'missing' | 'relinked' | 'reordered' | 'truncated' | 'beyond_head' | 'head_mismatch' | 'unreadable';
  /** The event named (the first one found wrong, or the last one intact before a gap). */
  readonly eventId: number | null;
  readonly message: string;
}

/** What a walk found. */
export interface ChainVerdict {
  /** Events checked (up to the first problem). */
  readonly count: number;
  readonly first: { readonly id: number; readonly prevHash: string } | null;
  readonly last: { readonly id: number; readonly at: string; readonly hash: string } | null;
  readonly problem: ChainProblem | null;
}

/**
 * Checks events one at a time, in id order, keeping only the previous one: constant memory for
 * any length. `start` is the anchor: the head's base for a database, or null to trust the first
 * entry's prevHash (a file). `lastId` (a database walked in one snapshot) makes an event beyond
 * the head a problem: every append moves the head in its own transaction.
 */
export class ChainWalk {
  private prev: { id: number; hash: string; kind: string; at: string } | null = null;
  private firstSeen: { id: number; prevHash: string } | null = null;
  private seen = 0;

  constructor(
    private readonly start: { readonly id: number; readonly hash: string } | null,
    private readonly lastId: number | null = null,
  ) {}

  /** The next event; returns the first problem, after which the walk should stop. */
  next(e: ChainEntry): ChainProblem | null {
    const at = e.line === undefined ? '' : `line ${e.line}: `;
    const expectedId = this.prev ? this.prev.id + 1 : this.start ? this.start.id + 1 : e.id;
    const expectedPrev = this.prev ? this.prev.hash : this.start ? this.start.hash : e.prevHash;
    if (this.lastId !== null && e.id > this.lastId) {
      return { kind: 'beyond_head', eventId: e.id, message: `${at}${describe(e)} is beyond the head (event ${this.lastId}): it was added outside remediator` };
    }
    if (e.id < expectedId) {
      // Ids come in ascending order from a database; only a file can repeat or go back.
      return { kind: 'reordered', eventId: e.id, message: `${at}${describe(e)} is out of order: expected event ${expectedId}` };
    }
    if (e.id > expectedId) {
      return { kind: 'missing', eventId: e.id, message: `${at}${missing(this.prev ? this.prev.id : null, expectedId, e.id)}` };
    }
    if (!hashMatches(e)) {
      return {
        kind: 'altered',
        eventId: e.id,
        message: `${at}${describe(e)} was altered: its content does not match its hash (changed, or moved here from elsewhere in the chain)`,
      };
    }
    if (e.prevHash !== expectedPrev) {
      const message = this.prev
        ? `the chain breaks between event ${this.prev.id} and event ${e.id}: event ${e.id} was written after a different event ${this.prev.id} ` +
          `(event ${this.prev.id} (${this.prev.kind}, at ${this.prev.at}) was replaced and rehashed, or the events were reordered)`
        : `${describe(e)} does not start the chain: its prev_hash is not ${this.start?.id === 0 ? 'the genesis hash' : `the hash recorded for event ${this.start?.id ?? '?'}`} (earlier events were removed, or it was replaced)`;
      return { kind: 'relinked', eventId: e.id, message: `${at}${message}` };
    }
    this.firstSeen ??= { id: e.id, prevHash: e.prevHash };
    this.prev = { id: e.id, hash: e.hash, kind: e.kind, at: e.at };
    this.seen++;
    return null;
  }

  /** After the last event: compares the end of the chain with the head (a database), or nothing (a file). */
  end(head: AuditHead | null): ChainProblem | null {
    if (head === null) return null;
    const endId = this.prev ? this.prev.id : head.baseId;
    const endHash = this.prev ? this.prev.hash : head.baseHash;
    if (endId < head.lastId) {
      const n = head.lastId - endId;
      const message =
        this.prev === null
          ? `all ${n} event(s) are missing: there are none, the head says the chain ends at event ${head.lastId}`
          : `the last ${n} event(s) are missing: the chain ends at event ${endId}, the head says ${head.lastId}`;
      return { kind: 'truncated', eventId: endId, message };
    }
    if (endHash !== head.lastHash) {
      return {
        kind: 'head_mismatch',
        eventId: endId,
        message: `the head does not match event ${endId}: the head or the last event was rewritten (head hash ${head.lastHash}, event hash ${endHash})`,
      };
    }
    return null;
  }

  /** What was checked so far. */
  verdict(problem: ChainProblem | null): ChainVerdict {
    return { count: this.seen, first: this.firstSeen, last: this.prev ? { id: this.prev.id, at: this.prev.at, hash: this.prev.hash } : null, problem };
  }
}

/**
 * Walks a whole chain and stops at the first problem. `anchor` is null for a file (the first entry
 * is trusted); for a database it is the head, read in the same snapshot as the events when
 * `snapshot` is true. A database whose head row is gone is walked from genesis and then reported:
 * without the head, a cut-off tail cannot be ruled out.
 */
export async function verifyChain(
  entries: Iterable<ChainEntry> | AsyncIterable<ChainEntry>,
  anchor: { readonly head: AuditHead | null; readonly snapshot: boolean } | null,
): Promise<ChainVerdict> {
  const head = anchor?.head ?? null;
  const start = anchor === null ? null : head ? { id: head.baseId, hash: head.baseHash } : { id: 0, hash: GENESIS_HASH };
  const walk = new ChainWalk(start, head && anchor?.snapshot ? head.lastId : null);
  for await (const e of entries) {
    const problem = walk.next(e);
    if (problem) return walk.verdict(problem);
  }
  if (anchor !== null && head === null) {
    return walk.verdict({
      kind: 'head_mismatch',
      eventId: null,
      message: 'the audit head (table audit_head) is missing: it was removed outside remediator, and without it a cut-off tail cannot be ruled out',
    });
  }
  return walk.verdict(walk.end(head));
}

function describe(e: ChainEntry): string {
  return `event ${e.id} (${e.kind}, at ${e.at})`;
}

/** "an event between 41 and 43 is missing", "the first 3 events are missing (1–3)". */
function missing(prevId: number | null, from: number, to: number): string {
  const n = to - from;
  const ids = n === 1 ? `event ${from}` : `events ${from}–${to - 1}`;
  if (prevId === null)
    return `the first ${n === 1 ? 'event is' : `${n} events are`} missing (${ids}): the chain should start at ${from}, the first event left is ${to}`;
  return n === 1 ? `an event between ${prevId} and ${to} is missing (${ids})` : `${n} events between ${prevId} and ${to} are missing (${ids})`;
}
