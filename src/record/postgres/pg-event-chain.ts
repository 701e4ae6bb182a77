import type pg from 'pg';
import { hashCanonical, type AuditHead, type ChainedEvent } from '../../domain/audit-chain.js';
import { canonicalJson } from '../../domain/canonical-json.js';
import { RemediatorError } from '../../domain/errors.js';
import type { NewEvent } from '../../domain/run.js';
import { CHAIN_LOCK_CLASS } from './pg-connection.js';
import { toParam, withoutNul, type Row } from './pg-rows.js';

/** An event queued by a transaction, before it has its place in the chain. */
type Queued = Omit<ChainedEvent, 'id' | 'prevHash' | 'hash' | 'data'> & { readonly data: string };

const INSERT = `
  WITH appended AS (
    INSERT INTO events (id, at, kind, run_id, batch_id, playbook, fingerprint, data, prev_hash, hash)
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
  )
  UPDATE audit_head SET last_id = $11, last_hash = $12 WHERE id = 1`;

/**
 * The events one transaction appends, chained when it is about to commit. Several replicas append
 * to one chain, so the chain is extended under one transaction-scoped advisory lock: the flush
 * takes it, reads the head, gives the events the ids after the head's (no sequence: a rolled-back
 * transaction must leave no gap, which verify would report as a missing event), hashes them with
 * the domain's functions, inserts them and moves the head, and the lock is released by the commit
 * that follows. The lock is taken last in every transaction, after all its row locks, so it never
 * closes a deadlock cycle, and is held only for two statements and the commit: ids follow commit
 * order, so a reader paging by id never sees a later event before an earlier one.
 */
export class ChainAppender {
  private readonly queued: Queued[] = [];

  constructor(private readonly lockKey: number) {}

  /** Takes the chain's lock now (retention moves the chain's base under it); taken again at flush, which is harmless. */
  async lock(client: pg.ClientBase): Promise<void> {
    await client.query(`SELECT pg_advisory_xact_lock(${CHAIN_LOCK_CLASS}, ${this.lockKey})`);
  }

  /** Queues events; `now` is their time unless they or `defaults` give one. Throws for data with no JSON form. */
  add(events: readonly NewEvent[], defaults: Partial<NewEvent>, now: string): void {
    for (const e of events) {
      const merged = { ...defaults, ...e };
      const opt = (v: string | null | undefined) => (v === null || v === undefined ? null : withoutNul(v));
      this.queued.push({
        at: withoutNul(merged.at ?? now),
        kind: withoutNul(merged.kind) as Queued['kind'],
        runId: opt(merged.runId),
        batchId: opt(merged.batchId),
        playbook: opt(merged.playbook),
        fingerprint: opt(merged.fingerprint),
        data: canonicalJson(merged.data ?? {}),
      });
    }
  }

  /** Chains and inserts the queued events, in the transaction about to commit. */
  async flush(client: pg.ClientBase): Promise<void> {
    if (this.queued.length === 0) return;
    // Two statements in one round trip; each reads after the lock is granted (read committed takes
    // a snapshot per statement), so the head read is the one the previous holder committed.
    const results = (await client.query(
      `SELECT pg_advisory_xact_lock(${CHAIN_LOCK_CLASS}, ${this.lockKey}); SELECT last_id, last_hash FROM audit_head WHERE id = 1`,
    )) as unknown as pg.QueryResult<Row>[];
    const head = results[1]?.rows[0];
    if (head === undefined) {
      throw new RemediatorError(
        'store_unavailable',
        'the audit head (table audit_head) is missing: the trail was edited outside remediator; run remediator audit verify',
      );
    }
    const headId = Number(head['last_id']);
    let tip = { id: headId, hash: String(head['last_hash']) };
    const columns: unknown[][] = Array.from({ length: 10 }, () => []);
    for (const q of this.queued) {
      const fields = {
        id: tip.id + 1,
        at: q.at,
        kind: q.kind,
        runId: q.runId,
        batchId: q.batchId,
        playbook: q.playbook,
        fingerprint: q.fingerprint,
        prevHash: tip.hash,
      };
      const hash = hashCanonical(fields, q.data);
      [fields.id, fields.at, fields.kind, fields.runId, fields.batchId, fields.playbook, fields.fingerprint, q.data, fields.prevHash, hash].forEach((v, i) =>
        columns[i]?.push(v),
      );
      tip = { id: fields.id, hash };
    }
    this.queued.length = 0;
    try {
      await client.query(INSERT, [...columns.map(toParam), tip.id, tip.hash]);
    } catch (err) {
      const e = err as { code?: string; constraint?: string; detail?: string };
      if (e.code === '23505' && e.constraint === 'events_pkey') {
        const id = /\(id\)=\((\d+)\)/.exec(e.detail ?? '')?.[1] ?? String(headId + 1);
        throw new RemediatorError(
          'store_unavailable',
          `event ${id} exists beyond the audit head (event ${headId}): the trail was edited outside remediator; run remediator audit verify`,
          { cause: err },
        );
      }
      throw err;
    }
  }
}

/** The head, or null when its row is gone. */
export async function readAuditHead(client: Pick<pg.Pool, 'query'>): Promise<AuditHead | null> {
  const { rows } = await client.query<Row>('SELECT base_id, base_hash, last_id, last_hash FROM audit_head WHERE id = 1');
  const row = rows[0];
  if (!row) return null;
  return { baseId: Number(row['base_id']), baseHash: String(row['base_hash']), lastId: Number(row['last_id']), lastHash: String(row['last_hash']) };
}

/** The columns of a chained event, as toChainedEvent reads them. */
export const CHAIN_COLUMNS = 'id, at, kind, run_id, batch_id, playbook, fingerprint, data, prev_hash, hash';
