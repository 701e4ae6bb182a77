import type pg from 'pg';
import type { RemediatorError } from '../../domain/errors.js';
import { DECISION_LOCK_CLASS } from './pg-connection.js';

/**
 * The decision lock every replica on the database shares (Store.withDecisionLock): holders in
 * this process queue in memory, in call order, and the one at the front takes a session advisory
 * lock on its own connection, which holders in other processes wait for. A session lock rather
 * than a transaction's: the holder's work runs on other connections and may take longer than
 * the idle-in-transaction timeout. If the process dies, its session ends and the lock with it.
 */
export class DecisionLock {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly key: number,
    private readonly error: (what: string, err: unknown) => RemediatorError,
  ) {}

  /** Runs `fn` holding the lock; a holder that throws releases it like any other. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(() => this.holding(fn));
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async holding<T>(fn: () => Promise<T>): Promise<T> {
    let client: pg.PoolClient | null = null;
    let broken = false;
    const onError = () => {
      broken = true;
    };
    try {
      client = await this.pool.connect();
      client.on('error', onError);
      await client.query('SELECT pg_advisory_lock($1, $2)', [DECISION_LOCK_CLASS, this.key]);
    } catch (err) {
      client?.off('error', onError);
      client?.release(true);
      throw this.error('taking the decision lock', err);
    }
    try {
      return await fn();
    } finally {
      // A connection that cannot unlock is discarded: its session, and the lock, end with it.
      await client.query('SELECT pg_advisory_unlock($1, $2)', [DECISION_LOCK_CLASS, this.key]).catch(() => {
        broken = true;
      });
      client.off('error', onError);
      client.release(broken);
    }
  }
}
