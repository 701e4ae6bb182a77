import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { RemediatorError } from '../../domain/errors.js';

/**
 * Opens a remediator SQLite file read-only and without the daemon's process lock, for the
 * commands that read it beside a running daemon (audit, report): in WAL mode a reader sees one
 * consistent snapshot while the writer goes on. It never migrates; it returns the schema version
 * so a reader can refuse a file too old for it. Throws a message naming the file and what is wrong.
 */
export function openReadOnly(file: string): { db: Database.Database; version: number } {
  if (!existsSync(file)) throw new RemediatorError('bad_request', `no database at ${file}: give the daemon's --db (or --config)`);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    // Waits out a checkpoint or the daemon's start-up migration rather than failing at once.
    db.pragma('busy_timeout = 5000');
  } catch (err) {
    throw new RemediatorError('store_unavailable', `cannot open SQLite database ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get() !== undefined;
    if (!hasTable) throw new RemediatorError('bad_request', `${file} is not a remediator database (no schema_migrations table)`);
    const version = (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
    return { db, version };
  } catch (err) {
    db.close();
    if (err instanceof RemediatorError) throw err;
    throw new RemediatorError('store_unavailable', `cannot read SQLite database ${file}: ${(err as Error).message}`, { cause: err });
  }
}
