import type Database from 'better-sqlite3';
import { GENESIS_HASH, hashCanonical, type AuditHead, type ChainedEvent, type ChainEntry } from '../../domain/audit-chain.js';
import { canonicalJson } from '../../domain/canonical-json.js';
import { RemediatorError } from '../../domain/errors.js';
import type { NewEvent } from '../../domain/run.js';

type Row = Record<string, unknown>;

/**
 * Appends events to the hash chain in SQLite. The head (`audit_head`) is read once, at the first
 * append of a transaction, and kept in memory for the appends that follow; `flush` writes it back
 * once, at the end of the same transaction. better-sqlite3 is synchronous, so nothing else appends
 * in between, and the process lock keeps other processes out.
 *
 * Ids are assigned here, as the head's last id + 1, rather than left to AUTOINCREMENT: the id is
 * part of what is hashed (its position is part of what an event says), so it must be known before
 * the insert. A removed event then shows twice: as a gap in the ids and as a broken prev_hash link.
 * The head, not `MAX(id)`, is where the next append starts, so an append never heals a truncated
 * tail: the new event links to the hash the head kept, and verify reports the gap.
 */
export class EventChainWriter {
  private tip: { id: number; hash: string } | null = null;
  private dirty = false;
  private statements: { head: Database.Statement; insert: Database.Statement; update: Database.Statement } | null = null;

  constructor(private readonly db: Database.Database) {}

  /** Prepared on first use: the writer exists before the migrations that create its columns run. */
  private sql() {
    this.statements ??= {
      head: this.db.prepare('SELECT last_id, last_hash FROM audit_head WHERE id = 1'),
      insert: this.db.prepare(
        `INSERT INTO events (id, at, kind, run_id, batch_id, playbook, fingerprint, data, prev_hash, hash)
         VALUES (@id, @at, @kind, @runId, @batchId, @playbook, @fingerprint, @data, @prevHash, @hash)`,
      ),
      update: this.db.prepare('UPDATE audit_head SET last_id = ?, last_hash = ? WHERE id = 1'),
    };
    return this.statements;
  }

  /** Forgets the tip: the next transaction reads the head again (and a rolled-back one leaves no trace). */
  reset(): void {
    this.tip = null;
    this.dirty = false;
  }

  /** Appends events after the tip; must run inside the transaction that `flush` ends. */
  append(events: readonly NewEvent[], defaults: Partial<NewEvent>, now: string): void {
    if (events.length === 0) return;
    if (!this.db.inTransaction) throw new RemediatorError('internal', 'events must be appended inside a transaction');
    const sql = this.sql();
    if (this.tip === null) {
      const head = sql.head.get() as Row | undefined;
      if (head === undefined) {
        throw new RemediatorError(
          'store_unavailable',
          'the audit head (table audit_head) is missing: the trail was edited outside remediator; run remediator audit verify',
        );
      }
      this.tip = { id: Number(head['last_id']), hash: String(head['last_hash']) };
    }
    for (const e of events) {
      const merged = { ...defaults, ...e };
      const data = canonicalJson(merged.data ?? {});
      const fields: Omit<ChainedEvent, 'data' | 'hash'> = {
        id: this.tip.id + 1,
        at: merged.at ?? now,
        kind: merged.kind,
        runId: merged.runId ?? null,
        batchId: merged.batchId ?? null,
        playbook: merged.playbook ?? null,
        fingerprint: merged.fingerprint ?? null,
        prevHash: this.tip.hash,
      };
      const hash = hashCanonical(fields, data);
      try {
        sql.insert.run({ ...fields, data, hash });
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new RemediatorError(
            'store_unavailable',
            `event ${fields.id} exists beyond the audit head (event ${this.tip.id}): the trail was edited outside remediator; run remediator audit verify`,
            { cause: err },
          );
        }
        throw err;
      }
      this.tip = { id: fields.id, hash };
      this.dirty = true;
    }
  }

  /** Moves the head to the tip, in the transaction that appended; then forgets the tip. */
  flush(): void {
    if (this.dirty && this.tip) this.sql().update.run(this.tip.id, this.tip.hash);
    this.reset();
  }
}

