import type Database from 'better-sqlite3';
import { verifyChain, type AuditHead, type ChainEntry, type ChainVerdict } from '../../domain/audit-chain.js';
import { RemediatorError } from '../../domain/errors.js';
import { CHAIN_COLUMNS, fromChainValues, readAuditHead } from './event-chain.js';
import { openReadOnly } from './read-only.js';
import { observed } from '../audit-verify.js';

/** The first schema version with the hash chain (see migrations.ts). */
const CHAIN_VERSION = 3;

/**
 * Reads the audit chain of an SQLite file for `remediator audit verify` and `audit export`.
 * Read-only and without the daemon's process lock, so an auditor can check the trail while the
 * daemon runs: in WAL mode a reader sees one consistent snapshot while the writer goes on. It
 * never migrates: a database too old for the chain is refused with what to do.
 *
 * This connection is the reader's alone, so a walk can hold a better-sqlite3 iterator open across
 * awaits (an export waiting for its output to drain) — which the daemon's store, whose connection
 * serves every request, must not do; it reads pages instead (Store.auditEvents).
 */
export class AuditReader {
  private constructor(private readonly db: Database.Database) {}

  /** Opens `file` read-only; throws a message naming the file and what is wrong. */
  static open(file: string): AuditReader {
    const { db, version } = openReadOnly(file);
    if (version < CHAIN_VERSION) {
      db.close();
      throw new RemediatorError(
        'bad_request',
        `${file} has schema version ${version}, from before the audit chain: start this version of remediator on it once (it upgrades the schema and chains the events already recorded)`,
      );
    }
    return new AuditReader(db);
  }

  /**
   * Runs `fn` in one read transaction, so the head and the events it reads are one snapshot: the
   * daemon's appends after it began are not seen, and an event beyond the head is then a real
   * problem, not a race. (A long walk holds back the WAL checkpoint until it ends; the WAL grows
   * meanwhile and shrinks at the next checkpoint.)
   */
  async snapshot<T>(fn: () => Promise<T>): Promise<T> {
    this.db.exec('BEGIN');
    try {
      return await fn();
    } finally {
      this.db.exec('COMMIT');
    }
  }

  /** Walks the whole chain, from the head's base, in one snapshot, and names the first problem; `observe` sees each event. */
  verify(observe?: (e: ChainEntry) => void): Promise<{ verdict: ChainVerdict; head: AuditHead | null }> {
    return this.snapshot(async () => {
      const head = this.head();
      const events = this.events((head?.baseId ?? 0) + 1);
      const verdict = await verifyChain(observe ? observed(events, observe) : events, { head, snapshot: true });
      return { verdict, head };
    });
  }

  /** The head, or null when its row is gone. */
  head(): AuditHead | null {
    return readAuditHead(this.db);
  }

  /**
   * Events with id ≥ fromId, in id order, one row at a time. A walk that stops early (break, a
   * throw) ends the generator, which releases the statement; until then the connection is busy.
   */
  *events(fromId = 0): Generator<ChainEntry> {
    const rows = this.db.prepare(`SELECT ${CHAIN_COLUMNS} FROM events WHERE id >= ? ORDER BY id`).raw().iterate(fromId) as IterableIterator<unknown[]>;
    for (const row of rows) yield fromChainValues(row);
  }

  /** The id of the first event (in chain order) recorded at or after `at`, or null. */
  firstIdAtOrAfter(at: string): number | null {
    return (this.db.prepare('SELECT MIN(id) AS id FROM events WHERE at >= ?').get(at) as { id: number | null }).id;
  }

  close(): void {
    this.db.close();
  }
}
