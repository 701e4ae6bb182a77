import { AsyncLocalStorage } from 'node:async_hooks';
import type Database from 'better-sqlite3';

/** A decision slice in progress: open until its transaction ends; `done` resolves then. */
interface Slice {
  open: boolean;
  readonly done: Promise<void>;
}

/**
 * Store.withDecisionSlice on SQLite: one transaction (BEGIN IMMEDIATE … COMMIT) around many
 * store calls. better-sqlite3 answers synchronously and the store's promises resolve as
 * microtasks, so the slice's calls run back to back; each store method's own transaction becomes a
 * savepoint inside it. The connection is shared, so a call from outside the slice (found by its
 * async context) must not land in the slice's transaction, where a rollback would take it and
 * its commit would not be its own: it waits until the slice ends (`waitFor`).
 */
export class DecisionSlices {
  private readonly context = new AsyncLocalStorage<Slice>();
  private current: Slice | null = null;

  constructor(
    private readonly db: Database.Database,
    /** Forgets the audit chain's cached tip (after a rollback). */
    private readonly resetChain: () => void,
    /** What a failed BEGIN or COMMIT becomes (a busy or full disk: the store's error). */
    private readonly storeError: (err: unknown) => Error,
  ) {}

  /** True inside an open slice's own async context: the caller's calls join its transaction. */
  inside(): boolean {
    return this.context.getStore()?.open === true;
  }

  /** A promise to wait for before touching the connection, or null when the caller may go ahead. */
  waitFor(): Promise<void> | null {
    if (this.current === null || this.inside()) return null;
    return this.current.done;
  }

  /** Runs `fn` as one transaction; the caller holds the decision lock. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    let end!: () => void;
    const slice: Slice = { open: true, done: new Promise<void>((resolve) => (end = resolve)) };
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      end();
      throw this.storeError(err);
    }
    this.current = slice;
    try {
      const result = await this.context.run(slice, fn);
      try {
        this.db.exec('COMMIT');
      } catch (err) {
        throw this.storeError(err);
      }
      return result;
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.resetChain();
      throw err;
    } finally {
      slice.open = false;
      this.current = null;
      end();
    }
  }
}
