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

/** Runs SQL on a database file as an attacker with write access would: triggers are no obstacle. */
export function tamper(file: string, sql: string): void {
  const db = new Database(file);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}
