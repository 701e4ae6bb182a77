import type Database from 'better-sqlite3';
import type { NewEvent } from '../../domain/run.js';

/**
 * What the store's method bodies (approvals.ts, batches.ts, guards.ts, …) use of SqliteStore.
 * They run inside the transaction the store opened around them, or none for a single read;
 * they never open one themselves.
 */
export interface SqliteContext {
  /** The statement for this SQL text, prepared once per store. */
  sql(text: string): Database.Statement;
  /** Appends events to the hash chain; only inside the store's transaction. */
  insertEvents(events: readonly NewEvent[], defaults?: Partial<NewEvent>): void;
  /** The store's clock. */
  readonly clock: () => Date;
}
