import Database from 'better-sqlite3';

/** Counts rows of a table in a daemon's SQLite file, read straight from disk. */
export function countRows(file: string, table: 'batches' | 'runs' | 'events' | 'run_steps', where = '1=1'): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}