/** The head, or null when its row is gone. */
export function readAuditHead(db: Database.Database): AuditHead | null {
  const row = db.prepare('SELECT base_id, base_hash, last_id, last_hash FROM audit_head WHERE id = 1').get() as Row | undefined;
  if (!row) return null;
  return { baseId: Number(row['base_id']), baseHash: String(row['base_hash']), lastId: Number(row['last_id']), lastHash: String(row['last_hash']) };
}

/** The columns a walk reads, in the order `toChainEntry` expects. */
export const CHAIN_COLUMNS = 'id, at, kind, run_id, batch_id, playbook, fingerprint, data, prev_hash, hash';

/** A row read with CHAIN_COLUMNS, as a walk checks it (data left as stored text). */
export function toChainEntry(row: Row): ChainEntry {
  return fromChainValues([
    row['id'],
    row['at'],
    row['kind'],
    row['run_id'],
    row['batch_id'],
    row['playbook'],
    row['fingerprint'],
    row['data'],
    row['prev_hash'],
    row['hash'],
  ]);
}

/**
 * The same from a raw row (better-sqlite3's .raw(): values in CHAIN_COLUMNS order), which spares
 * a walk over millions of rows building an object per row only to read it once.
 */
export function fromChainValues(v: readonly unknown[]): ChainEntry {
  return {
    id: Number(v[0]),
    at: String(v[1]),
    kind: v[2] as ChainEntry['kind'],
    runId: (v[3] as string | null) ?? null,
    batchId: (v[4] as string | null) ?? null,
    playbook: (v[5] as string | null) ?? null,
    fingerprint: (v[6] as string | null) ?? null,
    dataJson: String(v[7]),
    // A NULL hash (a row inserted around the trigger) fails its check like any other alteration.
    prevHash: typeof v[8] === 'string' ? v[8] : '',
    hash: typeof v[9] === 'string' ? v[9] : '',
  };
}

/** A row read with CHAIN_COLUMNS, with its data parsed. */
export function toChainedEvent(row: Row): ChainedEvent {
  const { dataJson, ...rest } = toChainEntry(row);
  return { ...rest, data: JSON.parse(dataJson) as Record<string, unknown> };
}

/**
 * Migration 3, after its SQL: chains the events written before the chain existed, in id order, so
 * an upgraded database verifies from its first event. Their data is left exactly as stored (keys in
 * insertion order); the hash covers its canonical form, which verify computes when the stored text
 * is not canonical (see hashMatches). Read in pages by id and updated with prepared statements in
 * the migration's one transaction: a million events take seconds, in constant memory.
 */
export function chainExistingEvents(db: Database.Database, appendOnlyTrigger: string): void {
  // The update trigger refuses exactly this; it is back before the transaction commits.
  db.exec('DROP TRIGGER events_no_update');
  const page = db.prepare(`SELECT ${CHAIN_COLUMNS} FROM events WHERE id > ? ORDER BY id LIMIT 5000`);
  const update = db.prepare('UPDATE events SET prev_hash = ?, hash = ? WHERE id = ?');
  let last = { id: 0, hash: GENESIS_HASH };
  for (;;) {
    const rows = page.all(last.id) as Row[];
    if (rows.length === 0) break;
    for (const row of rows) {
      const e = toChainEntry(row);
      const hash = hashCanonical({ ...e, prevHash: last.hash }, canonicalJson(JSON.parse(e.dataJson)));
      update.run(last.hash, hash, e.id);
      last = { id: e.id, hash };
    }
  }
  db.exec(appendOnlyTrigger);
  // A database whose ids had gaps before the chain existed keeps them: verify reports them, as it
  // should, since events were missing then too. (The triggers made that impossible since version 1.)
  db.prepare('INSERT INTO audit_head (id, base_id, base_hash, last_id, last_hash) VALUES (1, 0, ?, ?, ?)').run(GENESIS_HASH, last.id, last.hash);
}
