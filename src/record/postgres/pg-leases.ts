import type { Query } from './pg-reads.js';
import type { Tx } from './transaction.js';
import { INTERRUPTED_STEP_ERROR, interruptedEvents } from '../store-pieces.js';

/**
 * Leases: a replica executing a run renews its lease; a run whose lease ran out is interrupted
 * by whichever replica sweeps first (a conditional UPDATE: each run is interrupted once).
 */

/** Extends the leases of the named runs `owner` is executing; returns the ids renewed. */
export async function renewLeases(query: Query, owner: string, until: string, runIds: readonly string[]): Promise<string[]> {
  if (runIds.length === 0) return [];
  const rows = await query("UPDATE runs SET lease_until = $1 WHERE owner = $2 AND state = 'running' AND id = ANY($3::text[]) RETURNING id", [
    until,
    owner,
    [...runIds],
  ]);
  return rows.map((r) => String(r['id']));
}

/** Marks runs left `running` by a previous process as interrupted; returns their ids. */
export function interruptRunning(tx: Tx, at: string, reason: string): Promise<string[]> {
  return interruptWhere(tx, 'true', [], at, reason);
}

/** Marks `running` runs whose lease ran out before `at` as interrupted; returns their ids. */
export function interruptExpired(tx: Tx, at: string, reason: string): Promise<string[]> {
  return interruptWhere(tx, 'lease_until IS NOT NULL AND lease_until < $3', [at], at, reason);
}

/** Interrupts the running runs that also match `where` (parameters from $3), with their running step. */
async function interruptWhere(tx: Tx, where: string, args: readonly unknown[], at: string, reason: string): Promise<string[]> {
  const rows = await tx.rows(
    `UPDATE runs SET state = 'interrupted', reason = $1, updated_at = $2, finished_at = $2, active_key = NULL, active_lock = NULL
     WHERE state = 'running' AND ${where} RETURNING id, playbook, fingerprint, owner`,
    [reason, at, ...args],
  );
  const ids = rows.map((r) => String(r['id']));
  if (ids.length === 0) return ids;
  // A step that was running may or may not have done its work: say so, never "running" forever.
  await tx.rows("UPDATE run_steps SET state = 'interrupted', finished_at = $1, error = $2 WHERE run_id = ANY($3::text[]) AND state = 'running'", [
    at,
    INTERRUPTED_STEP_ERROR,
    ids,
  ]);
  tx.append(interruptedEvents(rows, at, reason));
  return ids;
}
