import type { Store } from '../domain/store.js';
import { redactUrl, splitSchema } from './postgres/pg-connection.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

/** True for a PostgreSQL URL (postgres:// or postgresql://); anything else is an SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** The database as a message may name it: a file path, or the URL without its password. */
export function describeStore(db: string): string {
  return isPostgresUrl(db) ? redactUrl(db) : db;
}

/**
 * Opens the store the configuration names: an SQLite file (one process, the default), or a
 * PostgreSQL URL that several replicas share. `?schema=NAME` on the URL picks a schema other
 * than the connection's default (it is created if missing); the other parameters go to the driver.
 */
export async function openStore(db: string, clock: () => Date): Promise<Store> {
  if (!isPostgresUrl(db)) return SqliteStore.open(db, clock);
  const { url, schema } = splitSchema(new URL(db));
  return PostgresStore.open(url, { clock, ...(schema ? { schema } : {}) });
}
