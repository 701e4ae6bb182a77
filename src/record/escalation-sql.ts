/**
 * The escalation queries, the same text for both stores but for the placeholders (SQLite `?`,
 * PostgreSQL `$n`) and the flag (SQLite 0/1, PostgreSQL BOOLEAN).
 */

/**
 * Live runs of one playbook and key since a time that ended without fixing it: failed or
 * interrupted, or succeeded for another alert instance (the alert fired again after it). A run
 * refused for its params has no steps and acted on nothing: it does not count.
 */
export function unfixedRunsSql(p: (n: number) => string, notDry: string): string {
  return `SELECT id, state, created_at, finished_at, reason FROM runs
    WHERE playbook = ${p(1)} AND target_key = ${p(2)} AND created_at >= ${p(3)} AND ${notDry}
      AND (state IN ('failed', 'interrupted') OR (state = 'succeeded' AND instance_key <> ${p(4)}))
      AND EXISTS (SELECT 1 FROM run_steps s WHERE s.run_id = runs.id)
    ORDER BY created_at, id LIMIT 50`;
}

/** The later of the window's start and the key's last clearing. */
export function countFrom(since: Date, lastCleared: unknown): string {
  const from = since.toISOString();
  return typeof lastCleared === 'string' && lastCleared > from ? lastCleared : from;
}
