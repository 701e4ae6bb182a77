import Database from 'better-sqlite3';
import type { ChainedEvent } from '../../src/domain/audit-chain.js';
import type { NewEvent } from '../../src/domain/run.js';

/** Counts rows of a table in a daemon's SQLite file, read straight from disk. */
export function countRows(file: string, table: 'batches' | 'runs' | 'events' | 'run_steps', where = '1=1'): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Runs SQL on a database file as an attacker with write access would: triggers are no obstacle. */
export function tamper(file: string, sql: string): void {
  const db = new Database(file);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

/** An events row as the hash sees it, with `data` (and `prevHash`) as given: what a forger rehashes. */
export function eventOfRow(
  row: Record<string, string | number | null>,
  data: Record<string, unknown>,
  prevHash = String(row['prev_hash']),
): Omit<ChainedEvent, 'hash'> {
  return {
    id: Number(row['id']),
    at: String(row['at']),
    kind: row['kind'] as NewEvent['kind'],
    runId: row['run_id'] as string | null,
    batchId: row['batch_id'] as string | null,
    playbook: row['playbook'] as string | null,
    fingerprint: row['fingerprint'] as string | null,
    data,
    prevHash,
  };
}
