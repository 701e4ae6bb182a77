import { performance } from 'node:perf_hooks';
import type Database from 'better-sqlite3';

/** Callers one shared transaction takes at most, and how long it may go on adding callers. */
export const GROUP_MAX_CALLERS = 64;
export const GROUP_BUDGET_MS = 4;

/** One caller's write waiting for the commit that holds it. */
interface Waiting {
  readonly body: () => unknown;
  /** Its commit must reach the disk (synchronous=FULL) before it is answered. */
  readonly durable: boolean;
  readonly what: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/** How a caller's body ended inside the shared transaction. */
type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly err: unknown };

/** What the queue uses of the store. */
export interface WriteQueueDeps {
  readonly db: Database.Database;
  /**
   * Runs a body as the store's transaction (db.transaction, with the audit head written at its
   * end): a savepoint when a transaction is open, so one body that throws rolls back only itself.
   */
  readonly transaction: (body: () => unknown) => unknown;
  /** A promise to wait for before touching the connection (an open decision slice), or null. */
  readonly waitFor: () => Promise<void> | null;
  /** Forgets the audit chain's cached tip (after the shared transaction was rolled back). */
  readonly resetChain: () => void;
  /** What a failed write becomes. */
  readonly storeError: (what: string, err: unknown) => Error;
}

/**
 * Group commit for the store's small writes (a run's transitions, its events, claims): the
 * callers of one event-loop turn are written in one `BEGIN IMMEDIATE … COMMIT`, each body a
 * savepoint inside it, on the next `setImmediate`. Many runs moving at once then share the WAL
 * pages they all touch (the events table's and its indexes' last pages, the audit head) instead of
 * each writing its own copies. What each caller is promised stays its own:
 *
 * - its promise settles only after the COMMIT that holds its write (synchronous=FULL for that
 *   commit when any caller in it asked for a durable write);
 * - a body that throws rolls back to its savepoint: only its own work is undone, and only it fails;
 * - a shared transaction that cannot commit (or that SQLite rolled back whole, a full disk) loses
 *   nobody's write silently: every caller of it is written again alone, as if there were no group;
 * - callers are taken in the order they called (a run awaits each write before its next, so its
 *   writes stay in order), and the audit chain is appended in that order, one chain;
 * - a shared transaction takes at most GROUP_MAX_CALLERS callers and stops taking more after
 *   GROUP_BUDGET_MS, so the event loop is never held long; the rest go in the next one.
 *
 * A body runs synchronously on the one connection, so its reads see its own writes. Not for calls
 * inside a decision slice (they join the slice's transaction), and it never writes while a slice's
 * transaction is open.
 */
export class WriteQueue {
  private readonly waiting: Waiting[] = [];
  private scheduled = false;

  constructor(private readonly deps: WriteQueueDeps) {}

  /** Queues a write; resolves with what `body` returned, once the commit holding it is done. */
  write<T>(what: string, body: () => T, durable: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ body, durable, what, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Writes what is queued now, in as many shared transactions as it takes (closing the store). */
  drain(): void {
    while (this.waiting.length > 0 && this.deps.waitFor() === null && this.deps.db.open) this.commitGroup();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.waiting.length === 0) return;
    const wait = this.deps.waitFor();
    if (wait !== null) {
      this.scheduled = true;
      void wait.then(() => this.flush());
      return;
    }
    this.commitGroup();
    if (this.waiting.length > 0) this.schedule();
  }

  /** One shared transaction: the first callers in the queue, within the caps. */
  private commitGroup(): void {
    const { db } = this.deps;
    const durable = this.waiting.slice(0, GROUP_MAX_CALLERS).some((w) => w.durable);
    const group: Waiting[] = [];
    const outcomes: Outcome[] = [];
    let committed = false;
    withSync(db, durable, () => {
      try {
        db.exec('BEGIN IMMEDIATE');
      } catch {
        // Not even a transaction: each caller on its own below says why.
        group.push(this.waiting.shift() as Waiting);
        return;
      }
      const started = performance.now();
      do {
        const next = this.waiting.shift() as Waiting;
        group.push(next);
        outcomes.push(this.attempt(next));
        // SQLite rolled the whole transaction back (a full disk, an I/O error): what the earlier
        // callers wrote is gone with it.
        if (!db.inTransaction) return;
      } while (this.waiting.length > 0 && group.length < GROUP_MAX_CALLERS && performance.now() - started < GROUP_BUDGET_MS);
      try {
        db.exec('COMMIT');
        committed = true;
      } catch {
        if (db.inTransaction) db.exec('ROLLBACK');
      }
    });
    if (committed) {
      group.forEach((w, i) => settle(w, outcomes[i] as Outcome, this.deps.storeError));
      return;
    }
    this.deps.resetChain();
    for (const w of group) withSync(db, w.durable, () => settle(w, this.attempt(w), this.deps.storeError));
  }

  private attempt(w: Waiting): Outcome {
    try {
      return { ok: true, value: this.deps.transaction(w.body) };
    } catch (err) {
      return { ok: false, err };
    }
  }
}

function settle(w: Waiting, outcome: Outcome, storeError: (what: string, err: unknown) => Error): void {
  if (outcome.ok) w.resolve(outcome.value);
  else w.reject(storeError(w.what, outcome.err));
}

/**
 * Runs `fn` with synchronous=FULL when `durable` (its commit is synced to the disk before it
 * returns), NORMAL otherwise: in WAL mode a NORMAL commit survives a crash of the process, and the
 * next durable commit syncs it too.
 */
export function withSync<T>(db: Database.Database, durable: boolean, fn: () => T): T {
  if (!durable) return fn();
  db.pragma('synchronous = FULL');
  try {
    return fn();
  } finally {
    db.pragma('synchronous = NORMAL');
  }
}
